// Outbox: every reply the conversation queued reaches the resident, at the
// pace Meta allows, through network faults, Meta's limits and our own crashes.
//
// Threads (all started by start(), stopped by stop()):
//   dispatcher  claims due rows (queued -> sending) through the Writer when it
//               is told that new messages were committed, or every poll
//               interval; it keeps at most max_in_memory rows claimed.
//   senders     threads, each with its own keep-alive HTTPS connection
//               (sender::CloudApi), added one at a time up to `threads` while
//               sends wait for a free connection (about rate x Meta's latency
//               are needed). They take the most urgent ready message
//               (core::priority: replies mid-conversation, then greetings
//               and read receipts, then reminders, then bulk notices), wait
//               for the business number's rate (RateLimiter,
//               never exceeded) and send.
//   recorder    writes what became of each row (sent + Meta's id, or failed +
//               reason) through the Writer, in batches.
//
// Per resident: replies go one at a time and in order, and within Meta's pair
// limit (RecipientPacer): a conversation's few replies in a row are never
// slowed; a longer burst is spread out.
//
// Faults, decided by the Cloud API error code (whatsapp::error_action):
// retryable codes, network errors, timeouts and 5xx are retried with
// exponential backoff and jitter, up to max_attempts and max_age, then the row
// fails with the last error. Other codes fail at once; token and account
// errors also log an error and count in vaxbot_sender_alerts_total, since
// every send will fail until a person fixes them. A free-form message to a
// resident whose last message is older than the 24-hour window is not
// attempted (templates are exempt).
//
// Crashes: a row is marked 'sending' before it is sent and 'sent' after Meta
// accepts it. start() puts rows left 'sending' back in the queue, so a crash
// can send a reply twice only if Meta had accepted it and vaxbot died before
// recording that (at-least-once). stop() finishes the sends under way and
// records them, so an orderly stop never duplicates.
//
// Read receipts (mark_read): each new resident message is marked as read,
// after the replies in priority. They are kept in memory only, best effort:
// a crash or a backlog over max_read_receipts drops some blue ticks, never a reply.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/metrics.h"
#include "core/result.h"
#include "sender/cloud_api.h"
#include "store/writer.h"

namespace vaxbot::outbox {

struct OutboxOptions {
  sender::CloudApiConfig api;
  double rate_per_second = 80;  // the business number's limit; at most 1,000
  // Most connections (sender threads) to open: they start at 2 and grow one by
  // one while the rate allows a send and all are busy. 0: enough for the rate
  // at ~0.3 s per send (4 to 300).
  int threads = 0;
  bool mark_read = true;
  // Per resident (Meta's pair limit).
  int recipient_burst = 20;
  std::chrono::milliseconds recipient_interval{6000};
  // Retries.
  int max_attempts = 10;
  std::chrono::milliseconds backoff_base{1000};
  std::chrono::milliseconds backoff_max{5 * 60 * 1000};
  // Least first waits Meta asks for: the pair limit (131056) and maintenance (131057).
  std::chrono::milliseconds pair_limit_wait{6000};
  std::chrono::milliseconds maintenance_wait{60000};
  std::chrono::milliseconds max_age{24LL * 3600 * 1000};  // then a reply is not worth sending
  std::chrono::milliseconds window{24LL * 3600 * 1000};   // Meta's customer service window
  // A status report whose reply is not known (yet) waits this long, then is
  // deleted; the dispatcher looks for such reports every status_sweep.
  std::chrono::milliseconds status_wait{24LL * 3600 * 1000};
  std::chrono::milliseconds status_sweep{10 * 60 * 1000};
  // Claiming.
  std::size_t max_in_memory = 4096;
  std::size_t claim_batch = 512;
  std::chrono::milliseconds poll{1000};
  std::size_t max_read_receipts = 10000;
  std::chrono::milliseconds writer_timeout{30000};
};

// The threads used when OutboxOptions::threads is 0.
int default_threads(double rate_per_second);

class Outbox {
 public:
  Outbox(store::Writer& writer, const core::Clock& clock, core::Registry& metrics,
         OutboxOptions options);
  ~Outbox();  // stops
  Outbox(const Outbox&) = delete;
  Outbox& operator=(const Outbox&) = delete;

  // Checks the configuration, returns rows a crash left 'sending' to the
  // queue, and starts the threads.
  core::Status start();
  // Stops claiming, finishes the sends under way (each within the read
  // timeout), records every result, and returns unsent claimed rows to the queue.
  void stop();

  // The Writer's commit listener: new resident messages were committed (their
  // replies may be waiting). Cheap; called on the writer thread.
  void committed(const std::vector<std::string>& new_message_ids);

  // "ok", "failing: <last error>" when every one of the recent sends failed,
  // or "stopped".
  std::string health() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vaxbot::outbox
