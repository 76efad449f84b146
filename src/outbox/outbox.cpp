#include "outbox/outbox.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <queue>
#include <random>
#include <thread>
#include <unordered_map>

#include "core/log.h"
#include "outbox/pace.h"
#include "store/outbox_store.h"
#include "whatsapp/send.h"

namespace vaxbot::outbox {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr std::size_t kRecent = 20;  // sends remembered for health()
constexpr std::size_t kFailingAfter = 5;
// Sends are spaced for 99.5 % of the configured rate: the limiter spaces the
// starts of requests, and a millisecond of jitter on the way would otherwise
// put a 1,001st arrival into some second at Meta (measured: 1,002 at 1,000/s).
constexpr double kRateHeadroom = 0.995;

// One message the outbox holds: a claimed row, or a read receipt (id 0).
struct Item {
  store::ClaimedReply row;
  bool receipt = false;
  int attempts = 0;  // during this claim
  std::string last_error;
  Clock::time_point not_before{};
};

struct Key {  // ready order: priority, then claim order
  int priority;
  std::uint64_t seq;
  bool operator>(const Key& o) const {
    return std::tie(priority, seq) > std::tie(o.priority, o.seq);
  }
};

struct Delayed {
  Clock::time_point at;
  std::uint64_t seq;
  bool operator>(const Delayed& o) const { return at > o.at; }
};

// A resident's replies go one at a time, in order: one is "out" (ready,
// delayed or being sent), the rest wait behind it.
struct Lane {
  bool out = false;
  std::deque<std::uint64_t> waiting;
};

std::string describe(const sender::Delivery& d) {
  if (d.kind == sender::Delivery::Kind::kTransport) return "network: " + d.transport_error;
  std::string s = d.error.code == whatsapp::ApiError::kNoCode
                      ? "HTTP " + std::to_string(d.http_status)
                      : "code " + std::to_string(d.error.code);
  if (!d.error.message.empty()) s += ": " + d.error.message;
  if (!d.error.details.empty()) s += " (" + d.error.details + ")";
  return s;
}

std::string code_label(const sender::Delivery& d) {
  if (d.kind == sender::Delivery::Kind::kTransport) return "network";
  if (d.error.code == whatsapp::ApiError::kNoCode) return "http_" + std::to_string(d.http_status);
  return std::to_string(d.error.code);
}

// The first wait before retrying after this answer (Meta: 6 s for the pair
// limit, about a minute for maintenance); doubled on each further attempt.
milliseconds retry_base(const sender::Delivery& d, const OutboxOptions& o) {
  if (d.kind == sender::Delivery::Kind::kRefused) {
    if (d.error.code == 131056) return std::max(o.backoff_base, o.pair_limit_wait);
    if (d.error.code == 131057) return std::max(o.backoff_base, o.maintenance_wait);
  }
  return o.backoff_base;
}

}  // namespace

int default_threads(double rate_per_second) {
  return std::clamp(static_cast<int>(std::ceil(rate_per_second * 0.3)), 4, 300);
}

struct Outbox::Impl {
  store::Writer& writer;
  const core::Clock& clock;
  core::Registry& metrics;
  OutboxOptions options;
  std::shared_ptr<spdlog::logger> log = core::logger("outbox");

  RateLimiter limiter;
  std::unique_ptr<store::OutboxStore> store;  // the writer thread's; touched only inside tasks
  store::Database* store_db = nullptr;

  // The scheduler.
  mutable std::mutex mutex;
  std::condition_variable work;        // senders: something became ready
  std::condition_variable claimable;   // dispatcher: new rows, or room for them
  std::condition_variable recordable;  // recorder: results to write
  std::unordered_map<std::uint64_t, Item> items;
  std::priority_queue<Key, std::vector<Key>, std::greater<>> ready;
  std::priority_queue<Delayed, std::vector<Delayed>, std::greater<>> delayed;
  std::unordered_map<std::string, Lane> lanes;
  RecipientPacer pacer;
  std::uint64_t next_seq = 1;
  std::size_t claimed = 0;                // rows claimed and not yet recorded
  std::size_t receipts = 0;               // read receipts held
  bool dirty = true;                      // rows may be waiting to be claimed
  std::int64_t next_status_sweep_ms = 0;  // dispatcher only
  bool stop_claiming = false, stop_sending = false, stop_recording = false;
  std::vector<store::SendResult> results;
  std::array<bool, kRecent> recent{};
  std::size_t recent_count = 0;
  std::string last_failure;
  bool running = false;
  Clock::time_point last_forget = Clock::now();

  // Send rate, for the gauge: sends started per 100 ms slice over the last second.
  std::array<std::atomic<std::uint64_t>, 10> slice_counts{};
  std::array<std::atomic<std::int64_t>, 10> slice_ids{};

  std::thread dispatcher, recorder;
  std::vector<std::thread> senders;  // grows while sends wait for a free connection (under mutex)
  int max_senders = 1;
  int busy = 0;  // senders between take() and the end of their send

  core::Counter& accepted;
  core::Counter& alerts;
  core::Counter& receipts_dropped;
  core::Histogram& latency;

  Impl(store::Writer& w, const core::Clock& c, core::Registry& m, OutboxOptions o)
      : writer(w),
        clock(c),
        metrics(m),
        options(std::move(o)),
        limiter(options.rate_per_second * kRateHeadroom),
        pacer(options.recipient_burst, options.recipient_interval),
        accepted(m.counter("vaxbot_sends_total", "Messages sent to the Cloud API by outcome",
                           "outcome=\"accepted\",code=\"\"")),
        alerts(m.counter("vaxbot_sender_alerts_total",
                         "Sends refused for the access token or the account: a person must act")),
        receipts_dropped(m.counter("vaxbot_read_receipts_dropped_total",
                                   "Read receipts not sent because too many were waiting")),
        latency(m.histogram("vaxbot_send_seconds", "Time from a send's request to Meta's answer",
                            {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10})) {
    m.gauge("vaxbot_send_rate", "Messages sent in the last second", [this] { return rate(); });
    m.gauge("vaxbot_send_rate_limit",
            "Messages/s the sender allows itself now (lowered after 130429)",
            [this] { return limiter.rate(); });
    m.gauge("vaxbot_outbox_claimed", "Replies claimed by the sender and not yet recorded", [this] {
      std::lock_guard lock(mutex);
      return static_cast<double>(claimed);
    });
    m.gauge("vaxbot_read_receipts_waiting", "Read receipts waiting to be sent", [this] {
      std::lock_guard lock(mutex);
      return static_cast<double>(receipts);
    });
  }

  // ---- metrics and health ----

  void count_started() {
    const auto slice =
        std::chrono::duration_cast<milliseconds>(Clock::now().time_since_epoch()).count() / 100;
    auto& id = slice_ids[static_cast<std::size_t>(slice % 10)];
    auto& n = slice_counts[static_cast<std::size_t>(slice % 10)];
    if (id.exchange(slice) != slice) n = 0;
    ++n;
  }

  double rate() const {
    const auto now =
        std::chrono::duration_cast<milliseconds>(Clock::now().time_since_epoch()).count() / 100;
    std::uint64_t total = 0;
    for (std::size_t i = 0; i < 10; ++i) {
      const std::int64_t id = slice_ids[i].load();
      if (id < now && id >= now - 10) total += slice_counts[i].load();
    }
    return static_cast<double>(total);
  }

  void count(const char* outcome, const std::string& code) {
    metrics
        .counter("vaxbot_sends_total", "Messages sent to the Cloud API by outcome",
                 std::string("outcome=\"") + outcome + "\",code=\"" + code + "\"")
        .inc();
  }

  void remember(bool ok, const std::string& error) {  // under mutex
    recent[recent_count % kRecent] = ok;
    ++recent_count;
    if (!ok) last_failure = error;
  }

  // ---- the scheduler (all under mutex) ----

  void make_ready(std::uint64_t seq) {
    ready.push({items[seq].row.priority, seq});
    work.notify_one();
  }

  void add_claimed(std::vector<store::ClaimedReply> rows) {
    std::lock_guard lock(mutex);
    for (auto& row : rows) {
      const std::uint64_t seq = next_seq++;
      Lane& lane = lanes[row.recipient];
      Item& item = items[seq];
      item.row = std::move(row);
      ++claimed;
      if (lane.out) {
        lane.waiting.push_back(seq);
      } else {
        lane.out = true;
        make_ready(seq);
      }
    }
  }

  // The lane's message is done: the next one of that resident may go.
  void lane_done(const std::string& recipient) {
    auto it = lanes.find(recipient);
    if (it == lanes.end()) return;
    if (it->second.waiting.empty()) {
      lanes.erase(it);
      return;
    }
    const std::uint64_t next = it->second.waiting.front();
    it->second.waiting.pop_front();
    make_ready(next);
  }

  void finish(std::uint64_t seq, store::SendResult::Outcome outcome, std::string wamid,
              std::string error) {
    std::lock_guard lock(mutex);
    Item& item = items[seq];
    if (item.receipt) {
      --receipts;
    } else {
      store::SendResult r;
      r.id = item.row.id;
      r.outcome = outcome;
      r.attempts = item.attempts;
      r.wa_message_id = std::move(wamid);
      r.error = std::move(error);
      r.at_ms = clock.now_ms();
      results.push_back(std::move(r));
      recordable.notify_one();
      lane_done(item.row.recipient);
    }
    items.erase(seq);
  }

  void retry_later(std::uint64_t seq, Clock::time_point at) {
    std::lock_guard lock(mutex);
    items[seq].not_before = at;
    delayed.push({at, seq});
    work.notify_one();
  }

  // Blocks until a message may be sent now; returns its seq, or 0 when stopping.
  std::uint64_t take() {
    std::unique_lock lock(mutex);
    for (;;) {
      if (stop_sending) return 0;
      const auto now = Clock::now();
      while (!delayed.empty() && delayed.top().at <= now) {
        const std::uint64_t seq = delayed.top().seq;
        delayed.pop();
        ready.push({items[seq].row.priority, seq});
      }
      if (now - last_forget > std::chrono::seconds(10)) {
        pacer.forget_rested(now);
        last_forget = now;
      }
      if (!ready.empty()) {
        const std::uint64_t seq = ready.top().seq;
        ready.pop();
        Item& item = items[seq];
        if (!item.receipt) {
          const auto allowed = pacer.allowed_at(item.row.recipient, now);
          if (allowed > now) {  // this resident has had their burst: spread the rest
            item.not_before = allowed;
            delayed.push({allowed, seq});
            continue;
          }
          pacer.take(item.row.recipient, now);
        }
        ++busy;
        return seq;
      }
      if (delayed.empty()) {
        work.wait(lock);
      } else {
        work.wait_until(lock, delayed.top().at);
      }
    }
  }

  // ---- the threads ----

  void send_loop() {
    auto api = sender::CloudApi::create(options.api);
    if (!api.ok()) {  // start() validated the configuration; this cannot happen
      log->error("sender thread cannot start: {}", api.error().message);
      return;
    }
    std::mt19937_64 random(std::random_device{}());
    for (;;) {
      const std::uint64_t seq = take();
      if (seq == 0) return;
      Item item;
      {
        std::lock_guard lock(mutex);
        item = items[seq];
      }
      if (!item.receipt) {
        if (auto refusal = not_sendable(item)) {
          {
            std::lock_guard lock(mutex);
            pacer.give_back(item.row.recipient);  // never sent: it uses none of the allowance
          }
          count("failed", refusal->first);
          log->warn("reply {} not sent: {}", item.row.id, refusal->second);
          finish(seq, store::SendResult::Outcome::kFailed, "", refusal->second);
          idle();
          continue;
        }
      }
      const auto now = Clock::now();
      const auto slot = limiter.reserve(now);
      if (slot <= now) grow_if_short();
      std::this_thread::sleep_until(slot);
      count_started();
      sender::Delivery d = (*api)->post(item.row.body);
      latency.observe(std::chrono::duration<double>(d.elapsed).count());
      {
        std::lock_guard lock(mutex);
        ++items[seq].attempts;
        remember(d.kind == sender::Delivery::Kind::kAccepted, describe(d));
      }
      handle(seq, item, d, random);
      idle();
    }
  }

  void idle() {
    std::lock_guard lock(mutex);
    --busy;
  }

  // The rate allows a send now, every connection is busy, and messages are
  // waiting: open one more connection. Connections are added one at a time as
  // the send latency demands (about rate x latency of them), so a start does
  // not open hundreds of TLS connections at once, and the handshakes of new
  // connections do not bunch up many sends.
  void grow_if_short() {
    std::lock_guard lock(mutex);
    if (stop_sending || ready.empty() || busy < static_cast<int>(senders.size()) ||
        static_cast<int>(senders.size()) >= max_senders) {
      return;
    }
    senders.emplace_back([this] { send_loop(); });
  }

  // A reply that must not be attempted: outside the 24-hour window, or too old.
  std::optional<std::pair<std::string, std::string>> not_sendable(const Item& item) const {
    const std::int64_t now = clock.now_ms();
    if (!item.row.template_message) {
      if (item.row.last_inbound_ms == 0) {
        return std::pair<std::string, std::string>(
            "window",
            "outside the 24-hour window: no message from this resident is on record; "
            "only a template message may be sent");
      }
      if (now - item.row.last_inbound_ms > options.window.count()) {
        return std::pair<std::string, std::string>(
            "window", "outside the 24-hour window: the resident's last message was " +
                          std::to_string((now - item.row.last_inbound_ms) / 3'600'000) +
                          " h ago; only a template message may be sent");
      }
    }
    if (now - item.row.created_ms > options.max_age.count()) {
      return std::pair<std::string, std::string>(
          "expired", "not sent within " + std::to_string(options.max_age.count() / 60000) +
                         " minutes of being queued");
    }
    return std::nullopt;
  }

  void handle(std::uint64_t seq, const Item& item, const sender::Delivery& d,
              std::mt19937_64& random) {
    using Kind = sender::Delivery::Kind;
    using Outcome = store::SendResult::Outcome;
    if (d.kind == Kind::kAccepted) {
      limiter.speed_up();
      accepted.inc();
      finish(seq, Outcome::kSent, d.message_id, "");
      return;
    }
    const std::string error = describe(d);
    const std::string code = code_label(d);
    if (!item.receipt) {  // it reached nobody: it does not count against the resident's allowance
      std::lock_guard lock(mutex);
      pacer.give_back(item.row.recipient);
    }
    if (d.kind == Kind::kRefused && d.error.code == 130429) limiter.slow_down(Clock::now());
    const auto action = d.kind == Kind::kTransport
                            ? whatsapp::ErrorAction::kRetry
                            : whatsapp::error_action(d.error.code, d.http_status);
    if (item.receipt) {  // best effort: a lost blue tick is not worth a retry
      count("failed", code);
      log->debug("read receipt not sent: {}", error);
      finish(seq, Outcome::kFailed, "", error);
      return;
    }
    const int attempts = item.attempts + 1;
    if (action == whatsapp::ErrorAction::kRetry) {
      const std::int64_t age = clock.now_ms() - item.row.created_ms;
      if (attempts < options.max_attempts && age < options.max_age.count()) {
        const auto base = retry_base(d, options);
        const double grown = static_cast<double>(base.count()) * std::pow(2.0, attempts - 1);
        const double capped = std::min(grown, static_cast<double>(options.backoff_max.count()));
        // Jitter: anywhere from half to the whole wait, so retries do not come in waves.
        const double wait = capped * std::uniform_real_distribution<double>(0.5, 1.0)(random);
        count("retried", code);
        log->debug("reply {} attempt {} failed ({}); retrying in {:.0f} ms", item.row.id, attempts,
                   error, wait);
        retry_later(seq, Clock::now() + milliseconds(static_cast<std::int64_t>(wait)));
        return;
      }
      count("failed", code);
      log->warn("reply {} failed after {} attempts: {}", item.row.id, attempts, error);
      finish(seq, Outcome::kFailed, "",
             "gave up after " + std::to_string(attempts) + " attempts: " + error);
      return;
    }
    count("failed", code);
    if (action == whatsapp::ErrorAction::kAlert) {
      alerts.inc();
      log->error(
          "THE CLOUD API REFUSED VAXBOT'S ACCESS TOKEN OR ACCOUNT ({}). Every reply will fail "
          "until WHATSAPP_ACCESS_TOKEN or the WhatsApp Business account is fixed.",
          error);
    } else {
      log->warn("reply {} refused: {}", item.row.id, error);
    }
    finish(seq, Outcome::kFailed, "", error);
  }

  // Runs work on the writer's connection with the writer-thread's OutboxStore.
  core::Status on_writer(const std::function<core::Status(store::OutboxStore&)>& work_fn) {
    return writer.run(
        [this, &work_fn](store::Database& db) {
          if (store_db != &db) {
            store = std::make_unique<store::OutboxStore>(db);
            store_db = &db;
          }
          return work_fn(*store);
        },
        options.writer_timeout);
  }

  void dispatch_loop() {
    std::unique_lock lock(mutex);
    for (;;) {
      claimable.wait_for(lock, options.poll, [this] {
        return stop_claiming || (dirty && claimed < options.max_in_memory);
      });
      if (stop_claiming) return;
      if (const std::int64_t now = clock.now_ms(); now >= next_status_sweep_ms) {
        next_status_sweep_ms = now + options.status_sweep.count();
        lock.unlock();
        forget_old_statuses(now);
        lock.lock();
      }
      if (claimed >= options.max_in_memory) continue;
      dirty = false;
      const std::size_t room = std::min(options.max_in_memory - claimed, options.claim_batch);
      lock.unlock();
      std::vector<store::ClaimedReply> rows;
      auto st = on_writer([&](store::OutboxStore& s) {
        auto r = s.claim(clock.now_ms(), static_cast<int>(room));
        if (!r.ok()) return core::Status(r.error());
        rows = std::move(*r);
        return core::ok_status();
      });
      if (!st.ok()) log->warn("claiming replies failed: {}; trying again", st.error().message);
      const bool more = st.ok() && rows.size() == room;
      if (!rows.empty()) add_claimed(std::move(rows));
      lock.lock();
      if (more) dirty = true;  // a full claim: more rows may be due
    }
  }

  // Status reports that never found their reply (see OutboxStore) would stay
  // for good; a day after they came they are deleted.
  void forget_old_statuses(std::int64_t now) {
    int forgotten = 0;
    auto st = on_writer([&](store::OutboxStore& s) {
      auto n = s.forget_statuses_before(now - options.status_wait.count());
      if (!n.ok()) return core::Status(n.error());
      forgotten = *n;
      return core::ok_status();
    });
    if (!st.ok()) {
      log->warn("deleting old status reports failed: {}; trying again later", st.error().message);
    } else if (forgotten > 0) {
      log->info("deleted {} status report(s) older than {} s whose reply vaxbot does not know",
                forgotten, options.status_wait.count() / 1000);
    }
  }

  void record_loop() {
    std::unique_lock lock(mutex);
    for (;;) {
      recordable.wait(lock, [this] { return stop_recording || !results.empty(); });
      if (results.empty()) return;  // stopping, and everything is recorded
      std::vector<store::SendResult> batch;
      batch.swap(results);
      lock.unlock();
      auto st = on_writer([&](store::OutboxStore& s) {
        for (const auto& r : batch) {
          if (auto one = s.record(r); !one.ok()) return one;
        }
        return core::ok_status();
      });
      lock.lock();
      if (!st.ok()) {
        // Kept and tried again: the rows stay 'sending' until recorded, and a
        // crash meanwhile sends them again rather than losing them.
        log->error("recording {} send result(s) failed: {}; trying again", batch.size(),
                   st.error().message);
        results.insert(results.begin(), batch.begin(), batch.end());
        if (stop_recording && !writer.accepting()) return;
        recordable.wait_for(lock, std::chrono::seconds(1), [this] { return stop_recording; });
        continue;
      }
      claimed -= batch.size();
      dirty = true;
      claimable.notify_one();
    }
  }
};

Outbox::Outbox(store::Writer& writer, const core::Clock& clock, core::Registry& metrics,
               OutboxOptions options)
    : impl_(std::make_unique<Impl>(writer, clock, metrics, std::move(options))) {}

Outbox::~Outbox() {
  stop();
}

core::Status Outbox::start() {
  Impl& m = *impl_;
  if (m.running) return core::ok_status();
  if (m.options.rate_per_second <= 0 || m.options.rate_per_second > 1000) {
    return core::make_error(core::ErrorCode::kInvalidInput,
                            "the send rate must be more than 0 and at most 1,000 messages/s");
  }
  if (auto st = sender::validate(m.options.api); !st.ok()) return st;
  int released = 0;
  auto st = m.on_writer([&](store::OutboxStore& s) {
    auto r = s.release_all_claimed();
    if (!r.ok()) return core::Status(r.error());
    released = *r;
    return core::ok_status();
  });
  if (!st.ok()) return st;
  if (released > 0) {
    m.log->warn(
        "{} replies were claimed for sending when vaxbot last stopped; sending them again "
        "(any that Meta had already accepted reaches its resident a second time)",
        released);
  }
  m.max_senders =
      m.options.threads > 0 ? m.options.threads : default_threads(m.options.rate_per_second);
  {
    std::lock_guard lock(m.mutex);
    m.stop_claiming = m.stop_sending = m.stop_recording = false;
    m.dirty = true;
    m.running = true;
  }
  m.recorder = std::thread([&m] { m.record_loop(); });
  {
    std::lock_guard lock(m.mutex);
    for (int i = 0; i < std::min(2, m.max_senders); ++i)
      m.senders.emplace_back([&m] { m.send_loop(); });
  }
  m.dispatcher = std::thread([&m] { m.dispatch_loop(); });
  m.log->info("sending replies at up to {} messages/s over up to {} connections{}",
              m.options.rate_per_second, m.max_senders,
              m.options.mark_read ? ", marking messages as read" : "");
  return core::ok_status();
}

void Outbox::stop() {
  Impl& m = *impl_;
  {
    std::lock_guard lock(m.mutex);
    if (!m.running) return;
    m.stop_claiming = true;
  }
  m.claimable.notify_all();
  if (m.dispatcher.joinable()) m.dispatcher.join();
  {
    std::lock_guard lock(m.mutex);
    m.stop_sending = true;
  }
  m.work.notify_all();
  for (;;) {  // senders may still be adding one
    std::thread t;
    {
      std::lock_guard lock(m.mutex);
      if (m.senders.empty()) break;
      t = std::move(m.senders.back());
      m.senders.pop_back();
    }
    t.join();
  }
  {
    // What was claimed and not sent goes back to the queue.
    std::lock_guard lock(m.mutex);
    const std::int64_t now = m.clock.now_ms();
    for (auto& [seq, item] : m.items) {
      if (item.receipt) continue;
      m.results.push_back(
          {item.row.id, store::SendResult::Outcome::kReleased, item.attempts, "", "", now});
    }
    m.items.clear();
    m.lanes.clear();
    m.ready = {};
    m.delayed = {};
    m.receipts = 0;
    m.stop_recording = true;
  }
  m.recordable.notify_all();
  if (m.recorder.joinable()) m.recorder.join();
  std::lock_guard lock(m.mutex);
  m.running = false;
}

void Outbox::committed(const std::vector<std::string>& new_message_ids) {
  Impl& m = *impl_;
  std::lock_guard lock(m.mutex);
  if (!m.running || m.stop_claiming) return;
  m.dirty = true;
  m.claimable.notify_one();
  if (!m.options.mark_read) return;
  for (const std::string& id : new_message_ids) {
    if (m.receipts >= m.options.max_read_receipts) {
      m.receipts_dropped.inc();
      continue;
    }
    const std::uint64_t seq = m.next_seq++;
    Item& item = m.items[seq];
    item.receipt = true;
    item.row.priority = core::priority::kGreeting;
    item.row.body = whatsapp::read_receipt_body(id);
    ++m.receipts;
    m.make_ready(seq);
  }
}

std::string Outbox::health() const {
  const Impl& m = *impl_;
  std::lock_guard lock(m.mutex);
  if (!m.running) return "stopped";
  const std::size_t n = std::min(m.recent_count, kRecent);
  if (n < kFailingAfter) return "ok";
  for (std::size_t i = 0; i < n; ++i) {
    if (m.recent[i]) return "ok";
  }
  return "failing: " + m.last_failure;
}

}  // namespace vaxbot::outbox
