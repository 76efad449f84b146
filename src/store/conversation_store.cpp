#include "store/conversation_store.h"

#include <SQLiteCpp/SQLiteCpp.h>

#include "core/message.h"

namespace vaxbot::store {
namespace {

core::Error failure(const std::exception& e, const char* what) {
  return core::make_error(core::ErrorCode::kUnavailable, std::string(what) + ": " + e.what());
}

}  // namespace

struct ConversationStore::Impl {
  SQLite::Database& db;
  SQLite::Statement get_session, put_session, add_line, add_outbox, add_body, outbox_after,
      greeting_queued;

  explicit Impl(SQLite::Database& connection)
      : db(connection),
        get_session(db,
                    "SELECT flow, step, language, vars, misses, page, pending, updated_at "
                    "FROM sessions WHERE resident = ?"),
        put_session(db, R"sql(
          INSERT INTO sessions (resident, flow, step, language, vars, misses, page, pending, updated_at)
          VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
          ON CONFLICT (resident) DO UPDATE SET flow = ?2, step = ?3, language = ?4, vars = ?5,
            misses = ?6, page = ?7, pending = ?8, updated_at = ?9)sql"),
        add_line(db,
                 "INSERT INTO transcript (resident, direction, message_id, kind, text, step, at, "
                 "status) "
                 "VALUES (?, ?, ?, ?, ?, ?, ?, ?)"),
        add_outbox(db,
                   "INSERT INTO outbox (recipient, priority, status, next_attempt_at, "
                   "transcript_seq, created_at, template) VALUES (?, ?, ?, ?, ?, ?, ?)"),
        add_body(db, "INSERT INTO outbox_body (id, body) VALUES (?, ?)"),
        outbox_after(db,
                     "SELECT o.id, o.recipient, coalesce(b.body, ''), o.priority, o.status, "
                     "o.transcript_seq, o.created_at FROM outbox o "
                     "LEFT JOIN outbox_body b ON b.id = o.id WHERE o.id > ? ORDER BY o.id"),
        // Served by the partial index outbox_queued_greetings (migration 6).
        greeting_queued(db,
                        "SELECT EXISTS (SELECT 1 FROM outbox WHERE recipient = ? AND status = "
                        "'queued' AND priority = 1)") {}
};

ConversationStore::ConversationStore(Database& db) : impl_(std::make_unique<Impl>(db.handle())) {}
ConversationStore::~ConversationStore() = default;

core::Result<std::optional<SessionRow>> ConversationStore::session(const std::string& resident) {
  try {
    auto& s = impl_->get_session;
    s.reset();
    s.bind(1, resident);
    if (!s.executeStep()) return std::optional<SessionRow>();
    SessionRow row;
    row.resident = resident;
    row.flow = s.getColumn(0).getString();
    row.step = s.getColumn(1).getString();
    row.language = s.getColumn(2).getString();
    row.vars_json = s.getColumn(3).getString();
    row.misses = s.getColumn(4).getInt();
    row.page = s.getColumn(5).getInt();
    row.pending = s.getColumn(6).getString();
    row.updated_ms = s.getColumn(7).getInt64();
    return std::optional<SessionRow>(std::move(row));
  } catch (const std::exception& e) {
    return failure(e, "read session");
  }
}

core::Status ConversationStore::save_session(const SessionRow& row) {
  try {
    auto& s = impl_->put_session;
    s.reset();
    s.bind(1, row.resident);
    s.bind(2, row.flow);
    s.bind(3, row.step);
    s.bind(4, row.language);
    s.bind(5, row.vars_json);
    s.bind(6, row.misses);
    s.bind(7, row.page);
    s.bind(8, row.pending);
    s.bind(9, row.updated_ms);
    s.exec();
    return core::ok_status();
  } catch (const std::exception& e) {
    return failure(e, "save session");
  }
}

core::Result<std::int64_t> ConversationStore::append_transcript(const TranscriptLine& line) {
  try {
    auto& s = impl_->add_line;
    s.reset();
    s.bind(1, line.resident);
    s.bind(2, line.direction);
    s.bind(3, line.message_id);
    s.bind(4, line.kind);
    s.bind(5, line.text);
    s.bind(6, line.step);
    s.bind(7, line.at_ms);
    s.bind(8, line.status);
    s.exec();
    return impl_->db.getLastInsertRowid();
  } catch (const std::exception& e) {
    return failure(e, "append transcript");
  }
}

core::Result<std::int64_t> ConversationStore::enqueue(const OutboxRow& row) {
  try {
    static_assert(core::priority::kGreeting == 1, "migration 6 indexes priority = 1");
    int priority = row.priority;
    if (priority < core::priority::kGreeting) {
      auto& q = impl_->greeting_queued;
      q.reset();
      q.bind(1, row.recipient);
      if (q.executeStep() && q.getColumn(0).getInt() != 0) priority = core::priority::kGreeting;
      q.reset();
    }
    auto& s = impl_->add_outbox;
    s.reset();
    s.bind(1, row.recipient);
    s.bind(2, priority);
    s.bind(3, row.status);
    s.bind(4, row.created_ms);
    s.bind(5, row.transcript_seq);
    s.bind(6, row.created_ms);
    s.bind(7, row.template_message ? 1 : 0);
    s.exec();
    const std::int64_t id = impl_->db.getLastInsertRowid();
    auto& b = impl_->add_body;
    b.reset();
    b.bind(1, id);
    b.bind(2, row.body);
    b.exec();
    return id;
  } catch (const std::exception& e) {
    return failure(e, "enqueue reply");
  }
}

core::Result<std::vector<OutboxRow>> ConversationStore::outbox_after(std::int64_t after_id) {
  try {
    auto& s = impl_->outbox_after;
    s.reset();
    s.bind(1, after_id);
    std::vector<OutboxRow> out;
    while (s.executeStep()) {
      OutboxRow r;
      r.id = s.getColumn(0).getInt64();
      r.recipient = s.getColumn(1).getString();
      r.body = s.getColumn(2).getString();
      r.priority = s.getColumn(3).getInt();
      r.status = s.getColumn(4).getString();
      r.transcript_seq = s.getColumn(5).getInt64();
      r.created_ms = s.getColumn(6).getInt64();
      out.push_back(std::move(r));
    }
    return out;
  } catch (const std::exception& e) {
    return failure(e, "read outbox");
  }
}

}  // namespace vaxbot::store
