// outbox_drain: how fast the outbox sends, and how long a launch-day backlog takes to drain.
//
//   outbox_drain --rows 100000 --rate 1000 [--threads 0] [--residents 0] [--cert-dir DIR]
//                [--db FILE] [--synchronous full|normal]
//
// Fills a fresh SQLite file with --rows queued replies (to --residents residents, default
// rows / 5, each with a recent message so the 24-hour window is open), starts the Cloud API
// stand-in (over TLS when --cert-dir holds ca.pem, server.pem and server.key for 127.0.0.1;
// plain HTTP otherwise), then runs the real outbox with the real writer against it at --rate
// messages/s until every row is recorded sent.
//
// Measured at the stand-in, from arrival times: the whole drain (first to last arrival), the
// mean rate over it, the steady rate (the middle 80 % of arrivals), and the most arrivals in
// any one-second window. Measured at the outbox: the time from start() to every result
// committed. Checked: every row reached the stand-in exactly once and is 'sent' in the
// database (exit 1 otherwise).
//
// Output: one human-readable line, then one JSON line. See bench/README.md.
#include <SQLiteCpp/SQLiteCpp.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/log.h"
#include "core/metrics.h"
#include "outbox/outbox.h"
#include "sender/stand_in.h"
#include "store/conversation_store.h"
#include "store/writer.h"
#include "whatsapp/send.h"

using namespace vaxbot;
using Steady = std::chrono::steady_clock;

namespace {

struct Flags {
  long rows = 100000;
  double rate = 1000;
  int threads = 0;
  long residents = 0;
  std::string cert_dir;
  std::string db;
  std::string synchronous = "full";
};

int usage() {
  std::cerr << "usage: outbox_drain [--rows N] [--rate R] [--threads N] [--residents N] "
               "[--cert-dir DIR] [--db FILE] [--synchronous full|normal]\n";
  return 2;
}

double seconds(Steady::duration d) {
  return std::chrono::duration<double>(d).count();
}

}  // namespace

int main(int argc, char** argv) {
  Flags f;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) return usage();
    const std::string v = argv[++i];
    if (a == "--rows")
      f.rows = std::stol(v);
    else if (a == "--rate")
      f.rate = std::stod(v);
    else if (a == "--threads")
      f.threads = std::stoi(v);
    else if (a == "--residents")
      f.residents = std::stol(v);
    else if (a == "--cert-dir")
      f.cert_dir = v;
    else if (a == "--db")
      f.db = v;
    else if (a == "--synchronous")
      f.synchronous = v;
    else
      return usage();
  }
  if (f.rows <= 0 || f.rate <= 0) return usage();
  if (f.residents <= 0) f.residents = std::max(1L, f.rows / 5);
  core::set_log_level("warn");
  const std::string db_path = f.db.empty() ? (std::filesystem::temp_directory_path() /
                                              ("outbox_drain_" + std::to_string(getpid()) + ".db"))
                                                 .string()
                                           : f.db;
  std::filesystem::remove(db_path);

  store::DatabaseOptions dbo;
  dbo.path = db_path;
  dbo.synchronous =
      f.synchronous == "normal" ? store::Synchronous::kNormal : store::Synchronous::kFull;
  auto db = store::Database::open(dbo);
  if (!db.ok()) {
    std::cerr << db.error().message << "\n";
    return 1;
  }
  core::SystemClock clock;
  {
    store::ConversationStore cs(**db);
    if (!(*db)->begin().ok()) return 1;
    const std::int64_t now = clock.now_ms();
    for (long r = 0; r < f.residents; ++r) {
      if (!cs.save_session(
                 {std::to_string(919000000000L + r), "second_dose", "", "en", "{}", 0, 0, "", now})
               .ok())
        return 1;
    }
    for (long i = 0; i < f.rows; ++i) {
      const std::string who = std::to_string(919000000000L + i % f.residents);
      core::OutboundMessage m;
      m.body = "Your booking is confirmed. Reference row " + std::to_string(i);
      store::Reply row;
      row.resident = who;
      row.key = "booked";
      row.pieces = {m.body};
      row.body = whatsapp::send_body(who, m);
      row.at_ms = now;
      if (!cs.queue_reply(row).ok()) return 1;
    }
    if (!(*db)->commit().ok()) return 1;
  }

  sender::StandInOptions so;
  const bool tls = !f.cert_dir.empty();
  if (tls) {
    so.cert_file = f.cert_dir + "/server.pem";
    so.key_file = f.cert_dir + "/server.key";
  }
  so.threads = 512;
  sender::CloudApiStandIn stand_in(so);
  if (auto port = stand_in.start(); !port.ok()) {
    std::cerr << port.error().message << "\n";
    return 1;
  }

  core::Registry metrics;
  store::Writer writer(std::move(*db), clock, metrics);
  outbox::OutboxOptions o;
  o.api.api_base = stand_in.api_base();
  o.api.phone_number_id = "106540352242922";
  o.api.access_token = "bench-token";
  if (tls) o.api.ca_file = f.cert_dir + "/ca.pem";
  o.rate_per_second = f.rate;
  o.threads = f.threads;
  o.mark_read = false;
  outbox::Outbox out(writer, clock, metrics, o);
  const auto started = Steady::now();
  if (auto st = out.start(); !st.ok()) {
    std::cerr << st.error().message << "\n";
    return 1;
  }
  const auto rows = static_cast<std::size_t>(f.rows);
  const bool all_arrived = stand_in.wait_for(
      rows, std::chrono::seconds(static_cast<long>(static_cast<double>(f.rows) / f.rate * 3 + 60)));
  out.stop();
  const auto drained = Steady::now();
  writer.stop();

  const auto requests = stand_in.requests();
  std::map<std::string, int> seen;
  for (const auto& r : requests) {
    const auto j = nlohmann::json::parse(r.body);
    ++seen[j["text"]["body"].get<std::string>()];
  }
  long duplicates = 0;
  for (const auto& [text, n] : seen) duplicates += n - 1;
  SQLite::Database check(db_path);
  const long sent =
      check.execAndGet("SELECT count(*) FROM messages WHERE outbound = 1 AND status = 'sent'")
          .getInt64();
  const long lost = f.rows - static_cast<long>(seen.size());

  std::vector<Steady::time_point> at;
  for (const auto& r : requests) at.push_back(r.arrived);
  std::sort(at.begin(), at.end());
  double span = 0, mean_rate = 0, steady_rate = 0;
  std::size_t max_window = 0;
  double longest_gap_ms = 0;
  if (at.size() > 1) {
    span = seconds(at.back() - at.front());
    mean_rate = static_cast<double>(at.size() - 1) / span;
    const std::size_t lo = at.size() / 10, hi = at.size() * 9 / 10;
    steady_rate = static_cast<double>(hi - lo) / seconds(at[hi] - at[lo]);
    std::size_t j = 0;
    for (std::size_t i = 0; i < at.size(); ++i) {
      while (at[i] - at[j] >= std::chrono::seconds(1)) ++j;
      max_window = std::max(max_window, i - j + 1);
      if (i > 0) longest_gap_ms = std::max(longest_gap_ms, seconds(at[i] - at[i - 1]) * 1000);
    }
  }
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  std::printf(
      "%ld rows at %.0f msg/s over %s: drained in %.2f s (arrivals over %.2f s), mean %.1f msg/s, "
      "steady %.1f msg/s, max %zu in any 1 s, longest gap %.0f ms, %ld lost, %ld duplicates, %ld "
      "sent in db\n",
      f.rows, f.rate, tls ? "TLS" : "HTTP", seconds(drained - started), span, mean_rate,
      steady_rate, max_window, longest_gap_ms, lost, duplicates, sent);
  nlohmann::json line = {{"rows", f.rows},
                         {"rate_setting", f.rate},
                         {"tls", tls},
                         {"threads", f.threads > 0 ? f.threads : outbox::default_threads(f.rate)},
                         {"drain_s", seconds(drained - started)},
                         {"arrival_span_s", span},
                         {"mean_rate", mean_rate},
                         {"steady_rate", steady_rate},
                         {"max_in_1s", max_window},
                         {"longest_gap_ms", longest_gap_ms},
                         {"lost", lost},
                         {"duplicates", duplicates},
                         {"sent_in_db", sent},
                         {"peak_rss_mb", static_cast<double>(ru.ru_maxrss) / 1024.0}};
  std::cout << line.dump() << std::endl;
  if (f.db.empty()) {
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(db_path + suffix);
  }
  return all_arrived && lost == 0 && duplicates == 0 && sent == f.rows ? 0 : 1;
}
