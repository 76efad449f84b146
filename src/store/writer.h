// Writer: the one thread that writes, and the group commit that makes a durable 200 cheap.
//
// HTTP threads call submit() with the events of one webhook; it blocks until
// those events are committed to SQLite (or fail). The writer thread takes
// every submission waiting in the queue, up to max_batch events, records them
// all in ONE transaction, commits (one fsync for the whole batch), and only
// then wakes the submitters. A message id seen before is acknowledged again
// (counted as a duplicate) and not processed twice.
//
// The queue is bounded by events queued or being committed: a submission that
// would exceed queue_capacity is refused at once with kOverloaded (the caller
// answers 503 and Meta re-sends), so memory stays bounded under any load. A
// failed commit (disk full, I/O error, lock held too long) answers
// kUnavailable; when a batch of several submissions fails, each is retried
// alone so one bad submission cannot sink the others.
//
// The hook runs on the writer thread, inside the transaction, for every event
// recorded as new: the conversation plugs in here so a booking, the session,
// the transcript and the replies commit with the message that caused them.
// If it returns an error the submission fails and nothing of it is kept.
//
// Other work that must write (the sender claiming replies and recording what
// became of them) runs as a Task through run(): on the writer thread, inside
// the next batch's transaction, so the single writer stays the only one and
// the sender's updates share the webhooks' fsync. A task may run more than
// once (a failed batch is retried one submission at a time); only its last
// run commits, so a task must reset any output it fills. Tasks are not refused
// when the queue is full: their callers bound how many they have waiting.
//
// After each successful commit that stored residents' messages for the first
// time, the commit listener (if set) is called on the writer thread with their
// ids, before the submitters are woken: the sender wakes on it. It must be quick.
//
// submit(), run() and pending_events()/healthy() are thread-safe. stop() (also run
// by the destructor) refuses new submissions, commits what is queued, and joins.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/event.h"
#include "core/metrics.h"
#include "core/result.h"
#include "store/database.h"

namespace vaxbot::store {

struct WriterOptions {
  std::size_t queue_capacity = 65536;  // events queued or in the transaction being committed
  std::size_t max_batch = 4096;        // events per transaction (a larger submission goes alone)
};

struct Receipt {
  std::size_t new_events = 0;
  std::size_t duplicates = 0;
};

using EventHook = std::function<core::Status(Database&, const core::Event&)>;
using Task = std::function<core::Status(Database&)>;
using CommitListener = std::function<void(const std::vector<std::string>& new_message_ids)>;

class Writer {
 public:
  Writer(std::unique_ptr<Database> db, const core::Clock& clock, core::Registry& metrics,
         WriterOptions options = {}, EventHook hook = {});
  ~Writer();
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  // Blocks until the events are durably committed. Errors: kOverloaded (queue
  // full), kUnavailable (commit failed, timed out, or the writer is stopping).
  // On a timeout the events may still be committed later; re-submitting them
  // is safe (they are then duplicates).
  core::Result<Receipt> submit(std::vector<core::Event> events, std::chrono::milliseconds timeout);

  // Runs task in a transaction on the writer thread; returns once it is
  // committed, or the task's error (nothing of it kept), or kUnavailable
  // (commit failed, timed out, or the writer is stopping).
  core::Status run(Task task, std::chrono::milliseconds timeout);

  // Set before the first submission.
  void set_commit_listener(CommitListener listener);

  // Asks the writer to checkpoint and empty the WAL between two batches (the
  // Checkpointer asks when the WAL grows past its limit). Thread-safe; cheap.
  void request_wal_truncate() {
    truncate_wal_ = true;
    wake_.notify_one();
  }

  void stop();

  std::size_t pending_events() const;
  bool accepting() const;  // false once stop() has begun
  // The writer thread runs, the last commit succeeded, and it is not stuck.
  bool healthy() const;

 private:
  struct Job;
  void run();
  void commit_batch(std::vector<std::shared_ptr<Job>>& batch);
  core::Status apply(std::vector<std::shared_ptr<Job>>& jobs, std::vector<Receipt>& receipts,
                     std::vector<std::string>& new_message_ids);
  void committed(const std::vector<std::string>& new_message_ids);
  void maybe_truncate_wal();
  core::Status run_hook(const core::Event& event);
  core::Status run_task(const Task& task);

  std::unique_ptr<Database> db_;
  const core::Clock& clock_;
  WriterOptions options_;
  EventHook hook_;
  CommitListener listener_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::shared_ptr<Job>> queue_;
  std::size_t pending_ = 0;  // events queued or in the batch being committed
  bool stopping_ = false;
  std::atomic<bool> last_commit_ok_{true};
  std::atomic<bool> truncate_wal_{false};
  std::atomic<std::int64_t> last_progress_ms_{0};
  std::mutex db_mutex_;  // the writer thread's batches vs its WAL truncation

  core::Histogram& batch_events_;
  core::Histogram& commit_seconds_;
  core::Counter& stored_new_;
  core::Counter& stored_duplicate_;
  core::Counter& commit_failures_;
  core::Counter& overloaded_;
  core::Counter& wal_truncations_;

  std::thread thread_;
};

}  // namespace vaxbot::store
