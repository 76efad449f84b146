// ConversationStore: residents' sessions, the transcript and the outbox.
//
// Runs on the writer's connection inside the writer's transaction, so a
// session change, the transcript lines and the replies to send commit together
// with the message that caused them (and with any booking). Statements are
// prepared once. SQLite exceptions are caught here and returned as errors.
//
//   sessions    one row per resident: where they are in the flow
//   transcript  every message in and out, text with ID numbers already masked
//               by the caller, with the step and (for replies) delivery status
//   outbox      replies waiting for the sender: Cloud API JSON body, priority,
//               status (see outbox_store.h), attempts, next attempt
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

struct TranscriptLine {
  std::string resident;
  std::string direction;  // "in" or "out"
  std::string message_id;
  std::string kind;
  std::string text;
  std::string step;
  std::int64_t at_ms = 0;
  std::string status;  // replies: "queued", then what the sender and Meta's statuses report
};

struct OutboxRow {
  std::int64_t id = 0;
  std::string recipient;
  std::string body;  // Cloud API JSON
  int priority = 0;  // core::priority: lower goes first
  bool template_message = false;  // an approved template: may be sent outside the 24-hour window
  std::string status = "queued";
  std::int64_t transcript_seq = 0;
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
  // Returns the line's sequence number.
  core::Result<std::int64_t> append_transcript(const TranscriptLine& line);
  // Queues a reply and returns its outbox id. A reply more urgent than a
  // greeting still queued for the same resident takes the greeting's priority:
  // the claim orders rows by priority, and a resident's replies must leave in
  // the order they were queued.
  core::Result<std::int64_t> enqueue(const OutboxRow& row);
  // For the chat command and tests: the outbox rows after `after_id`, oldest first.
  core::Result<std::vector<OutboxRow>> outbox_after(std::int64_t after_id);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vaxbot::store
