#include "store/database.h"

#include <SQLiteCpp/SQLiteCpp.h>
#include <sqlite3.h>

#include "core/log.h"
#include "store/schema.h"

namespace vaxbot::store {
namespace {

using core::ErrorCode;

core::Error sqlite_error(const std::exception& e, const char* what) {
  // SQLITE_BUSY/FULL/IOERR and friends are conditions to retry later, never bugs of the caller.
  return core::make_error(ErrorCode::kUnavailable, std::string(what) + ": " + e.what());
}

// Binds text without a copy: the event outlives the statement's exec().
void bind_text(SQLite::Statement& s, int index, const std::string& v) {
  s.bindNoCopy(index, v);
}

}  // namespace

struct Database::Impl {
  SQLite::Database db;
  std::unique_ptr<SQLite::Statement> insert_message, insert_status, insert_unusable, prune, ping;
  std::unique_ptr<SQLite::Statement> begin, commit, rollback;
  std::function<std::string(std::string_view)> redact;
  std::string redacted_text, redacted_description;  // kept alive while a statement binds them

  explicit Impl(const DatabaseOptions& o)
      : db(o.path,
           o.read_only ? SQLite::OPEN_READONLY : SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE,
           o.busy_timeout_ms) {}
};

Database::Database(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Database::~Database() = default;

core::Result<std::unique_ptr<Database>> Database::open(const DatabaseOptions& options) {
  auto log = core::logger("store");
  try {
    auto impl = std::make_unique<Impl>(options);
    impl->redact = options.redact;
    SQLite::Database& db = impl->db;
    if (!options.read_only) {
      db.exec("PRAGMA journal_mode = WAL");
      db.exec(options.synchronous == Synchronous::kFull ? "PRAGMA synchronous = FULL"
                                                        : "PRAGMA synchronous = NORMAL");
      db.exec("PRAGMA foreign_keys = ON");
      if (!options.checkpoint_on_commit) db.exec("PRAGMA wal_autocheckpoint = 0");
      if (options.max_page_count > 0) {
        db.exec("PRAGMA max_page_count = " + std::to_string(options.max_page_count));
      }
      int version = db.execAndGet("PRAGMA user_version").getInt();
      if (version > static_cast<int>(kMigrations.size())) {
        return core::make_error(ErrorCode::kInvalidInput,
                                options.path + " has schema version " + std::to_string(version) +
                                    ", newer than this vaxbot knows (" +
                                    std::to_string(kMigrations.size()) + ")");
      }
      for (auto v = static_cast<std::size_t>(version); v < kMigrations.size(); ++v) {
        SQLite::Transaction tx(db, SQLite::TransactionBehavior::IMMEDIATE);
        db.exec(std::string(kMigrations[v]));
        db.exec("PRAGMA user_version = " + std::to_string(v + 1));
        tx.commit();
        log->info("{}: schema migrated to version {}", options.path, v + 1);
      }
      impl->insert_message = std::make_unique<SQLite::Statement>(db, R"sql(
        INSERT INTO inbox (message_id, resident, profile_name, phone_number_id, kind, sent_at,
                           received_at, text, reply_id, description, media_id, mime_type, filename,
                           detail, latitude, longitude, error_code, error_title, context_id)
        VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)
        ON CONFLICT (message_id) DO NOTHING)sql");
      impl->insert_status = std::make_unique<SQLite::Statement>(db, R"sql(
        INSERT INTO statuses (message_id, state, recipient, sent_at, received_at, error_code,
                              error_title, error_detail)
        VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
        ON CONFLICT (message_id, state) DO NOTHING)sql");
      impl->insert_unusable = std::make_unique<SQLite::Statement>(
          db,
          "INSERT INTO unusable (location, reason, message_id, received_at) VALUES (?, ?, ?, ?)");
      // Oldest first by arrival order; stops at the first row young enough to keep.
      impl->prune = std::make_unique<SQLite::Statement>(db, R"sql(
        DELETE FROM inbox WHERE seq IN (
          SELECT seq FROM inbox WHERE received_at < ?1 ORDER BY seq LIMIT ?2))sql");
      impl->begin = std::make_unique<SQLite::Statement>(db, "BEGIN");
      impl->commit = std::make_unique<SQLite::Statement>(db, "COMMIT");
      impl->rollback = std::make_unique<SQLite::Statement>(db, "ROLLBACK");
    }
    impl->ping = std::make_unique<SQLite::Statement>(db, "SELECT count(*) FROM sqlite_schema");
    return std::unique_ptr<Database>(new Database(std::move(impl)));
  } catch (const std::exception& e) {
    return sqlite_error(e, ("cannot open " + options.path).c_str());
  }
}

namespace {

core::Status run(SQLite::Statement& s, const char* what) {
  try {
    s.reset();
    s.exec();
    return core::ok_status();
  } catch (const std::exception& e) {
    return sqlite_error(e, what);
  }
}

}  // namespace

core::Status Database::begin() {
  return run(*impl_->begin, "begin");
}
core::Status Database::commit() {
  // A SELECT stepped to its first row and left unfinished keeps a read
  // transaction open past COMMIT; the next write would then see an old
  // snapshot and fail with "database is locked" as soon as another connection
  // (import-slots, a test) has written. Reset every statement first.
  sqlite3* handle = impl_->db.getHandle();
  for (sqlite3_stmt* st = sqlite3_next_stmt(handle, nullptr); st != nullptr;
       st = sqlite3_next_stmt(handle, st)) {
    if (sqlite3_stmt_busy(st)) sqlite3_reset(st);
  }
  return run(*impl_->commit, "commit");
}

void Database::rollback() {
  if (impl_->db.getHandle() == nullptr) return;
  try {
    impl_->rollback->reset();
    impl_->rollback->exec();
  } catch (const std::exception&) {
    // No transaction open (SQLite already rolled back on error): nothing to undo.
  }
}

core::Result<Recorded> Database::record(const core::Event& event, std::int64_t received_at_ms) {
  try {
    if (const auto* m = std::get_if<core::InboundMessage>(&event)) {
      SQLite::Statement& s = *impl_->insert_message;
      s.reset();
      bind_text(s, 1, m->id);
      bind_text(s, 2, m->from);
      bind_text(s, 3, m->profile_name);
      bind_text(s, 4, m->phone_number_id);
      s.bind(5, std::string(core::to_string(m->kind)));
      s.bind(6, m->timestamp);
      s.bind(7, received_at_ms);
      const std::string* text = &m->text;
      const std::string* description = &m->description;
      if (impl_->redact) {
        impl_->redacted_text = impl_->redact(m->text);
        impl_->redacted_description = impl_->redact(m->description);
        text = &impl_->redacted_text;
        description = &impl_->redacted_description;
      }
      bind_text(s, 8, *text);
      bind_text(s, 9, m->reply_id);
      bind_text(s, 10, *description);
      bind_text(s, 11, m->media_id);
      bind_text(s, 12, m->mime_type);
      bind_text(s, 13, m->filename);
      bind_text(s, 14, m->detail);
      if (m->latitude)
        s.bind(15, *m->latitude);
      else
        s.bind(15);
      if (m->longitude)
        s.bind(16, *m->longitude);
      else
        s.bind(16);
      s.bind(17, m->error_code);
      bind_text(s, 18, m->error_title);
      bind_text(s, 19, m->context_id);
      return s.exec() == 1 ? Recorded::kNew : Recorded::kDuplicate;
    }
    if (const auto* st = std::get_if<core::StatusUpdate>(&event)) {
      SQLite::Statement& s = *impl_->insert_status;
      s.reset();
      bind_text(s, 1, st->message_id);
      s.bind(2, std::string(core::to_string(st->state)));
      bind_text(s, 3, st->recipient);
      s.bind(4, st->timestamp);
      s.bind(5, received_at_ms);
      s.bind(6, st->error_code);
      bind_text(s, 7, st->error_title);
      bind_text(s, 8, st->error_detail);
      return s.exec() == 1 ? Recorded::kNew : Recorded::kDuplicate;
    }
    const auto& u = std::get<core::Unusable>(event);
    SQLite::Statement& s = *impl_->insert_unusable;
    s.reset();
    bind_text(s, 1, u.where);
    bind_text(s, 2, u.reason);
    bind_text(s, 3, u.id);
    s.bind(4, received_at_ms);
    s.exec();
    return Recorded::kNew;
  } catch (const std::exception& e) {
    return sqlite_error(e, "record event");
  }
}

core::Result<int> Database::prune_inbox(std::int64_t cutoff_ms, int limit) {
  try {
    SQLite::Statement& s = *impl_->prune;
    s.reset();
    s.bind(1, cutoff_ms);
    s.bind(2, limit);
    return s.exec();
  } catch (const std::exception& e) {
    return sqlite_error(e, "prune inbox");
  }
}

core::Status Database::ping() {
  try {
    SQLite::Statement& s = *impl_->ping;
    s.reset();
    if (!s.executeStep()) return core::make_error(ErrorCode::kUnavailable, "ping returned no row");
    return core::ok_status();
  } catch (const std::exception& e) {
    return sqlite_error(e, "ping");
  }
}

SQLite::Database& Database::handle() {
  return impl_->db;
}

core::Status Database::checkpoint(Checkpoint mode) {
  try {
    impl_->db.exec(mode == Checkpoint::kPassive ? "PRAGMA wal_checkpoint(PASSIVE)"
                                                : "PRAGMA wal_checkpoint(TRUNCATE)");
    return core::ok_status();
  } catch (const std::exception& e) {
    return sqlite_error(e, "checkpoint");
  }
}

int Database::schema_version() const {
  try {
    return impl_->db.execAndGet("PRAGMA user_version").getInt();
  } catch (const std::exception&) {
    return -1;
  }
}

}  // namespace vaxbot::store
