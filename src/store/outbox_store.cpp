#include "store/outbox_store.h"

#include <SQLiteCpp/SQLiteCpp.h>

#include <algorithm>

#include "store/keys.h"

namespace vaxbot::store {
namespace {

core::Error failure(const std::exception& e, const char* what) {
  return core::make_error(core::ErrorCode::kUnavailable, std::string(what) + ": " + e.what());
}

// The order rows move in; a row never moves back. Kept in SQL so the
// comparison happens in the same statement as the update.
constexpr const char* kRank =
    "(CASE status WHEN 'sent' THEN 2 WHEN 'failed' THEN 3 WHEN 'delivered' THEN 4 "
    "WHEN 'read' THEN 5 ELSE 0 END)";

int rank(const std::string& state) {
  if (state == "sent") return 2;
  if (state == "failed") return 3;
  if (state == "delivered") return 4;
  if (state == "read" || state == "played") return 5;
  return 0;
}

}  // namespace

struct OutboxStore::Impl {
  SQLite::Database& db;
  SQLite::Statement claim, settle, line, requeue, stored_statuses, advance, known, forget, release,
      forget_before;

  explicit Impl(SQLite::Database& connection)
      : db(connection),
        claim(db, R"sql(
          UPDATE outbox SET status = 'sending'
          WHERE id IN (SELECT id FROM outbox WHERE status = 'queued' AND next_attempt_at <= ?1
                       ORDER BY priority, next_attempt_at LIMIT ?2)
          RETURNING id, recipient, body, priority, template, created_at, next_attempt_at,
            (SELECT updated_at FROM sessions WHERE resident = CAST(outbox.recipient AS TEXT)))sql"),
        settle(db, "DELETE FROM outbox WHERE id = ? AND status = 'sending'"),
        line(db, R"sql(
          UPDATE messages SET status = ?2, wamid = nullif(?3, ''), wamid_key = ?4,
            error = nullif(?5, '')
          WHERE seq = ?1)sql"),
        requeue(db,
                "UPDATE outbox SET status = 'queued', attempts = attempts + ?2 "
                "WHERE id = ?1 AND status = 'sending'"),
        stored_statuses(db,
                        "SELECT state, error_code, error_title FROM statuses WHERE message_id = ?"),
        advance(db, std::string(R"sql(
          UPDATE messages SET status = ?3, error = CASE WHEN ?3 = 'failed' THEN ?4 ELSE error END
          WHERE wamid_key = ?1 AND wamid = ?2 AND outbound = 1 AND )sql") +
                        kRank + " < ?5"),
        known(db, "SELECT 1 FROM messages WHERE wamid_key = ?1 AND wamid = ?2 AND outbound = 1"),
        forget(db, "DELETE FROM statuses WHERE message_id = ?"),
        release(db, "UPDATE outbox SET status = 'queued' WHERE status = 'sending'"),
        forget_before(db, "DELETE FROM statuses WHERE received_at < ?") {}

  void apply(const std::string& wamid, const std::string& state, const std::string& error) {
    const int r = rank(state);
    if (r == 0) return;
    advance.reset();
    advance.bind(1, wamid_key(wamid));
    advance.bind(2, wamid);
    advance.bind(3, state == "played" ? "read" : state);
    advance.bind(4, error);
    advance.bind(5, r);
    const bool moved = advance.exec() > 0;
    bool found = moved;
    if (!found) {
      known.reset();
      known.bind(1, wamid_key(wamid));
      known.bind(2, wamid);
      found = known.executeStep();
      known.reset();
    }
    // The reply's line holds the status now; the stored report is kept only
    // while its reply is unknown (Meta's answer to the send not in yet).
    if (found) drop_reports(wamid);
  }

  void drop_reports(const std::string& wamid) {
    forget.reset();
    forget.bind(1, wamid);
    forget.exec();
  }
};

OutboxStore::OutboxStore(Database& db) : impl_(std::make_unique<Impl>(db.handle())) {}
OutboxStore::~OutboxStore() = default;

core::Result<std::vector<ClaimedReply>> OutboxStore::claim(std::int64_t now_ms, int limit) {
  try {
    auto& s = impl_->claim;
    s.reset();
    s.bind(1, now_ms);
    s.bind(2, limit);
    std::vector<ClaimedReply> rows;
    std::vector<std::int64_t> due;
    while (s.executeStep()) {
      ClaimedReply& r = rows.emplace_back();
      r.id = s.getColumn(0).getInt64();
      r.recipient = s.getColumn(1).getString();
      r.body = s.getColumn(2).getString();
      r.priority = s.getColumn(3).getInt();
      r.template_message = s.getColumn(4).getInt() != 0;
      r.created_ms = s.getColumn(5).getInt64();
      due.push_back(s.getColumn(6).getInt64());
      r.last_inbound_ms = s.getColumn(7).isNull() ? 0 : s.getColumn(7).getInt64();
    }
    s.reset();
    // RETURNING gives no order: restore the claim's.
    std::vector<std::size_t> order(rows.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
      return std::tie(rows[a].priority, due[a], rows[a].id) <
             std::tie(rows[b].priority, due[b], rows[b].id);
    });
    std::vector<ClaimedReply> sorted;
    sorted.reserve(rows.size());
    for (std::size_t i : order) sorted.push_back(std::move(rows[i]));
    return sorted;
  } catch (const std::exception& e) {
    return failure(e, "claim replies");
  }
}

core::Status OutboxStore::record(const SendResult& r) {
  try {
    if (r.outcome == SendResult::Outcome::kReleased) {
      auto& q = impl_->requeue;
      q.reset();
      q.bind(1, r.id);
      q.bind(2, r.attempts);
      q.exec();
      return core::ok_status();
    }
    auto& settle = impl_->settle;
    settle.reset();
    settle.bind(1, r.id);
    if (settle.exec() == 0) return core::ok_status();  // not claimed: not ours to record
    const bool sent = r.outcome == SendResult::Outcome::kSent;
    auto& line = impl_->line;
    line.reset();
    line.bind(1, r.id);
    line.bind(2, sent ? "sent" : "failed");
    line.bind(3, sent ? r.wa_message_id : std::string());
    if (sent && !r.wa_message_id.empty())
      line.bind(4, wamid_key(r.wa_message_id));
    else
      line.bind(4);
    line.bind(5, sent ? std::string() : r.error);
    line.exec();
    if (!sent) return core::ok_status();
    if (r.wa_message_id.empty()) return core::ok_status();
    // Statuses Meta reported before its answer reached us.
    struct Early {
      std::string state, error;
    };
    std::vector<Early> early;
    auto& q = impl_->stored_statuses;
    q.reset();
    q.bind(1, r.wa_message_id);
    while (q.executeStep()) {
      const int code = q.getColumn(1).getInt();
      early.push_back({q.getColumn(0).getString(),
                       code == 0 ? "" : std::to_string(code) + " " + q.getColumn(2).getString()});
    }
    q.reset();
    for (const Early& e : early) impl_->apply(r.wa_message_id, e.state, e.error);
    if (!early.empty()) impl_->drop_reports(r.wa_message_id);
    return core::ok_status();
  } catch (const std::exception& e) {
    return failure(e, "record a send");
  }
}

core::Status OutboxStore::apply_status(const std::string& wa_message_id, const std::string& state,
                                       const std::string& error) {
  try {
    impl_->apply(wa_message_id, state, error);
    return core::ok_status();
  } catch (const std::exception& e) {
    return failure(e, "apply a status");
  }
}

core::Result<std::string> OutboxStore::claim_plan() {
  try {
    SQLite::Statement plan(impl_->db, "EXPLAIN QUERY PLAN " + impl_->claim.getQuery());
    std::string out;
    while (plan.executeStep()) out += plan.getColumn(3).getString() + "\n";
    return out;
  } catch (const std::exception& e) {
    return failure(e, "explain the claim");
  }
}

core::Result<int> OutboxStore::release_all_claimed() {
  try {
    impl_->release.reset();
    return impl_->release.exec();
  } catch (const std::exception& e) {
    return failure(e, "release claimed replies");
  }
}

core::Result<int> OutboxStore::forget_statuses_before(std::int64_t before_ms) {
  try {
    impl_->forget_before.reset();
    impl_->forget_before.bind(1, before_ms);
    return impl_->forget_before.exec();
  } catch (const std::exception& e) {
    return failure(e, "forget old status reports");
  }
}

}  // namespace vaxbot::store
