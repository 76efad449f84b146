// OutboxStore: the sender's side of the outbox and of the replies' lines, on
// the writer's connection.
//
// A reply moves queued -> sending (claimed by the sender) -> sent (Meta took it,
// its wamid recorded) -> delivered -> read, or ends failed with the reason.
// The outbox row (status queued or sending, with the JSON body) lives until
// the send is decided, then is deleted; the reply's line in `messages` keeps
// its status (queued until then), its wamid and, when failed, the reason.
// Meta's status webhooks and the sender's own results may arrive in any order:
// a row only ever moves forward, to the furthest state reported
// (sent < failed < delivered < read; Meta's "failed" after "sent" means it
// could not deliver, unless a later delivered/read proves otherwise).
// A status that arrives before the send's answer waits in the statuses table
// and is applied when the answer is recorded; once a report is applied to its
// reply's line, its statuses row is deleted (three reports a reply would
// otherwise stay for good); a report whose reply never becomes known is
// deleted after a day (Outbox does it). Support staff see what became of every reply in
// the transcript view.
//
// Every method must run inside a transaction on the writer's connection (the
// Writer runs the sender's work as tasks). SQLite errors come back as errors.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/result.h"
#include "store/database.h"

namespace vaxbot::store {

// A row taken for sending.
struct ClaimedReply {
  std::int64_t id = 0;
  std::string recipient;
  std::string body;  // Cloud API JSON
  int priority = 0;
  bool template_message = false;
  std::int64_t created_ms = 0;
  std::int64_t last_inbound_ms = 0;  // the resident's last message; 0 when unknown
};

// What became of one claimed row.
struct SendResult {
  enum class Outcome { kSent, kFailed, kReleased };  // released: back to queued, unsent
  std::int64_t id = 0;
  Outcome outcome = Outcome::kSent;
  int attempts = 0;           // made during this claim
  std::string wa_message_id;  // kSent
  std::string error;          // kFailed: code and reason, for staff
  std::int64_t at_ms = 0;
};

class OutboxStore {
 public:
  explicit OutboxStore(Database& db);
  ~OutboxStore();
  OutboxStore(const OutboxStore&) = delete;
  OutboxStore& operator=(const OutboxStore&) = delete;

  // Marks up to `limit` due queued rows as sending and returns them, most
  // urgent first (priority, then due time, then id).
  core::Result<std::vector<ClaimedReply>> claim(std::int64_t now_ms, int limit);

  // Records the result of a claimed row (a row no longer 'sending' is left alone).
  core::Status record(const SendResult& result);

  // A status webhook: moves the reply Meta knows as wa_message_id forward to
  // state ("sent", "delivered", "read", "failed"; "played" counts as read).
  // error: for "failed", the code and title Meta gave. Unknown ids change nothing.
  core::Status apply_status(const std::string& wa_message_id, const std::string& state,
                            const std::string& error);

  // SQLite's plan for claim(), one step per line: tests check that every table
  // is searched by an index (a scan of sessions made each claim cost grow with
  // the number of residents).
  core::Result<std::string> claim_plan();

  // Rows left 'sending' (a crash, or a stop with sends unfinished) go back to
  // 'queued'. Returns how many.
  core::Result<int> release_all_claimed();

  // Deletes status reports received before `before_ms` that still wait for
  // their reply: reports on messages vaxbot never sent (another app on the
  // same number), or on a send whose answer a crash lost (the reply went again
  // under a new wamid). Returns how many.
  core::Result<int> forget_statuses_before(std::int64_t before_ms);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vaxbot::store
