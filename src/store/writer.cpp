#include "store/writer.h"

#include <future>

#include "core/log.h"

namespace vaxbot::store {

using core::ErrorCode;

struct Writer::Job {
  std::vector<core::Event> events;
  Task task;  // set instead of events for run()
  std::promise<core::Result<Receipt>> done;
};

namespace {

std::int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

constexpr std::int64_t kStuckAfterMs = 30 * 1000;
// With nothing queued the writer still wakes this often (a WAL truncation
// asked for while it sleeps waits at most this long).
constexpr auto kIdleWake = std::chrono::seconds(60);

}  // namespace

Writer::Writer(std::unique_ptr<Database> db, const core::Clock& clock, core::Registry& metrics,
               WriterOptions options, EventHook hook)
    : db_(std::move(db)),
      clock_(clock),
      options_(options),
      hook_(std::move(hook)),
      batch_events_(metrics.histogram("vaxbot_commit_batch_events",
                                      "Events per committed transaction",
                                      {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096})),
      commit_seconds_(metrics.histogram(
          "vaxbot_commit_seconds", "Time to record and commit one batch",
          {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1})),
      stored_new_(
          metrics.counter("vaxbot_events_stored_total", "Events committed", "result=\"new\"")),
      stored_duplicate_(metrics.counter("vaxbot_events_stored_total", "Events committed",
                                        "result=\"duplicate\"")),
      commit_failures_(metrics.counter("vaxbot_commit_failures_total", "Transactions that failed")),
      overloaded_(metrics.counter("vaxbot_queue_rejections_total",
                                  "Submissions refused because the queue was full")),
      wal_truncations_(metrics.counter("vaxbot_wal_truncations_total",
                                       "Times the writer emptied a WAL grown past its limit")) {
  metrics.gauge("vaxbot_queue_depth", "Events queued or being committed",
                [this] { return static_cast<double>(pending_events()); });
  last_progress_ms_ = steady_ms();
  thread_ = std::thread([this] { run(); });
}

Writer::~Writer() {
  stop();
}

void Writer::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::size_t Writer::pending_events() const {
  std::lock_guard lock(mutex_);
  return pending_;
}

bool Writer::accepting() const {
  std::lock_guard lock(mutex_);
  return !stopping_;
}

bool Writer::healthy() const {
  std::lock_guard lock(mutex_);
  if (stopping_ || !last_commit_ok_) return false;
  return pending_ == 0 || steady_ms() - last_progress_ms_ < kStuckAfterMs;
}

core::Result<Receipt> Writer::submit(std::vector<core::Event> events,
                                     std::chrono::milliseconds timeout) {
  if (events.empty()) return Receipt{};
  auto job = std::make_shared<Job>();
  const std::size_t n = events.size();
  job->events = std::move(events);
  auto done = job->done.get_future();
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return core::make_error(ErrorCode::kUnavailable, "shutting down");
    // One submission larger than the whole queue is still taken when the queue is empty.
    if (pending_ > 0 && pending_ + n > options_.queue_capacity) {
      overloaded_.inc();
      return core::make_error(ErrorCode::kOverloaded, "ingest queue full");
    }
    pending_ += n;
    queue_.push_back(job);
  }
  wake_.notify_one();
  if (done.wait_for(timeout) != std::future_status::ready) {
    return core::make_error(ErrorCode::kUnavailable, "timed out waiting for the commit");
  }
  return done.get();
}

core::Status Writer::run(Task task, std::chrono::milliseconds timeout) {
  auto job = std::make_shared<Job>();
  job->task = std::move(task);
  auto done = job->done.get_future();
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return core::make_error(ErrorCode::kUnavailable, "shutting down");
    queue_.push_back(job);
  }
  wake_.notify_one();
  if (done.wait_for(timeout) != std::future_status::ready) {
    return core::make_error(ErrorCode::kUnavailable, "timed out waiting for the commit");
  }
  auto result = done.get();
  if (!result.ok()) return result.error();
  return core::ok_status();
}

void Writer::set_commit_listener(CommitListener listener) {
  std::lock_guard lock(mutex_);
  listener_ = std::move(listener);
}

void Writer::committed(const std::vector<std::string>& new_message_ids) {
  if (new_message_ids.empty()) return;  // e.g. the sender's own tasks: nothing new to tell
  CommitListener listener;
  {
    std::lock_guard lock(mutex_);
    listener = listener_;
  }
  if (listener) listener(new_message_ids);
}

void Writer::run() {
  auto log = core::logger("store");
  std::vector<std::shared_ptr<Job>> batch;
  for (;;) {
    std::size_t events = 0;
    {
      std::unique_lock lock(mutex_);
      wake_.wait_for(lock, kIdleWake, [this] { return !queue_.empty() || stopping_; });
      if (queue_.empty() && stopping_) break;
      while (!queue_.empty() &&
             (batch.empty() || events + queue_.front()->events.size() <= options_.max_batch)) {
        events += queue_.front()->events.size();
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    if (!batch.empty()) {
      commit_batch(batch);
      batch.clear();
      std::lock_guard lock(mutex_);
      pending_ -= events;
    }
    last_progress_ms_ = steady_ms();
    maybe_truncate_wal();
  }
  log->info("writer stopped; queue drained");
}

core::Status Writer::apply(std::vector<std::shared_ptr<Job>>& jobs, std::vector<Receipt>& receipts,
                           std::vector<std::string>& new_message_ids) {
  receipts.assign(jobs.size(), Receipt{});
  new_message_ids.clear();
  if (auto st = db_->begin(); !st.ok()) return st;
  const std::int64_t now = clock_.now_ms();
  for (std::size_t j = 0; j < jobs.size(); ++j) {
    if (jobs[j]->task) {
      if (auto st = run_task(jobs[j]->task); !st.ok()) {
        db_->rollback();
        return st;
      }
      continue;
    }
    for (const core::Event& event : jobs[j]->events) {
      auto recorded = db_->record(event, now);
      if (!recorded.ok()) {
        db_->rollback();
        return recorded.error();
      }
      if (*recorded == Recorded::kDuplicate) {
        ++receipts[j].duplicates;
        continue;
      }
      ++receipts[j].new_events;
      if (const auto* m = std::get_if<core::InboundMessage>(&event))
        new_message_ids.push_back(m->id);
      if (hook_) {
        if (auto st = run_hook(event); !st.ok()) {
          db_->rollback();
          return st;
        }
      }
    }
  }
  if (auto st = db_->commit(); !st.ok()) {
    db_->rollback();
    return st;
  }
  return core::ok_status();
}

core::Status Writer::run_task(const Task& task) {
  try {
    return task(*db_);
  } catch (const std::exception& e) {  // nor may a task
    return core::make_error(ErrorCode::kInternal, std::string("writer task: ") + e.what());
  }
}

core::Status Writer::run_hook(const core::Event& event) {
  try {
    return hook_(*db_, event);
  } catch (const std::exception& e) {  // a hook must not take the writer thread down
    return core::make_error(ErrorCode::kInternal, std::string("event hook: ") + e.what());
  }
}

void Writer::commit_batch(std::vector<std::shared_ptr<Job>>& batch) {
  auto log = core::logger("store");
  std::lock_guard db_lock(db_mutex_);
  const auto started = std::chrono::steady_clock::now();
  std::vector<Receipt> receipts;
  std::vector<std::string> new_ids;
  core::Status st = apply(batch, receipts, new_ids);
  if (st.ok()) {
    committed(new_ids);  // before the submitters wake: a 200 means the listener has heard
    std::size_t events = 0;
    for (std::size_t j = 0; j < batch.size(); ++j) {
      events += batch[j]->events.size();
      stored_new_.inc(receipts[j].new_events);
      stored_duplicate_.inc(receipts[j].duplicates);
      batch[j]->done.set_value(receipts[j]);
    }
    batch_events_.observe(static_cast<double>(events));
    commit_seconds_.observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    last_commit_ok_ = true;
    return;
  }
  commit_failures_.inc();
  log->error("commit of {} submission(s) failed: {}", batch.size(), st.error().message);
  if (batch.size() == 1) {
    last_commit_ok_ = false;
    batch[0]->done.set_value(st.error());
    return;
  }
  // Retry each submission alone so one bad submission cannot fail the others.
  bool any_ok = false;
  for (auto& job : batch) {
    std::vector<std::shared_ptr<Job>> one{job};
    core::Status alone = apply(one, receipts, new_ids);
    if (alone.ok()) {
      any_ok = true;
      committed(new_ids);
      stored_new_.inc(receipts[0].new_events);
      stored_duplicate_.inc(receipts[0].duplicates);
      batch_events_.observe(static_cast<double>(job->events.size()));
      job->done.set_value(receipts[0]);
    } else {
      commit_failures_.inc();
      job->done.set_value(alone.error());
    }
  }
  last_commit_ok_ = any_ok;
}

void Writer::maybe_truncate_wal() {
  if (!truncate_wal_.exchange(false)) return;
  std::lock_guard db_lock(db_mutex_);
  const auto started = std::chrono::steady_clock::now();
  if (auto st = db_->checkpoint(Database::Checkpoint::kTruncate); !st.ok()) {
    core::logger("store")->warn("emptying the WAL failed: {}", st.error().message);
    return;
  }
  wal_truncations_.inc();
  core::logger("store")->debug(
      "WAL emptied in {:.1f} ms",
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started)
          .count());
}

}  // namespace vaxbot::store
