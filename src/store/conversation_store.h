// ConversationStore: residents' sessions, and the replies of a turn.
//
// Runs on the writer's connection inside the writer's transaction, so a
// session change, the transcript lines and the replies to send commit together
// with the message that caused them (and with any booking). Statements are
// prepared once. SQLite exceptions are caught here and returned as errors.
//
//   sessions  one row per resident: where they are in the flow
//   messages  every message in and out (schema.h, migration 6): the resident's
//             message is written by Database::record, the turn adds its step;
//             a reply is a line whose text is a shared `texts` format and the
//             values that fill it
//   outbox    replies waiting for the sender: Cloud API JSON body, priority,
//             attempts, next attempt (see outbox_store.h); a row's id is its
//             reply's line
// The `transcript` view shows the lines as support staff read them.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "store/database.h"

namespace vaxbot::store {

struct SessionRow {
  std::string resident;
  std::string flow;
  std::string step;
  std::string language = "en";
  std::string vars_json = "{}";
  int misses = 0;
  int page = 0;
  std::string pending;
  std::int64_t updated_ms = 0;
};

// A reply to queue. Its text (ID numbers already masked by the caller) is
// pieces[0] + values[0] + pieces[1] + ... + pieces.back(): the pieces are
// stored once for every reply that shares them, the values with the line.
// One piece and no values is a text stored whole (shared when identical).
struct Reply {
  std::string resident;
  std::string key;  // the template key of the text
  std::vector<std::string> pieces{""};
  std::vector<std::string> values;
  std::string step;               // the resident's step once the turn is done
  std::string body;               // Cloud API JSON
  int priority = 0;               // core::priority: lower goes first
  bool template_message = false;  // an approved template: may be sent outside the 24-hour window
  std::int64_t at_ms = 0;
};

// A reply still in the outbox.
struct OutboxRow {
  std::int64_t id = 0;  // = the reply's line (messages.seq, transcript.seq)
  std::string recipient;
  std::string body;  // Cloud API JSON
  int priority = 0;
  std::string status;  // "queued" or "sending"
  std::int64_t created_ms = 0;
};

class ConversationStore {
 public:
  explicit ConversationStore(Database& db);
  ~ConversationStore();
  ConversationStore(const ConversationStore&) = delete;
  ConversationStore& operator=(const ConversationStore&) = delete;

  core::Result<std::optional<SessionRow>> session(const std::string& resident);
  core::Status save_session(const SessionRow& row);
  // Sets the step at which the resident sent message_id (recorded by Database::record).
  core::Status set_step(const std::string& message_id, const std::string& step);
  // Adds the reply's line and queues it; returns its id. A reply more urgent
  // than a greeting still queued for the same resident takes the greeting's
  // priority: the claim orders rows by priority, and a resident's replies must
  // leave in the order they were queued.
  core::Result<std::int64_t> queue_reply(const Reply& reply);
  // For the chat command and tests: the replies still in the outbox after
  // `after_id`, oldest first.
  core::Result<std::vector<OutboxRow>> outbox_after(std::int64_t after_id);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vaxbot::store
