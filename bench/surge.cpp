// surge: launch day. Residents book their second dose end to end through a real
// `vaxbot serve`, each answering the bot's replies as they arrive.
//
//   surge [--residents 200 | --arrival-rate R] [--duration 20] [--send-rate 1000]
//         [--connections 16] [--wrong-date 10] [--too-early 5] [--sticker 5] [--race 5]
//         [--cancel 5] [--redeliver 2] [--no-mix] [--think-ms 0] [--drain 15]
//         [--bare-seconds 3] [--vaxbot PATH] [--bare PATH] [--repo DIR] [--keep DIR]
//         [--synchronous full|normal] [--last-seats 30] [--prior-residents 0] [--seed N]
//         [--label TEXT] [--pace reply|ack] [--statuses]
//
// What it runs, all on this machine:
//   - the Cloud API stand-in (src/sender/stand_in.h, plain HTTP): vaxbot sends its replies
//     there, and its observer hands each one to the resident it is for;
//   - `vaxbot import-slots` on a fresh database (five centres with large slots for the next 7
//     days, and a "last seats" centre of --last-seats slots holding 1 to 3 seats each), then
//     `vaxbot serve --host 127.0.0.1 --port 0 --db DB --send-rate R --mark-read off` from
//     --repo (where flows/, templates/ and data/ are), pointed at the stand-in;
//   - the residents: each greets in English, Bengali or Hindi ("Hi", "নমস্কার", "नमस्ते"),
//     then types the first-dose date, picks a vaccine, types an Aadhaar or PAN number, picks
//     a centre and a slot, and confirms. Every message is a signed webhook POSTed over a pool
//     of --connections keep-alive connections; the next one is sent when the reply it answers
//     reaches the stand-in. Every reply is matched against templates/<lang>.json: a reply
//     that is not one the conversation calls for fails that resident, and the run;
//   - afterwards, bench/bare_server under the same signed bodies, for the ratio.
//
// The mix (percent of residents, each drawn independently): --wrong-date types an impossible,
// future or unreadable date first; --too-early had the first dose too recently, is told when
// to come back and stops ("told"); --sticker sends a sticker at one step; --race goes for the
// last-seats centre and its first free slot (an ordinary centre once it is full); --cancel
// cancels after the confirmation and books again; --redeliver has one of its webhooks posted
// twice with the same wamid, both at once, as Meta re-delivers. --prior-residents N adds N
// sessions of earlier residents to the database before vaxbot starts (later in the day).
//
// Modes: closed loop (--residents N at once; when one finishes another starts) or open loop
// (--arrival-rate R new residents per second, exponential gaps). --pace ack: each resident sends
// its next message on the 200 of the last, typing every answer, without waiting for the reply
// (vaxbot's own capacity; replies are still sent and checked in order). --statuses: Meta's
// sent, delivered and read webhooks are posted for every reply the stand-in accepts. vaxbot rests
// for a second first (its CPU then is reported); new messages are sent for --duration seconds; then
// the tool waits up to --drain seconds for replies still due, stops vaxbot with SIGTERM, waits, and
// checks the database (read-only):
//   - no slot above its capacity, and slots.booked = its bookings with status 'booked';
//   - every confirmation the stand-in received names a booking of that resident (cancelled
//     ones 'cancelled', the others 'booked');
//   - every message id acknowledged with 200 is in the inbox, once, and the inbox holds no
//     id that was never posted;
//   - at most one active booking per id_hash;
//   - every reply the stand-in accepted is recorded 'sent' with that id, exactly once;
//   - every resident got exactly the replies its conversation calls for.
//
// The residents, the driver, the set-up and the shared checks are in surge_lib.h (bench/crash
// runs the same residents while it kills vaxbot); the rest of the surge is here.
//
// Output: a summary, then one JSON line. Exit 0 only when every check holds; 1 when one
// breaks (each is also printed with INVARIANT BROKEN on stderr, and the working directory is
// kept); 2 on bad usage or a failed set-up. How each number is measured: bench/README.md,
// "Launch-day surge".

#include <SQLiteCpp/SQLiteCpp.h>
#include <fcntl.h>
#include <httplib.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <numeric>
#include <sstream>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "store/keys.h"
#include "surge_lib.h"

namespace vaxbot::bench {
namespace {

// --prior-residents are 91 90xxxxxxxx and 91 92xxxxxxxx, alternately: like random numbers, half
// of them sort before the surge's residents and half after.
constexpr uint64_t kPriorBelow = 919000000000;
constexpr uint64_t kPriorAbove = 919200000000;

[[noreturn]] void usage(int code) {
  std::fprintf(
      code == 0 ? stdout : stderr,
      "usage: surge [--residents 200 | --arrival-rate R] [--duration 20] [--send-rate 1000]\n"
      "             [--connections 16] [--wrong-date 10] [--too-early 5] [--sticker 5] [--race 5]\n"
      "             [--cancel 5] [--redeliver 2] [--no-mix] [--think-ms 0] [--drain 15]\n"
      "             [--bare-seconds 3] [--vaxbot PATH] [--bare PATH] [--repo DIR] [--keep DIR]\n"
      "             [--synchronous full|normal] [--last-seats 30] [--prior-residents 0]\n"
      "             [--seed N] [--label TEXT] [--pace reply|ack] [--statuses]\n"
      "Residents book end to end through `vaxbot serve` and the Cloud API stand-in; then the\n"
      "database is checked. Mix flags are percents of residents. Run from the repository root\n"
      "(or give --repo). Prints a summary and a JSON line; exit 1 when an invariant breaks.\n");
  std::exit(code);
}

Options parse_options(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "-h" || arg == "--help") usage(0);
    if (arg == "--no-mix") {
      o.mix = Mix{0, 0, 0, 0, 0, 0};
      continue;
    }
    if (arg == "--statuses") {
      o.statuses = true;
      continue;
    }
    if (i + 1 >= argc) usage(2);
    const char* v = argv[++i];
    if (parse_shared_flag(o, arg, v)) continue;
    if (arg == "--arrival-rate") {
      o.arrival_rate = parse_number(arg, v, 0.001, 100000);
    } else if (arg == "--duration") {
      o.duration_s = parse_number(arg, v, 0.1, 3600);
    } else if (arg == "--bare-seconds") {
      o.bare_s = parse_number(arg, v, 0, 600);
    } else if (arg == "--prior-residents") {
      o.prior_residents = parse_int(arg, v, 0, 10'000'000);
    } else if (arg == "--bare") {
      o.bare = v;
    } else if (arg == "--pace") {
      if (std::string_view(v) != "reply" && std::string_view(v) != "ack") {
        die(std::string("bad value for --pace: ") + v + " (reply or ack)");
      }
      o.ack_paced = std::string_view(v) == "ack";
    } else {
      std::fprintf(stderr, "surge: unknown flag %s\n", argv[i - 1]);
      usage(2);
    }
  }
  if (o.ack_paced) {
    // Typed answers without reading the replies: no detours and no race for the last seats.
    o.mix = Mix{0, 0, 0, 0, 0, 0};
    o.last_seats = 0;
  }
  resolve_paths(o);
  return o;
}

// utime + stime, in clock ticks, of a /proc/<pid>/stat or /proc/<pid>/task/<tid>/stat file
// (fields 14 and 15, counted after the parenthesised command name); 0 when unreadable.
long stat_ticks(const fs::path& stat_file) {
  std::ifstream in(stat_file);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t paren = text.rfind(')');
  if (paren == std::string::npos) return 0;
  std::istringstream fields(text.substr(paren + 2));
  std::string field;
  long ticks = 0;
  for (int i = 3; i <= 15 && fields >> field; ++i) {
    if (i >= 14) ticks += std::atol(field.c_str());
  }
  return ticks;
}

double ticks_per_second() {
  return static_cast<double>(::sysconf(_SC_CLK_TCK));
}

// vaxbot's CPU time and peak RSS, from /proc while it runs.
struct ProcStats {
  double cpu_s = 0;      // utime + stime of all its threads
  long peak_rss_kb = 0;  // VmHWM
};

ProcStats read_proc(pid_t pid) {
  const fs::path dir = "/proc/" + std::to_string(pid);
  ProcStats s;
  s.cpu_s = static_cast<double>(stat_ticks(dir / "stat")) / ticks_per_second();
  std::ifstream status(dir / "status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.starts_with("VmHWM:")) s.peak_rss_kb = std::atol(line.c_str() + 6);
  }
  return s;
}

// CPU clock ticks of each of vaxbot's threads, by thread id.
std::map<long, long> read_thread_ticks(pid_t pid) {
  std::map<long, long> ticks;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
    ticks[std::atol(entry.path().filename().c_str())] = stat_ticks(entry.path() / "stat");
  }
  return ticks;
}

// The most CPU any one thread used between two read_thread_ticks(), in cores.
double busiest_thread(const std::map<long, long>& before, const std::map<long, long>& after,
                      double seconds) {
  long most = 0;
  for (const auto& [tid, t] : after) {
    const auto it = before.find(tid);
    most = std::max(most, t - (it == before.end() ? 0 : it->second));
  }
  return static_cast<double>(most) / ticks_per_second() / seconds;
}

double own_cpu_s() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  auto secs = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return secs(u.ru_utime) + secs(u.ru_stime);
}

// Later in the day: `n` residents who wrote earlier and finished (a session each, idle for two
// hours; nothing else of theirs is stored). Written straight into vaxbot's `sessions` table
// before serve starts; their numbers sort half before, half after the surge's residents.
void seed_prior_sessions(const std::string& db_path, int n) {
  SQLite::Database db(db_path, SQLite::OPEN_READWRITE);
  const int64_t two_hours_ago = std::chrono::duration_cast<std::chrono::milliseconds>(
                                    std::chrono::system_clock::now().time_since_epoch())
                                    .count() -
                                2 * 3600 * 1000;
  SQLite::Transaction tx(db);
  SQLite::Statement insert(
      db,
      "INSERT INTO sessions (resident, flow, step, language, vars, updated_at) "
      "VALUES (?1, 'second_dose', '', 'en', '{}', ?2)");
  for (int i = 0; i < n; ++i) {
    insert.reset();
    const uint64_t k = static_cast<uint64_t>(i);
    insert.bind(1, std::to_string((k % 2 == 0 ? kPriorBelow : kPriorAbove) + k / 2));
    insert.bind(2, two_hours_ago);
    insert.exec();
  }
  tx.commit();
}

// ---------------------------------------------------------------------------------------------
// The same webhooks against bare_server: the HTTP floor on this machine.

struct BareResult {
  bool ran = false;
  double rps = 0;
  std::vector<int64_t> ack_ns;
  uint64_t errors = 0;
};

BareResult run_bare(const Options& opts,
                    const std::vector<std::pair<std::string, std::string>>& samples, int log_fd) {
  BareResult result;
  if (opts.bare_s <= 0 || samples.empty()) return result;
  if (::access(opts.bare.c_str(), X_OK) != 0) {
    std::fprintf(stderr, "surge: no %s: skipping the bare-server comparison\n", opts.bare.c_str());
    return result;
  }
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) env.emplace_back(*e);
  Child bare = spawn({opts.bare, "--port", "0"}, "", env, true, -1, log_fd);
  const int port = read_listening_port(bare, 10);
  if (port <= 0) die("bare_server did not start");
  std::vector<std::vector<int64_t>> latencies(static_cast<size_t>(opts.connections));
  std::atomic<uint64_t> errors{0};
  const int64_t end = now_ns() + static_cast<int64_t>(opts.bare_s * 1e9);
  std::vector<std::thread> threads;
  for (int i = 0; i < opts.connections; ++i) {
    threads.emplace_back([&, i] {
      httplib::Client client("127.0.0.1", port);
      client.set_keep_alive(true);
      client.set_tcp_nodelay(true);
      auto& mine = latencies[static_cast<size_t>(i)];
      for (size_t k = static_cast<size_t>(i); now_ns() < end;
           k += static_cast<size_t>(opts.connections)) {
        const auto& [body, signature] = samples[k % samples.size()];
        const int64_t start = now_ns();
        const auto res =
            client.Post("/webhook", {{"X-Hub-Signature-256", signature}}, body, "application/json");
        const int64_t done = now_ns();
        if (res && res->status == 200 && done <= end) {
          mine.push_back(done - start);
        } else if (!res || res->status != 200) {
          ++errors;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  ::kill(bare.pid, SIGTERM);
  wait_exit(bare.pid, 10);
  ::close(bare.stdout_fd);
  for (auto& l : latencies) result.ack_ns.insert(result.ack_ns.end(), l.begin(), l.end());
  std::sort(result.ack_ns.begin(), result.ack_ns.end());
  result.rps = static_cast<double>(result.ack_ns.size()) / opts.bare_s;
  result.errors = errors.load();
  result.ran = true;
  return result;
}

// ---------------------------------------------------------------------------------------------
// The invariants, read from the database after vaxbot stopped.

std::vector<Check> check_database(const std::string& db_path, const Driver& driver,
                                  const std::vector<std::string>& acked, uint64_t& queued_replies) {
  SQLite::Database db(db_path, SQLite::OPEN_READONLY);
  std::vector<Check> checks;
  checks.push_back(check_slots(db));
  checks.push_back(check_confirmations(db, driver.confirmations()));
  checks.push_back(check_inbox(db, driver.posted_ids(), acked));
  checks.push_back(check_one_booking_per_id(db));
  {
    Check c{"every reply the stand-in accepted is recorded sent, once", true, ""};
    std::unordered_map<std::string, int> sent;
    SQLite::Statement q(db, "SELECT wamid FROM messages WHERE outbound = 1 AND wamid IS NOT NULL");
    while (q.executeStep()) ++sent[q.getColumn(0).getString()];
    size_t missing = 0, twice = 0;
    for (const auto& id : driver.issued_ids()) missing += sent.count(id) == 0 ? 1 : 0;
    for (const auto& [id, n] : sent) twice += n > 1 ? 1 : 0;
    queued_replies = static_cast<uint64_t>(
        db.execAndGet("SELECT count(*) FROM outbox WHERE status IN ('queued', 'sending')")
            .getInt64());
    c.ok = missing == 0 && twice == 0 && sent.size() == driver.issued_ids().size();
    c.detail = std::to_string(driver.issued_ids().size()) + " accepted, " +
               std::to_string(sent.size()) + " recorded, " + std::to_string(missing) +
               " not recorded; still queued at stop: " + std::to_string(queued_replies);
    checks.push_back(c);
  }
  checks.push_back(check_replies_expected(driver.counters().unexpected, driver.examples()));
  if (driver.options().statuses) {
    // Meta's reports: each applied to its reply's line, none left behind in `statuses`.
    Check c{"every reply reported read is read, and no report is left over", true, ""};
    SQLite::Statement q(db, "SELECT status FROM messages WHERE wamid_key = ?1 AND wamid = ?2");
    size_t all_three = 0, not_read = 0;
    for (const auto& [wamid, n] : driver.reported()) {
      if (n < 3) continue;
      ++all_three;
      q.reset();
      q.bind(1, vaxbot::store::wamid_key(wamid));
      q.bind(2, wamid);
      if ((!q.executeStep() || q.getColumn(0).getString() != "read") && not_read++ == 0) {
        c.detail = "first: " + wamid + "; ";
      }
    }
    const int64_t left = db.execAndGet("SELECT count(*) FROM statuses").getInt64();
    c.ok = not_read == 0 && left == 0;
    c.detail += std::to_string(all_three) + " replies with all three reports answered 200, " +
                std::to_string(not_read) + " of them not read; " + std::to_string(left) +
                " reports left in statuses";
    checks.push_back(c);
  }
  if (driver.options().ack_paced) {
    // The residents did not wait for the confirmation: each one whose confirming message got a
    // 200 must hold exactly one active booking (the conversation ran as typed).
    Check c{"every resident whose confirmation got a 200 holds one booking", true, ""};
    SQLite::Statement q(db,
                        "SELECT count(*) FROM bookings WHERE resident = ?1 AND status = 'booked'");
    size_t bad = 0;
    const std::vector<std::string> booked = driver.booked_residents();
    for (const std::string& wa_id : booked) {
      q.reset();
      q.bind(1, wa_id);
      q.executeStep();
      if (q.getColumn(0).getInt64() != 1 && bad++ == 0) c.detail = "first: " + wa_id + "; ";
    }
    c.ok = bad == 0;
    c.detail += std::to_string(booked.size()) + " residents, " + std::to_string(bad) +
                " without exactly one active booking";
    checks.push_back(c);
  }
  return checks;
}

// ---------------------------------------------------------------------------------------------
// Reporting

uintmax_t file_size_or_zero(const fs::path& p) {
  std::error_code ec;
  const uintmax_t n = fs::file_size(p, ec);
  return ec ? 0 : n;
}

// Everything the run measured, and what follows from it.
struct Results {
  // Measured.
  Counters counters;
  int plan_last_seats = 0;
  uint64_t waiting_at_end = 0;
  std::vector<int64_t> ack_ns;    // sorted
  std::vector<int64_t> reply_ns;  // sorted
  std::array<uint64_t, kMaxStatus> status{};
  uint64_t errors = 0;
  uint64_t retries = 0;
  uint64_t acked_in_window = 0;
  uint64_t duplicates_acked = 0;
  double vaxbot_cpu_s = 0;
  long peak_rss_kb = 0;
  double client_cpu_s = 0;
  double replies_per_conversation = 0;
  double busiest_thread_cores = 0;  // vaxbot's busiest thread over the window's whole seconds
  double idle_cores = 0;            // vaxbot's CPU in the second before the surge
  double elapsed_s = 0;
  uintmax_t db_bytes = 0;
  uintmax_t wal_bytes = 0;
  uintmax_t db_bytes_before = 0;  // slots (and --prior-residents) before the surge
  uint64_t queued_at_stop = 0;
  BareResult bare;
  std::vector<Check> checks;
  std::vector<uint64_t> per_second_replies;
  std::vector<uint64_t> per_second_bookings;
  std::vector<double> per_second_cpu_ms;
  // Derived by compute().
  double bookings_per_s = 0;
  double webhooks_per_s = 0;
  double replies_per_s = 0;
  double replies_per_booking = 0;
  double send_ceiling = 0;                    // bookings/s the send rate allows
  double window_cores = 0;                    // vaxbot's CPU over the window's whole seconds
  double cpu_ms_per_booking = 0;              // the same CPU per booking confirmed in those seconds
  std::vector<double> cpu_ms_per_booking_5s;  // by 5-second block of the window
  double bytes_per_resident = 0;
  double bytes_per_booked = 0;
  uint64_t busiest_second = 0;
  std::string limit;

  bool ok() const {
    return std::all_of(checks.begin(), checks.end(), [](const Check& c) { return c.ok; });
  }

  void compute(const Options& opts) {
    const Counters& n = counters;
    const double d = opts.duration_s;
    // Paced by acks, a booking is the 200 of its confirming message; paced by replies, the
    // confirmation reaching the stand-in.
    bookings_per_s = static_cast<double>(opts.ack_paced ? n.acked_bookings_in_window
                                                        : n.confirmations_in_window) /
                     d;
    webhooks_per_s = static_cast<double>(acked_in_window) / d;
    replies_per_s = static_cast<double>(n.replies_in_window) / d;
    // What the sender spent per booking with this mix (told residents, re-prompts included).
    replies_per_booking = n.confirmations_in_window > 0
                              ? static_cast<double>(n.replies_in_window) /
                                    static_cast<double>(n.confirmations_in_window)
                              : 0;
    send_ceiling = replies_per_booking > 0 ? opts.send_rate / replies_per_booking : 0;
    const double window_cpu_ms =
        std::accumulate(per_second_cpu_ms.begin(), per_second_cpu_ms.end(), 0.0);
    const uint64_t window_bookings = std::accumulate(
        per_second_bookings.begin(),
        per_second_bookings.begin() + static_cast<std::ptrdiff_t>(per_second_cpu_ms.size()),
        uint64_t{0});
    window_cores = per_second_cpu_ms.empty()
                       ? 0
                       : window_cpu_ms / 1000 / static_cast<double>(per_second_cpu_ms.size());
    cpu_ms_per_booking =
        window_bookings > 0 ? window_cpu_ms / static_cast<double>(window_bookings) : 0;
    for (size_t block = 0; block * 5 < per_second_cpu_ms.size(); ++block) {
      double cpu = 0;
      uint64_t booked = 0;
      for (size_t i = block * 5; i < std::min(per_second_cpu_ms.size(), block * 5 + 5); ++i) {
        cpu += per_second_cpu_ms[i];
        booked += per_second_bookings[i];
      }
      cpu_ms_per_booking_5s.push_back(booked > 0 ? cpu / static_cast<double>(booked) : 0);
    }
    // Only what the surge added: the database before it held the slots (and prior sessions).
    const double added =
        static_cast<double>(db_bytes + wal_bytes) - static_cast<double>(db_bytes_before);
    bytes_per_resident = n.started > 0 ? added / static_cast<double>(n.started) : 0;
    bytes_per_booked = n.booked > 0 ? added / static_cast<double>(n.booked) : 0;

    // Which stage limits: the intake when it turned webhooks away; the sender when replies
    // went at its rate (on average, or in the busiest whole second); else the offered load.
    busiest_second = per_second_replies.empty()
                         ? 0
                         : *std::max_element(per_second_replies.begin(), per_second_replies.end());
    const double use = replies_per_s / opts.send_rate;
    const std::string how = std::to_string(std::lround(use * 100)) + "% of --send-rate " +
                            std::to_string(opts.send_rate) + " on average, busiest second " +
                            std::to_string(busiest_second);
    char busiest[96];
    std::snprintf(busiest, sizeof busiest, "; vaxbot's busiest thread used %.0f%% of a core",
                  busiest_thread_cores * 100);
    if (opts.ack_paced) {
      char cores[160];
      std::snprintf(cores, sizeof cores,
                    "vaxbot used %.2f cores, the residents and the stand-in the rest of the 2",
                    window_cores);
      limit = status[503] > 0 ? "webhook intake: " + std::to_string(status[503]) +
                                    " webhooks answered 503 (queue full); " + cores
              : busiest_thread_cores >= 0.8
                  ? std::string("one vaxbot thread is saturated (the writer); ") + cores
                  : std::string("the machine: ") + cores;
      limit += busiest;
      return;
    }
    if (status[503] > 0) {
      limit = "webhook intake: " + std::to_string(status[503]) +
              " webhooks answered 503 (queue full); replies at " + how;
    } else if (use >= 0.9) {
      limit = "sender rate: replies at " + how;
    } else if (busiest_thread_cores >= 0.8) {
      limit =
          "one vaxbot thread is saturated (in profiles, the writer: every webhook, claim "
          "and send result commits there); replies at " +
          how;
    } else if (static_cast<double>(busiest_second) >= 0.95 * opts.send_rate) {
      limit = "sender rate at peaks: replies at " + how;
    } else {
      limit = "offered load: vaxbot kept up, no 503, replies at " + how;
    }
    limit += busiest;
  }
};

void print_summary(const Options& opts, const Results& r) {
  using ull = unsigned long long;
  const Counters& n = r.counters;
  std::printf("%s%ssurge, %s loop%s: ", opts.label.c_str(), opts.label.empty() ? "" : ": ",
              opts.arrival_rate > 0 ? "open" : "closed",
              opts.ack_paced ? ", paced by acks (replies sent, not awaited)" : "");
  if (opts.arrival_rate > 0) {
    std::printf("%g new residents/s", opts.arrival_rate);
  } else {
    std::printf("%d residents at once", opts.residents);
  }
  std::printf(" for %g s, --send-rate %d, %d connections, --synchronous %s", opts.duration_s,
              opts.send_rate, opts.connections, opts.synchronous.c_str());
  if (opts.prior_residents > 0) std::printf(", %d prior residents", opts.prior_residents);
  std::printf(
      "\n  residents: %llu started, %llu booked, %llu told (too early), %llu cut off at "
      "the end, %llu failed; %llu still waiting for a reply after the drain\n",
      ull{n.started}, ull{n.booked}, ull{n.told}, ull{n.cut_off}, ull{n.failed},
      ull{r.waiting_at_end});
  std::printf(
      "  mix: %llu wrong dates, %llu stickers, %llu cancelled and booked again, %llu "
      "webhooks posted twice (%llu copies answered 200); race: %llu confirmations at "
      "the last-seats centre (%d seats), %llu slot_taken, %llu found it full\n",
      ull{n.wrong_dates}, ull{n.stickers}, ull{n.cancelled}, ull{n.redelivered},
      ull{r.duplicates_acked}, ull{n.last_seat_confirmations}, r.plan_last_seats, ull{n.slot_taken},
      ull{n.race_fallback});
  std::printf(
      "  bookings/s %.1f   webhooks/s %.1f   replies/s %.1f   (%llu confirmations in the "
      "window, %llu in all; %.2f replies sent per booking, %.2f in a booked "
      "conversation)\n",
      r.bookings_per_s, r.webhooks_per_s, r.replies_per_s, ull{n.confirmations_in_window},
      ull{n.confirmations}, r.replies_per_booking, r.replies_per_conversation);
  if (opts.statuses) {
    std::printf("  Meta's status webhooks (sent, delivered, read for every reply): %llu posted\n",
                ull{n.status_webhooks});
  }
  if (opts.ack_paced) {
    std::printf(
        "  paced by acks: %llu confirming messages answered 200 in the window, %llu in all\n",
        ull{n.acked_bookings_in_window}, ull{n.acked_bookings});
  }
  std::printf(
      "  webhook ack (POST to 200): p50 %.2f ms, p99 %.2f ms, max %.1f ms;  message to "
      "reply at the stand-in: p50 %.1f ms, p99 %.1f ms, max %.1f ms\n",
      percentile_ms(r.ack_ns, 0.5), percentile_ms(r.ack_ns, 0.99), percentile_ms(r.ack_ns, 1.0),
      percentile_ms(r.reply_ns, 0.5), percentile_ms(r.reply_ns, 0.99),
      percentile_ms(r.reply_ns, 1.0));
  const uint64_t all = std::accumulate(r.status.begin(), r.status.end(), uint64_t{0});
  std::printf(
      "  HTTP: 200=%llu 503=%llu other=%llu, no answer=%llu, retried=%llu;  most "
      "residents waiting for a reply at once: %llu\n",
      ull{r.status[200]}, ull{r.status[503]}, ull{all - r.status[200] - r.status[503]},
      ull{r.errors}, ull{r.retries}, ull{n.max_waiting});
  std::printf("  vaxbot: %.2f cores in the window, %.2f ms CPU per booking", r.window_cores,
              r.cpu_ms_per_booking);
  if (r.cpu_ms_per_booking_5s.size() > 1) {
    std::printf(" (by 5 s of the window:");
    for (const double v : r.cpu_ms_per_booking_5s) {
      if (v > 0) {
        std::printf(" %.2f", v);
      } else {
        std::printf(" -");  // no booking in those 5 s
      }
    }
    std::printf(")");
  }
  std::printf(
      ", busiest thread %.2f cores; %.2f s CPU in all %.1f s with the drain; peak RSS "
      "%.1f MB; at rest before the surge %.2f cores;  this tool: CPU %.2f s\n",
      r.busiest_thread_cores, r.vaxbot_cpu_s, r.elapsed_s,
      static_cast<double>(r.peak_rss_kb) / 1024, r.idle_cores, r.client_cpu_s);
  std::printf(
      "  database after the stop: %ju bytes + WAL %ju (%ju before the surge): %.0f bytes "
      "per resident started, %.0f per booked resident\n",
      r.db_bytes, r.wal_bytes, r.db_bytes_before, r.bytes_per_resident, r.bytes_per_booked);
  if (r.bare.ran) {
    const double bare_p50 = percentile_ms(r.bare.ack_ns, 0.5);
    std::printf(
        "  bare_server, the same %d connections posting the same signed bodies for %g s: "
        "%.0f req/s, p50 %.3f ms, p99 %.3f ms;  surge webhooks/s / bare req/s = %.4f; "
        "ack p50 vaxbot / bare = %.1f\n",
        opts.connections, opts.bare_s, r.bare.rps, bare_p50, percentile_ms(r.bare.ack_ns, 0.99),
        r.webhooks_per_s / r.bare.rps, percentile_ms(r.ack_ns, 0.5) / std::max(bare_p50, 1e-6));
  }
  std::printf("  limit: %s; the send rate allows at most %.0f bookings/s at %.2f replies each\n",
              r.limit.c_str(), r.send_ceiling, r.replies_per_booking);
  for (const Check& c : r.checks) {
    std::printf("  [%s] %s: %s\n", c.ok ? "ok" : "BROKEN", c.name.c_str(), c.detail.c_str());
  }
}

std::string json_line(const Options& opts, const Results& r) {
  const Counters& n = r.counters;
  nlohmann::ordered_json j;
  j["label"] = opts.label;
  j["mode"] = opts.arrival_rate > 0 ? "open" : "closed";
  j["pace"] = opts.ack_paced ? "ack" : "reply";
  j["statuses"] = opts.statuses;
  if (opts.arrival_rate > 0) {
    j["arrival_rate"] = opts.arrival_rate;
  } else {
    j["residents"] = opts.residents;
  }
  j["duration_s"] = opts.duration_s;
  j["send_rate"] = opts.send_rate;
  j["connections"] = opts.connections;
  j["synchronous"] = opts.synchronous;
  j["prior_residents"] = opts.prior_residents;
  j["mix"] = {{"wrong_date", opts.mix.wrong_date}, {"too_early", opts.mix.too_early},
              {"sticker", opts.mix.sticker},       {"race", opts.mix.race},
              {"cancel", opts.mix.cancel},         {"redeliver", opts.mix.redeliver}};
  j["started"] = n.started;
  j["booked"] = n.booked;
  j["told"] = n.told;
  j["cut_off"] = n.cut_off;
  j["failed"] = n.failed;
  j["waiting_at_end"] = r.waiting_at_end;
  j["confirmations"] = n.confirmations;
  j["acked_bookings"] = n.acked_bookings;
  j["status_webhooks"] = n.status_webhooks;
  j["bookings_per_s"] = round_to(r.bookings_per_s, 1);
  j["webhooks_per_s"] = round_to(r.webhooks_per_s, 1);
  j["replies_per_s"] = round_to(r.replies_per_s, 1);
  j["replies_per_booking"] = round_to(r.replies_per_booking, 2);
  j["replies_per_conversation"] = round_to(r.replies_per_conversation, 2);
  j["ack_p50_ms"] = round_to(percentile_ms(r.ack_ns, 0.5), 3);
  j["ack_p99_ms"] = round_to(percentile_ms(r.ack_ns, 0.99), 3);
  j["ack_max_ms"] = round_to(percentile_ms(r.ack_ns, 1.0), 3);
  j["reply_p50_ms"] = round_to(percentile_ms(r.reply_ns, 0.5), 2);
  j["reply_p99_ms"] = round_to(percentile_ms(r.reply_ns, 0.99), 2);
  j["reply_max_ms"] = round_to(percentile_ms(r.reply_ns, 1.0), 2);
  nlohmann::ordered_json codes = nlohmann::ordered_json::object();
  for (size_t code = 0; code < r.status.size(); ++code) {
    if (r.status[code] > 0 || code == 200 || code == 503) {
      codes[std::to_string(code)] = r.status[code];
    }
  }
  j["status"] = codes;
  j["errors"] = r.errors;
  j["retries"] = r.retries;
  j["max_waiting"] = n.max_waiting;
  j["wrong_dates"] = n.wrong_dates;
  j["stickers"] = n.stickers;
  j["cancelled"] = n.cancelled;
  j["redelivered"] = n.redelivered;
  j["last_seat_confirmations"] = n.last_seat_confirmations;
  j["last_seats"] = r.plan_last_seats;
  j["slot_taken"] = n.slot_taken;
  j["race_fallback"] = n.race_fallback;
  j["vaxbot_cpu_s"] = round_to(r.vaxbot_cpu_s, 2);
  j["vaxbot_cores"] = round_to(r.window_cores, 2);
  j["vaxbot_busiest_thread_cores"] = round_to(r.busiest_thread_cores, 2);
  j["vaxbot_idle_cores"] = round_to(r.idle_cores, 2);
  j["vaxbot_cpu_ms_per_booking"] = round_to(r.cpu_ms_per_booking, 2);
  nlohmann::ordered_json blocks = nlohmann::ordered_json::array();
  for (const double v : r.cpu_ms_per_booking_5s) blocks.push_back(round_to(v, 2));
  j["vaxbot_cpu_ms_per_booking_5s"] = blocks;
  j["vaxbot_peak_rss_mb"] = round_to(static_cast<double>(r.peak_rss_kb) / 1024, 1);
  j["client_cpu_s"] = round_to(r.client_cpu_s, 2);
  j["elapsed_s"] = round_to(r.elapsed_s, 2);
  j["db_bytes"] = r.db_bytes;
  j["wal_bytes"] = r.wal_bytes;
  j["db_bytes_before"] = r.db_bytes_before;
  j["db_bytes_per_resident"] = std::round(r.bytes_per_resident);
  j["db_bytes_per_booked"] = std::round(r.bytes_per_booked);
  j["queued_at_stop"] = r.queued_at_stop;
  if (r.bare.ran) {
    j["bare"] = {{"rps", round_to(r.bare.rps, 1)},
                 {"p50_ms", round_to(percentile_ms(r.bare.ack_ns, 0.5), 3)},
                 {"p99_ms", round_to(percentile_ms(r.bare.ack_ns, 0.99), 3)},
                 {"errors", r.bare.errors}};
    j["webhooks_vs_bare"] = round_to(r.webhooks_per_s / r.bare.rps, 4);
  }
  j["send_ceiling_bookings_per_s"] = round_to(r.send_ceiling, 1);
  j["limit"] = r.limit;
  nlohmann::ordered_json cpu = nlohmann::ordered_json::array();
  for (const double v : r.per_second_cpu_ms) cpu.push_back(std::lround(v));
  j["per_second"] = {{"replies", r.per_second_replies},
                     {"bookings", r.per_second_bookings},
                     {"vaxbot_cpu_ms", cpu}};
  nlohmann::ordered_json inv = nlohmann::ordered_json::object();
  for (const Check& c : r.checks) inv[c.name] = c.ok;
  j["invariants"] = inv;
  j["ok"] = r.ok();
  return j.dump();
}

int surge(int argc, char** argv) {
  const Options opts = parse_options(argc, argv);
  std::signal(SIGPIPE, SIG_IGN);

  // A working directory for the database, the CSV and the logs.
  const fs::path dir = working_directory(opts.keep);
  const std::string db = (dir / "vaxbot.db").string();
  const std::string log_path = (dir / "vaxbot.log").string();
  const int log_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) die("cannot write " + log_path);

  const TemplateMatcher matcher((fs::path(opts.repo) / "templates").string());

  // The database: the centres and slots first, so serve seeds no demo centres.
  const std::vector<std::string> base_env = environment_without_whatsapp();
  const SlotPlan plan = import_slots(opts, dir, db, base_env, log_fd, log_path);
  if (opts.prior_residents > 0) seed_prior_sessions(db, opts.prior_residents);
  const uintmax_t db_bytes_before = file_size_or_zero(db) + file_size_or_zero(db + "-wal");

  // The Cloud API stand-in; its observer drives the residents.
  vaxbot::sender::CloudApiStandIn stand_in(stand_in_options());
  if (auto port = stand_in.start(); !port.ok()) die(port.error().message);

  const std::string secret = random_hex(16);
  const Serving serving =
      start_serve(opts, db, 0, serve_environment(base_env, secret, stand_in.api_base()), log_fd);
  if (serving.port <= 0) die("vaxbot serve did not start; see " + log_path);
  const Child& vaxbot = serving.child;
  const int port = serving.port;

  Driver driver(opts, matcher, secret, port);
  stand_in.observe([&driver](const vaxbot::sender::StandInRequest& r) { driver.on_reply(r); });

  // vaxbot at rest for a second first: what it costs with nothing to do.
  const double idle_from = read_proc(vaxbot.pid).cpu_s;
  std::this_thread::sleep_for(std::chrono::seconds(1));
  const ProcStats before = read_proc(vaxbot.pid);
  const double own_before = own_cpu_s();
  // vaxbot's CPU at the start and after each whole second of the window, in all and by thread.
  std::vector<double> cpu_marks;
  std::map<long, long> threads_first, threads_last;
  driver.run([&, pid = vaxbot.pid] {
    cpu_marks.push_back(read_proc(pid).cpu_s);
    threads_last = read_thread_ticks(pid);
    if (cpu_marks.size() == 1) threads_first = threads_last;
  });
  const ProcStats after = read_proc(vaxbot.pid);
  const double own_after = own_cpu_s();

  // Stop vaxbot as an operator would, and wait: it finishes the sends under way.
  ::kill(vaxbot.pid, SIGTERM);
  const int exit_code = wait_exit(vaxbot.pid, 60);
  ::close(vaxbot.stdout_fd);
  stand_in.stop();
  const uintmax_t db_bytes = file_size_or_zero(db);
  const uintmax_t wal_bytes = file_size_or_zero(db + "-wal");

  // Merge what the connections saw.
  std::vector<int64_t> ack_ns;
  std::array<uint64_t, kMaxStatus> status{};
  uint64_t errors = 0, retries = 0, acked_in_window = 0, duplicates_acked = 0;
  std::vector<std::string> acked;
  std::vector<std::pair<std::string, std::string>> samples;
  for (ConnectionStats& s : driver.connection_stats()) {
    ack_ns.insert(ack_ns.end(), s.ack_ns.begin(), s.ack_ns.end());
    for (size_t i = 0; i < status.size(); ++i) status[i] += s.status[i];
    errors += s.errors;
    retries += s.retries;
    acked_in_window += s.acked_in_window;
    duplicates_acked += s.duplicates_acked;
    acked.insert(acked.end(), s.acked.begin(), s.acked.end());
    samples.insert(samples.end(), s.samples.begin(), s.samples.end());
  }
  std::sort(ack_ns.begin(), ack_ns.end());
  std::vector<int64_t>& reply_ns = driver.reply_latencies();
  std::sort(reply_ns.begin(), reply_ns.end());

  const BareResult bare = run_bare(opts, samples, log_fd);

  uint64_t queued_replies = 0;
  std::vector<Check> checks = check_database(db, driver, acked, queued_replies);
  if (exit_code != 0) {
    checks.push_back({"vaxbot stops cleanly on SIGTERM", false,
                      "exit status " + std::to_string(exit_code) + "; see " + log_path});
  }

  // ---- numbers
  Results res;
  res.counters = driver.counters();
  res.replies_per_conversation = driver.replies_per_conversation();
  res.plan_last_seats = plan.last_seat_total;
  res.waiting_at_end = driver.waiting_at_end();
  res.ack_ns = std::move(ack_ns);
  res.reply_ns = std::move(reply_ns);
  res.status = status;
  res.errors = errors;
  res.retries = retries;
  res.acked_in_window = acked_in_window;
  res.duplicates_acked = duplicates_acked;
  res.vaxbot_cpu_s = after.cpu_s - before.cpu_s;
  res.idle_cores = before.cpu_s - idle_from;
  res.peak_rss_kb = after.peak_rss_kb;
  res.client_cpu_s = own_after - own_before;
  res.elapsed_s = driver.elapsed_s();
  res.db_bytes = db_bytes;
  res.wal_bytes = wal_bytes;
  res.db_bytes_before = db_bytes_before;
  res.queued_at_stop = queued_replies;
  res.bare = bare;
  res.checks = checks;
  const auto& timeline = driver.timeline();
  const auto& marks = cpu_marks;
  if (marks.size() > 1) {
    res.busiest_thread_cores =
        busiest_thread(threads_first, threads_last, static_cast<double>(marks.size() - 1));
  }
  for (size_t i = 0; i < timeline.size() || i + 1 < marks.size(); ++i) {
    if (static_cast<double>(i) >= opts.duration_s) break;
    res.per_second_replies.push_back(i < timeline.size() ? timeline[i][0] : 0);
    res.per_second_bookings.push_back(i < timeline.size() ? timeline[i][1] : 0);
    if (i + 1 < marks.size()) res.per_second_cpu_ms.push_back((marks[i + 1] - marks[i]) * 1000);
  }
  res.compute(opts);
  print_summary(opts, res);
  std::printf("%s\n", json_line(opts, res).c_str());
  std::fflush(stdout);
  for (const Check& c : res.checks) {
    if (!c.ok)
      std::fprintf(stderr, "surge: INVARIANT BROKEN: %s: %s\n", c.name.c_str(), c.detail.c_str());
  }
  const bool ok = res.ok();

  return finish_run("surge", log_fd, dir, !opts.keep.empty(), ok);
}

}  // namespace
}  // namespace vaxbot::bench

int main(int argc, char** argv) {
  return vaxbot::bench::surge(argc, argv);
}
