#include "store/database.h"

#include <SQLiteCpp/SQLiteCpp.h>
#include <sqlite3.h>

#include <mutex>
#include <nlohmann/json.hpp>

#include "core/log.h"
#include "store/keys.h"
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

// vaxbot_key(text): wamid_key() for SQL (migration 6); NULL stays NULL.
void sql_wamid_key(sqlite3_context* ctx, int, sqlite3_value** argv) {
  if (sqlite3_value_type(argv[0]) == SQLITE_NULL) {
    sqlite3_result_null(ctx);
    return;
  }
  const auto* text = reinterpret_cast<const char*>(sqlite3_value_text(argv[0]));
  const int n = sqlite3_value_bytes(argv[0]);
  sqlite3_result_int64(ctx, wamid_key(std::string_view(text, static_cast<std::size_t>(n))));
}

bool is_words(core::MessageKind k) {
  return k == core::MessageKind::kText || k == core::MessageKind::kButtonReply ||
         k == core::MessageKind::kListReply || k == core::MessageKind::kButton;
}

// What the transcript shows of a message: its words; other kinds named in brackets.
std::string line_text(const core::InboundMessage& m, const std::string& words) {
  if (is_words(m.kind)) return words;
  return "[" + std::string(core::to_string(m.kind)) + "]" + (words.empty() ? "" : " " + words);
}

// What only media, locations, contacts and unusable kinds carry; empty for
// words and taps (their ids and row descriptions are our own, already in the text).
std::string details_json(const core::InboundMessage& m, const std::string& description) {
  if (is_words(m.kind)) return {};
  nlohmann::json j = nlohmann::json::object();
  auto put = [&](const char* name, const std::string& v) {
    if (!v.empty()) j[name] = v;
  };
  put("description", description);
  put("media_id", m.media_id);
  put("mime_type", m.mime_type);
  put("filename", m.filename);
  put("detail", m.detail);
  if (m.latitude) j["latitude"] = *m.latitude;
  if (m.longitude) j["longitude"] = *m.longitude;
  if (m.error_code != 0) j["error_code"] = m.error_code;
  put("error_title", m.error_title);
  return j.empty() ? std::string() : j.dump();
}

}  // namespace

struct Database::Impl {
  SQLite::Database db;
  std::unique_ptr<SQLite::Statement> find_message, insert_message, insert_status, insert_unusable,
      ping;
  std::unique_ptr<SQLite::Statement> begin, commit, rollback;
  std::function<std::string(std::string_view)> redact;
  std::string line, details;  // kept alive while a statement binds them

  // NOMUTEX: a Database is used by one thread at a time (the header's
  // contract), so SQLite need not lock the connection on every call.
  explicit Impl(const DatabaseOptions& o)
      : db(o.path,
           (o.read_only ? SQLite::OPEN_READONLY : SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE) |
               SQLite::OPEN_NOMUTEX,
           o.busy_timeout_ms) {}
};

Database::Database(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Database::~Database() = default;

core::Result<std::unique_ptr<Database>> Database::open(const DatabaseOptions& options) {
  auto log = core::logger("store");
  // SQLite counts its memory under one process-wide mutex on every allocation
  // (about half of its 900,000 lock entries in a 15 s surge); vaxbot never asks
  // for the count. Possible only before SQLite initialises: a program that
  // already used SQLite keeps the count, which costs time, not correctness.
  static std::once_flag no_memory_count;
  std::call_once(no_memory_count, [&] {
    if (sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0) != SQLITE_OK) {
      log->debug("SQLite already initialised: memory statistics stay on");
    }
  });
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
      if (sqlite3_create_function_v2(db.getHandle(), "vaxbot_key", 1,
                                     SQLITE_UTF8 | SQLITE_DETERMINISTIC, nullptr, sql_wamid_key,
                                     nullptr, nullptr, nullptr) != SQLITE_OK) {
        return core::make_error(ErrorCode::kInternal, "cannot register vaxbot_key()");
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
      impl->find_message = std::make_unique<SQLite::Statement>(
          db, "SELECT 1 FROM messages WHERE wamid_key = ?1 AND wamid = ?2 AND outbound = 0");
      impl->insert_message = std::make_unique<SQLite::Statement>(db, R"sql(
        INSERT INTO messages (resident, outbound, kind, text, at, details, wamid, wamid_key)
        VALUES (?1, 0, ?2, ?3, ?4, ?5, ?6, ?7))sql");
      impl->insert_status = std::make_unique<SQLite::Statement>(db, R"sql(
        INSERT INTO statuses (message_id, state, recipient, sent_at, received_at, error_code,
                              error_title, error_detail)
        VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
        ON CONFLICT (message_id, state) DO NOTHING)sql");
      impl->insert_unusable = std::make_unique<SQLite::Statement>(
          db,
          "INSERT INTO unusable (location, reason, message_id, received_at) VALUES (?, ?, ?, ?)");
      // IMMEDIATE: every transaction of the writer writes, and the first thing it
      // does may be a read (de-duplication); taking the write lock at BEGIN waits
      // out another writer (import-slots) instead of failing on a stale snapshot.
      impl->begin = std::make_unique<SQLite::Statement>(db, "BEGIN IMMEDIATE");
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
      // De-duplication: Meta's id, found by its key (the key alone may collide).
      const std::int64_t key = wamid_key(m->id);
      SQLite::Statement& f = *impl_->find_message;
      f.reset();
      f.bind(1, key);
      bind_text(f, 2, m->id);
      const bool seen = f.executeStep();
      f.reset();
      if (seen) return Recorded::kDuplicate;
      const auto& redact = impl_->redact;
      impl_->line = line_text(*m, redact ? redact(m->text) : m->text);
      impl_->details = details_json(*m, redact ? redact(m->description) : m->description);
      SQLite::Statement& s = *impl_->insert_message;
      s.reset();
      bind_text(s, 1, m->from);
      s.bind(2, std::string(core::to_string(m->kind)));
      bind_text(s, 3, impl_->line);
      s.bind(4, received_at_ms);
      if (impl_->details.empty())
        s.bind(5);
      else
        bind_text(s, 5, impl_->details);
      bind_text(s, 6, m->id);
      s.bind(7, key);
      s.exec();
      return Recorded::kNew;
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
