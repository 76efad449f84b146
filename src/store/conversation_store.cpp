#include "store/conversation_store.h"

#include <SQLiteCpp/SQLiteCpp.h>

#include <string_view>

#include "core/json.h"
#include "core/message.h"
#include "store/keys.h"

namespace vaxbot::store {
namespace {

core::Error failure(const std::exception& e, const char* what) {
  return core::make_error(core::ErrorCode::kUnavailable, std::string(what) + ": " + e.what());
}

// The most values a line carries: the transcript view passes this many to printf().
constexpr std::size_t kMaxValues = 12;
constexpr std::int64_t kLargestTextId = 0x7fffffff;

void append_literal(std::string& format, std::string_view piece) {
  for (std::size_t percent; (percent = piece.find('%')) != std::string_view::npos;) {
    format.append(piece.substr(0, percent + 1));
    format += '%';
    piece.remove_prefix(percent + 1);
  }
  format.append(piece);
}

// The reply's text as a printf() format and a JSON array of its values (empty
// when there are none). Too many values, and the text is stored whole.
std::pair<std::string, std::string> encode(const Reply& r) {
  std::string format, args;
  if (r.values.size() + 1 == r.pieces.size() && r.values.size() <= kMaxValues) {
    if (!r.values.empty()) args = core::json_array(r.values);
    for (std::size_t i = 0; i < r.pieces.size(); ++i) {
      if (i > 0) format += "%s";
      append_literal(format, r.pieces[i]);
    }
    return {format, args};
  }
  std::string whole;
  for (std::size_t i = 0; i < r.pieces.size(); ++i) {
    if (i > 0 && i - 1 < r.values.size()) whole += r.values[i - 1];
    whole += r.pieces[i];
  }
  append_literal(format, whole);
  return {format, ""};
}

}  // namespace

struct ConversationStore::Impl {
  SQLite::Database& db;
  SQLite::Statement get_session, put_session, set_step, find_text, add_text, add_line, add_outbox,
      outbox_after, greeting_queued;

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
        set_step(
            db,
            "UPDATE messages SET step = ?3 WHERE wamid_key = ?1 AND wamid = ?2 AND outbound = 0"),
        find_text(db, "SELECT key = ?2 AND format = ?3 FROM texts WHERE id = ?1"),
        add_text(db, "INSERT INTO texts (id, key, format) VALUES (?, ?, ?)"),
        add_line(db,
                 "INSERT INTO messages (resident, outbound, text_id, args, step, status, at) "
                 "VALUES (?, 1, ?, ?, ?, 'queued', ?)"),
        add_outbox(db,
                   "INSERT INTO outbox (id, recipient, priority, template, next_attempt_at, "
                   "created_at, body) VALUES (?, ?, ?, ?, ?, ?, ?)"),
        outbox_after(db,
                     "SELECT id, recipient, body, priority, status, created_at FROM outbox "
                     "WHERE id > ? ORDER BY id"),
        // Served by the partial index outbox_queued_greetings (migration 6).
        greeting_queued(db,
                        "SELECT EXISTS (SELECT 1 FROM outbox WHERE recipient = ? AND status = "
                        "'queued' AND priority = 1)") {}

  // The id of the texts row holding (key, format), added if new: the key of
  // its content, or the next free one up when another text holds that.
  std::int64_t text_id(const std::string& key, const std::string& format) {
    std::int64_t id = text_key(key, format);
    for (;;) {
      find_text.reset();
      find_text.bind(1, id);
      find_text.bind(2, key);
      find_text.bind(3, format);
      if (!find_text.executeStep()) break;  // free: ours
      const bool same = find_text.getColumn(0).getInt() != 0;
      find_text.reset();
      if (same) return id;
      id = id == kLargestTextId ? 1 : id + 1;
    }
    find_text.reset();
    add_text.reset();
    add_text.bind(1, id);
    add_text.bind(2, key);
    add_text.bind(3, format);
    add_text.exec();
    return id;
  }
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

core::Status ConversationStore::set_step(const std::string& message_id, const std::string& step) {
  try {
    auto& s = impl_->set_step;
    s.reset();
    s.bind(1, wamid_key(message_id));
    s.bind(2, message_id);
    s.bind(3, step);
    s.exec();
    return core::ok_status();
  } catch (const std::exception& e) {
    return failure(e, "note the step of a message");
  }
}

core::Result<std::int64_t> ConversationStore::queue_reply(const Reply& r) {
  try {
    const auto [format, args] = encode(r);
    const std::int64_t text_id = impl_->text_id(r.key, format);
    auto& line = impl_->add_line;
    line.reset();
    line.bind(1, r.resident);
    line.bind(2, text_id);
    if (args.empty())
      line.bind(3);
    else
      line.bind(3, args);
    line.bind(4, r.step);
    line.bind(5, r.at_ms);
    line.exec();
    const std::int64_t id = impl_->db.getLastInsertRowid();
    static_assert(core::priority::kGreeting == 1, "migration 6 indexes priority = 1");
    int priority = r.priority;
    if (priority < core::priority::kGreeting) {
      auto& q = impl_->greeting_queued;
      q.reset();
      q.bind(1, r.resident);
      if (q.executeStep() && q.getColumn(0).getInt() != 0) priority = core::priority::kGreeting;
      q.reset();
    }
    auto& s = impl_->add_outbox;
    s.reset();
    s.bind(1, id);
    s.bind(2, r.resident);
    s.bind(3, priority);
    s.bind(4, r.template_message ? 1 : 0);
    s.bind(5, r.at_ms);
    s.bind(6, r.at_ms);
    s.bind(7, r.body);
    s.exec();
    return id;
  } catch (const std::exception& e) {
    return failure(e, "queue a reply");
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
      r.created_ms = s.getColumn(5).getInt64();
      out.push_back(std::move(r));
    }
    return out;
  } catch (const std::exception& e) {
    return failure(e, "read outbox");
  }
}

}  // namespace vaxbot::store
