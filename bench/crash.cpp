// crash: launch day with vaxbot killed under it, again and again. The residents of bench/surge
// book end to end against one `vaxbot serve`; at a random moment vaxbot gets SIGKILL; the
// database is checked while it is dead; vaxbot starts again on the same database and port, with
// the same Cloud API stand-in, and every webhook that got no 200 is posted again, as Meta does.
// --kills times in a row. Then the residents go on for --tail seconds, vaxbot drains, stops with
// SIGTERM, and everything is checked once more.
//
//   crash [--kills 20] [--kill-min 0.5] [--kill-max 3] [--tail 2] [--residents 200]
//         [--send-rate 1000] [--connections 16] [--wrong-date 10] [--too-early 5] [--sticker 5]
//         [--race 5] [--cancel 5] [--redeliver 2] [--no-mix] [--think-ms 0] [--drain 15]
//         [--vaxbot PATH] [--repo DIR] [--keep DIR] [--synchronous full|normal]
//         [--last-seats 30] [--seed N] [--label TEXT]
//
// Each round: vaxbot runs for a time drawn uniformly from [--kill-min, --kill-max] seconds after
// it printed `listening on` (seeded by --seed), then gets SIGKILL. Webhooks in flight at the
// kill, and those refused while vaxbot is down, are held (surge_lib.h, Driver::pause); once
// vaxbot is dead, no POST is under way and the stand-in has seen every request that reached it,
// the database is opened read-only and checked:
//   - no slot above its capacity, and slots.booked = its bookings with status 'booked';
//   - every confirmation a resident received is a booking of that resident (reference, status);
//   - at most one active booking per id_hash;
//   - every message id ever acknowledged with 200 (in any round) is in the inbox, once, and the
//     inbox holds no id that was never posted: nothing acknowledged is lost across kills;
//   - every reply the stand-in accepted is an outbox row with that wa_message_id, once; or
//     else it was accepted since the last restart and its row (same body) is 'sending' now.
//     Those are the duplicates README.md ("Sending replies") allows: Meta accepted the reply,
//     vaxbot died before recording it, and the restart sends it again. Each is counted, the
//     copy sent again is kept from the resident (who has the first), and at the end its row
//     must be 'sent' under the copy's id;
//   - every reply a resident received was one its conversation calls for;
//   - the restarted vaxbot's start-up log re-sends as many rows as were 'sending' at the kill.
// Then vaxbot starts on the same port and the held webhooks are posted again (same body, same
// wamid). After the last round the same checks run once vaxbot stopped (SIGTERM, exit 0), where
// no reply may be unrecorded, and every resident still waiting for a reply must have one queued
// (paced by Meta's pair limit), not lost.
//
// Output: one line per round (kill time, acknowledged so far, webhooks held and posted again,
// rows 'sending' at the kill, duplicates), a summary and one JSON line. Exit 0 only when every
// check held at every kill and at the end; 1 otherwise (each broken check is also printed with
// INVARIANT BROKEN on stderr, and the working directory is kept); 2 on bad usage or a failed
// set-up. Run from the repository root (or give --repo). See bench/README.md, "Crash under
// surge".

#include <SQLiteCpp/SQLiteCpp.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <regex>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "surge_lib.h"

namespace vaxbot::bench {
namespace {

constexpr double kWindowForeverSeconds = 1e6;  // the residents' window until the last restart
constexpr int kSettleTimeoutSeconds = 10;

struct CrashOptions {
  Options surge;  // the residents, vaxbot, the paths
  int kills = 20;
  double kill_min_s = 0.5;
  double kill_max_s = 3;
  double tail_s = 2;  // after the last restart, before the window closes
};

[[noreturn]] void usage(int code) {
  std::fprintf(
      code == 0 ? stdout : stderr,
      "usage: crash [--kills 20] [--kill-min 0.5] [--kill-max 3] [--tail 2] [--residents 200]\n"
      "             [--send-rate 1000] [--connections 16] [--wrong-date 10] [--too-early 5]\n"
      "             [--sticker 5] [--race 5] [--cancel 5] [--redeliver 2] [--no-mix]\n"
      "             [--think-ms 0] [--drain 15] [--vaxbot PATH] [--repo DIR] [--keep DIR]\n"
      "             [--synchronous full|normal] [--last-seats 30] [--seed N] [--label TEXT]\n"
      "Residents book through `vaxbot serve` (as bench/surge) while it is killed with SIGKILL\n"
      "--kills times at random moments and restarted on the same database; webhooks without a\n"
      "200 are posted again. The database is checked at every kill and at the end. Run from the\n"
      "repository root (or give --repo). Exit 1 when an invariant breaks.\n");
  std::exit(code);
}

CrashOptions parse_options(int argc, char** argv) {
  CrashOptions o;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "-h" || arg == "--help") usage(0);
    if (arg == "--no-mix") {
      o.surge.mix = Mix{0, 0, 0, 0, 0, 0};
      continue;
    }
    if (i + 1 >= argc) usage(2);
    const char* v = argv[++i];
    if (parse_shared_flag(o.surge, arg, v)) continue;
    if (arg == "--kills") {
      o.kills = parse_int(arg, v, 1, 1000);
    } else if (arg == "--kill-min") {
      o.kill_min_s = parse_number(arg, v, 0.01, 600);
    } else if (arg == "--kill-max") {
      o.kill_max_s = parse_number(arg, v, 0.01, 600);
    } else if (arg == "--tail") {
      o.tail_s = parse_number(arg, v, 0, 600);
    } else {
      std::fprintf(stderr, "crash: unknown flag %s\n", argv[i - 1]);
      usage(2);
    }
  }
  if (o.kill_max_s < o.kill_min_s) die("--kill-max is below --kill-min");
  o.surge.duration_s = kWindowForeverSeconds;  // closed by Driver::end_window_in()
  resolve_paths(o.surge);
  return o;
}

// ---------------------------------------------------------------------------------------------
// Every reply the stand-in accepted, and the copies vaxbot sends again after a kill.

class ReplyLedger {
 public:
  // What reconcile() found.
  struct Reconciled {
    size_t accepted = 0;        // replies the stand-in accepted, all rounds
    size_t recorded = 0;        // of them, recorded in outbox under their id
    size_t duplicates = 0;      // new: accepted since the restart, row 'sending' at the kill
    size_t twice = 0;           // ids recorded on more than one row
    size_t lost = 0;            // accepted, not recorded, not being sent, not a duplicate
    size_t never_accepted = 0;  // ids in outbox that the stand-in never gave
    std::string first_lost;
  };

  // On the stand-in's threads, for every request it answered. A copy of a reply that vaxbot
  // sends again after a kill is kept from the resident, who has the first; others go on to
  // the residents.
  void observe(const vaxbot::sender::StandInRequest& r, Driver& driver) {
    {
      std::lock_guard lock(mutex_);
      ++observed_;
      if (r.message_id.empty()) return;  // a read receipt or an error answer
      Accepted& a = accepted_.emplace_back();
      a.wamid = r.message_id;
      a.body = r.body;
      a.round = round_;
      const auto again = expected_again_.find(r.body);
      if (again != expected_again_.end()) {
        a.copy = true;
        ++copies_received_;
        if (--again->second == 0) expected_again_.erase(again);
        return;
      }
    }
    driver.on_reply(r);
  }

  // Requests the observer has seen (to compare with CloudApiStandIn::count()).
  size_t observed() const {
    std::lock_guard lock(mutex_);
    return observed_;
  }

  // The next vaxbot: requests from now on are of this round.
  void start_round(int round) {
    std::lock_guard lock(mutex_);
    round_ = round;
  }

  // Called with vaxbot dead (or stopped) and every request observed. `recorded`: outbox's
  // wa_message_id -> rows; `sending`: the bodies of rows 'sending' -> their ids, consumed as
  // duplicates are matched to them. An accepted reply of this round that is not recorded and
  // whose body a 'sending' row holds is a new duplicate: its row will be sent again, and that
  // copy is expected.
  Reconciled reconcile(const std::unordered_map<std::string, int>& recorded,
                       std::unordered_map<std::string, std::vector<int64_t>>& sending) {
    std::lock_guard lock(mutex_);
    Reconciled out;
    std::unordered_set<std::string> given;
    for (Accepted& a : accepted_) {
      given.insert(a.wamid);
      ++out.accepted;
      const auto it = recorded.find(a.wamid);
      if (it != recorded.end()) {
        ++out.recorded;
        continue;
      }
      if (a.duplicate_row != 0) continue;  // found at an earlier kill
      const auto rows = sending.find(a.body);
      if (a.round == round_ && rows != sending.end() && !rows->second.empty()) {
        a.duplicate_row = rows->second.back();
        rows->second.pop_back();
        ++expected_again_[a.body];
        duplicates_.push_back({a.duplicate_row, a.wamid, round_});
        ++out.duplicates;
        continue;
      }
      if (out.lost++ == 0) out.first_lost = a.wamid + " (round " + std::to_string(a.round) + ")";
    }
    for (const auto& [id, n] : recorded) {
      out.twice += n > 1 ? 1 : 0;
      out.never_accepted += given.count(id) == 0 ? 1 : 0;
    }
    return out;
  }

  struct Duplicate {
    int64_t row = 0;
    std::string wamid;  // of the copy vaxbot did not record
    int round = 0;      // the kill that left it unrecorded
  };
  std::vector<Duplicate> duplicates() const {
    std::lock_guard lock(mutex_);
    return duplicates_;
  }
  // Copies expected after a kill that have not arrived.
  size_t copies_missing() const {
    std::lock_guard lock(mutex_);
    size_t n = 0;
    for (const auto& [body, count] : expected_again_) n += static_cast<size_t>(count);
    return n;
  }
  size_t copies_received() const {
    std::lock_guard lock(mutex_);
    return copies_received_;
  }
  size_t accepted() const {
    std::lock_guard lock(mutex_);
    return accepted_.size();
  }

 private:
  struct Accepted {
    std::string wamid;
    std::string body;
    int round = 0;
    bool copy = false;          // sent again after a kill; not shown to the resident
    int64_t duplicate_row = 0;  // not recorded: the outbox row sent again
  };

  mutable std::mutex mutex_;
  size_t observed_ = 0;
  int round_ = 1;
  std::vector<Accepted> accepted_;
  std::unordered_map<std::string, int> expected_again_;  // body -> copies still to come
  std::vector<Duplicate> duplicates_;
  size_t copies_received_ = 0;
};

// ---------------------------------------------------------------------------------------------
// One kill (or the final stop) and what the database showed then.

struct Round {
  int number = 0;           // 1..kills; kills + 1 is the final stop
  double kill_s = 0;        // after vaxbot printed `listening on`
  int exit_status = 0;      // 128 + SIGKILL expected (0 for the final SIGTERM)
  size_t acked = 0;         // distinct message ids acknowledged with 200 so far
  size_t held = 0;          // webhooks without a 200 at the check (posted again after restart)
  size_t committed = 0;     // of those, already in the inbox: the 200 was lost, not the message
  size_t redelivered = 0;   // posted again after the restart (held by then)
  int64_t sending = 0;      // outbox rows 'sending'
  int64_t queued = 0;       // outbox rows 'queued'
  size_t duplicates = 0;    // replies accepted by the stand-in that vaxbot had not recorded
  size_t waiting = 0;       // residents waiting for a reply
  int logged_resend = -1;   // the restarted vaxbot's start-up log: rows it sends again
  uintmax_t wal_bytes = 0;  // the write-ahead log vaxbot left (what the restart recovers)
  double restart_ms = 0;    // from exec to `listening on`
  std::vector<Check> checks;

  bool ok() const {
    return std::all_of(checks.begin(), checks.end(), [](const Check& c) { return c.ok; });
  }
};

// Waits until no POST is under way and the stand-in's observer has seen every request the
// stand-in recorded, stable for 100 ms (vaxbot is dead: nothing new can reach either).
bool settle(Driver& driver, const vaxbot::sender::CloudApiStandIn& stand_in,
            const ReplyLedger& ledger) {
  const int64_t deadline = now_ns() + int64_t{kSettleTimeoutSeconds} * kNsPerSec;
  size_t last = SIZE_MAX;
  int quiet = 0;
  while (now_ns() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    const size_t seen = stand_in.count();
    const bool still = driver.posting() == 0 && ledger.observed() == seen && seen == last;
    quiet = still ? quiet + 1 : 0;
    last = seen;
    if (quiet >= 5) return true;
  }
  return false;
}

// The database while vaxbot is dead (at_kill) or stopped: every check, and the round's numbers.
void check_round(const std::string& db_path, Driver& driver, ReplyLedger& ledger, bool at_kill,
                 Round& round) {
  Driver::Progress p = driver.progress();
  SQLite::Database db(db_path, SQLite::OPEN_READONLY);
  round.checks.push_back(check_slots(db));
  round.checks.push_back(check_confirmations(db, p.confirmations));
  round.checks.push_back(check_one_booking_per_id(db));
  round.checks.push_back(check_inbox(db, p.posted, p.acked));
  round.acked = std::unordered_set<std::string>(p.acked.begin(), p.acked.end()).size();

  // The webhooks held for after the restart, and which of them vaxbot had committed.
  {
    round.held = p.held.size();
    SQLite::Statement q(db, "SELECT 1 FROM messages WHERE wamid = ?1 AND outbound = 0");
    for (const auto& id : p.held) {
      q.reset();
      q.bind(1, id);
      round.committed += q.executeStep() ? 1 : 0;
    }
  }

  // Replies: recorded once, or duplicates of this round.
  std::unordered_map<std::string, int> recorded;
  {
    SQLite::Statement q(db, "SELECT wamid FROM messages WHERE outbound = 1 AND wamid IS NOT NULL");
    while (q.executeStep()) ++recorded[q.getColumn(0).getString()];
  }
  std::unordered_map<std::string, std::vector<int64_t>> sending;
  {
    SQLite::Statement q(db, "SELECT id, body FROM outbox WHERE status = 'sending'");
    while (q.executeStep()) {
      sending[q.getColumn(1).getString()].push_back(q.getColumn(0).getInt64());
      ++round.sending;
    }
  }
  round.queued = db.execAndGet("SELECT count(*) FROM outbox WHERE status = 'queued'").getInt64();
  const ReplyLedger::Reconciled r = ledger.reconcile(recorded, sending);
  round.duplicates = r.duplicates;
  {
    Check c{"every accepted reply is recorded once, or was 'sending' at the kill", true, ""};
    c.ok = r.lost == 0 && r.twice == 0 && r.never_accepted == 0;
    c.detail = std::to_string(r.accepted) + " accepted, " + std::to_string(r.recorded) +
               " recorded, " + std::to_string(r.duplicates) + " new duplicates (" +
               std::to_string(round.sending) + " rows 'sending'), " + std::to_string(r.lost) +
               " lost, " + std::to_string(r.twice) + " ids on two rows, " +
               std::to_string(r.never_accepted) + " recorded ids never accepted";
    if (r.lost > 0) c.detail += "; first lost: " + r.first_lost;
    if (!at_kill && round.sending > 0) {
      c.ok = false;
      c.detail += "; rows left 'sending' by SIGTERM";
    }
    round.checks.push_back(c);
  }
  round.checks.push_back(check_replies_expected(p.counters.unexpected, p.examples));
  round.waiting = p.waiting.size();

  if (at_kill) return;
  // The end: every duplicate's row was sent again and recorded under the copy's id, and every
  // copy reached the stand-in; every resident still waiting has a reply queued (paced), none lost.
  {
    Check c{"every duplicate's row was sent again and recorded", true, ""};
    SQLite::Statement q(db, "SELECT status, coalesce(wamid, '') FROM messages WHERE seq = ?1");
    size_t bad = 0;
    const auto dups = ledger.duplicates();
    for (const auto& d : dups) {
      q.reset();
      q.bind(1, d.row);
      const bool found = q.executeStep();
      const std::string status = found ? q.getColumn(0).getString() : "";
      const std::string id = found ? q.getColumn(1).getString() : "";
      const bool sent = status == "sent" || status == "delivered" || status == "read";
      if ((!sent || id == d.wamid) && bad++ == 0) {
        c.detail = "first: row " + std::to_string(d.row) + " is '" + status + "' (" + id + "); ";
      }
    }
    const size_t missing = ledger.copies_missing();
    c.ok = bad == 0 && missing == 0;
    c.detail += std::to_string(dups.size()) + " duplicates, " + std::to_string(bad) +
                " rows not sent again, " + std::to_string(missing) + " copies never arrived";
    round.checks.push_back(c);
  }
  {
    Check c{"every resident still waiting has a reply queued", true, ""};
    SQLite::Statement q(db,
                        "SELECT count(*) FROM outbox WHERE recipient = ?1 AND status IN "
                        "('queued', 'sending')");
    size_t lost = 0;
    for (const auto& wa_id : p.waiting) {
      q.reset();
      q.bind(1, wa_id);
      q.executeStep();
      if (q.getColumn(0).getInt64() == 0 && lost++ == 0) c.detail = "first: " + wa_id + "; ";
    }
    c.ok = lost == 0;
    c.detail += std::to_string(p.waiting.size()) + " waiting, " + std::to_string(lost) +
                " with nothing queued";
    round.checks.push_back(c);
  }
}

// How many rows vaxbot's start-up log (from byte `offset` of the log) says it sends again.
int logged_resend(const std::string& log_path, std::streamoff offset) {
  std::ifstream in(log_path);
  in.seekg(offset);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  static const std::regex pattern(
      R"((\d+) replies were claimed for sending when vaxbot last stopped)");
  std::smatch m;
  return std::regex_search(text, m, pattern) ? std::stoi(m[1].str()) : 0;
}

std::streamoff file_end(const std::string& path) {
  std::error_code ec;
  const auto n = std::filesystem::file_size(path, ec);
  return ec ? 0 : static_cast<std::streamoff>(n);
}

void print_round(const Round& r, bool final_stop) {
  if (final_stop) {
    std::printf("end (SIGTERM, exit %d):", r.exit_status);
  } else {
    std::printf("kill %2d at %.2f s:", r.number, r.kill_s);
  }
  std::printf(
      " acknowledged so far %zu; un-acked %zu (%zu already committed), re-delivered %zu; "
      "outbox 'sending' %lld, 'queued' %lld; duplicates %zu; residents waiting %zu",
      r.acked, r.held, r.committed, r.redelivered, static_cast<long long>(r.sending),
      static_cast<long long>(r.queued), r.duplicates, r.waiting);
  if (!final_stop) {
    std::printf("; WAL %.1f MB, restart %.0f ms, log re-sends %d",
                static_cast<double>(r.wal_bytes) / 1e6, r.restart_ms, r.logged_resend);
  }
  std::printf("; %s\n", r.ok() ? "ok" : "BROKEN");
  for (const Check& c : r.checks) {
    if (!c.ok) std::printf("    [BROKEN] %s: %s\n", c.name.c_str(), c.detail.c_str());
  }
  std::fflush(stdout);
}

int crash(int argc, char** argv) {
  const CrashOptions copts = parse_options(argc, argv);
  const Options& opts = copts.surge;
  std::signal(SIGPIPE, SIG_IGN);

  const fs::path dir = working_directory(opts.keep);
  const std::string db = (dir / "vaxbot.db").string();
  const std::string log_path = (dir / "vaxbot.log").string();
  const int log_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) die("cannot write " + log_path);
  const TemplateMatcher matcher((fs::path(opts.repo) / "templates").string());
  const std::vector<std::string> base_env = environment_without_whatsapp();
  import_slots(opts, dir, db, base_env, log_fd, log_path);

  vaxbot::sender::CloudApiStandIn stand_in(stand_in_options());
  if (auto port = stand_in.start(); !port.ok()) die(port.error().message);
  const std::string secret = random_hex(16);
  const std::vector<std::string> env = serve_environment(base_env, secret, stand_in.api_base());

  Serving vaxbot = start_serve(opts, db, 0, env, log_fd);
  if (vaxbot.port <= 0) die("vaxbot serve did not start; see " + log_path);
  const int port = vaxbot.port;  // every restart listens here again, as Meta's URL stays
  int64_t listening_ns = now_ns();

  Driver driver(opts, matcher, secret, port);
  ReplyLedger ledger;
  stand_in.observe(
      [&driver, &ledger](const vaxbot::sender::StandInRequest& r) { ledger.observe(r, driver); });

  std::printf(
      "%s%scrash: %d residents at once, --send-rate %d, %d connections, --synchronous %s; "
      "%d kills, each %g-%g s after vaxbot listens (seed %llu)\n",
      opts.label.c_str(), opts.label.empty() ? "" : ": ", opts.residents, opts.send_rate,
      opts.connections, opts.synchronous.c_str(), copts.kills, copts.kill_min_s, copts.kill_max_s,
      static_cast<unsigned long long>(opts.seed));
  std::fflush(stdout);

  std::mt19937_64 rng(opts.seed);
  std::uniform_real_distribution<double> kill_after(copts.kill_min_s, copts.kill_max_s);
  std::vector<Round> rounds;
  bool gave_up = false;
  driver.begin();
  for (int k = 1; k <= copts.kills && !gave_up; ++k) {
    Round& round = rounds.emplace_back();
    round.number = k;
    round.kill_s = kill_after(rng);
    std::this_thread::sleep_until(std::chrono::steady_clock::time_point(
        std::chrono::nanoseconds(listening_ns + static_cast<int64_t>(round.kill_s * 1e9))));

    driver.pause();
    ::kill(vaxbot.child.pid, SIGKILL);
    round.exit_status = wait_exit(vaxbot.child.pid, 30);
    ::close(vaxbot.child.stdout_fd);
    if (round.exit_status != 128 + SIGKILL) {
      round.checks.push_back({"vaxbot was running until the kill", false,
                              "exit status " + std::to_string(round.exit_status)});
    }
    if (!settle(driver, stand_in, ledger)) {
      round.checks.push_back(
          {"posts and replies settle once vaxbot is dead", false,
           "still moving after " + std::to_string(kSettleTimeoutSeconds) + " s"});
    }
    {
      std::error_code ec;
      round.wal_bytes = fs::file_size(db + "-wal", ec);
      if (ec) round.wal_bytes = 0;
    }
    check_round(db, driver, ledger, /*at_kill=*/true, round);

    // The same database, the same port, the same stand-in.
    const std::streamoff log_from = file_end(log_path);
    const int64_t exec_ns = now_ns();
    ledger.start_round(k + 1);
    vaxbot = start_serve(opts, db, port, env, log_fd);
    listening_ns = now_ns();
    round.restart_ms = static_cast<double>(listening_ns - exec_ns) / 1e6;
    if (vaxbot.port != port) {
      round.checks.push_back(
          {"vaxbot starts again after the kill", false, "it did not listen; see " + log_path});
      gave_up = true;
    } else {
      round.logged_resend = logged_resend(log_path, log_from);
      round.checks.push_back({"the start-up log re-sends the rows left 'sending'",
                              round.logged_resend == round.sending,
                              std::to_string(round.logged_resend) + " re-sent, " +
                                  std::to_string(round.sending) + " were 'sending'"});
      round.redelivered = driver.resume();
    }
    print_round(round, false);
  }

  // The residents go on for --tail seconds; then no new messages, the drain, and the stop.
  Round& last = rounds.emplace_back();
  last.number = copts.kills + 1;
  if (!gave_up) {
    driver.end_window_in(copts.tail_s);
    driver.window([] {});
  } else {
    driver.end_window_in(0);
    last.exit_status = -1;  // not started again
  }
  driver.drain();
  if (!gave_up) {
    ::kill(vaxbot.child.pid, SIGTERM);
    last.exit_status = wait_exit(vaxbot.child.pid, 60);
    ::close(vaxbot.child.stdout_fd);
    if (last.exit_status != 0) {
      last.checks.push_back(
          {"vaxbot stops cleanly on SIGTERM", false,
           "exit status " + std::to_string(last.exit_status) + "; see " + log_path});
    }
  }
  if (!settle(driver, stand_in, ledger)) {
    last.checks.push_back({"posts and replies settle after the stop", false, "still moving"});
  }
  stand_in.stop();
  check_round(db, driver, ledger, /*at_kill=*/false, last);
  print_round(last, true);

  // ---- the summary
  const Driver::Progress p = driver.progress();
  const Counters& n = p.counters;
  size_t held = 0, committed = 0, redelivered = 0, duplicates = 0;
  int64_t sending = 0;
  std::vector<double> restarts;
  size_t broken = 0;
  for (const Round& r : rounds) {
    broken += r.ok() ? 0 : 1;
    if (r.number > copts.kills) continue;
    held += r.held;
    committed += r.committed;
    redelivered += r.redelivered;
    duplicates += r.duplicates;
    sending += r.sending;
    restarts.push_back(r.restart_ms);
  }
  const bool ok = broken == 0;
  std::sort(restarts.begin(), restarts.end());
  const double restart_p50 = restarts.empty() ? 0 : restarts[restarts.size() / 2];
  const double restart_max = restarts.empty() ? 0 : restarts.back();
  uint64_t status_200 = 0, status_503 = 0, errors = 0;
  for (const ConnectionStats& s : driver.connection_stats()) {
    status_200 += s.status[200];
    status_503 += s.status[503];
    errors += s.errors;
  }
  const size_t kills_done = rounds.size() - 1;
  std::printf(
      "  residents: %llu started, %llu booked, %llu told, %llu cut off at the end, %llu failed, "
      "%zu stuck (still waiting after the drain); %llu confirmations, %llu cancelled and booked "
      "again, %llu slot_taken\n",
      static_cast<unsigned long long>(n.started), static_cast<unsigned long long>(n.booked),
      static_cast<unsigned long long>(n.told), static_cast<unsigned long long>(n.cut_off),
      static_cast<unsigned long long>(n.failed), p.waiting.size(),
      static_cast<unsigned long long>(n.confirmations),
      static_cast<unsigned long long>(n.cancelled), static_cast<unsigned long long>(n.slot_taken));
  std::printf(
      "  %zu kills: webhooks acknowledged %zu (200s: %llu, 503s: %llu, no answer: %llu); "
      "un-acked at the kills %zu, of which %zu already committed; re-delivered %zu\n",
      kills_done, last.acked, static_cast<unsigned long long>(status_200),
      static_cast<unsigned long long>(status_503), static_cast<unsigned long long>(errors), held,
      committed, redelivered);
  std::printf(
      "  replies: %zu accepted by the stand-in; outbox rows 'sending' at the kills %lld, of "
      "which the stand-in had accepted %zu (sent twice: the at-least-once window), %zu copies "
      "kept from the residents; %lld rows queued at the stop\n",
      ledger.accepted(), static_cast<long long>(sending), duplicates, ledger.copies_received(),
      static_cast<long long>(last.queued));
  std::printf("  restart (exec to listening): p50 %.0f ms, max %.0f ms\n", restart_p50,
              restart_max);
  if (ok) {
    std::printf("  invariants: held at all %zu kills and at the stop\n", kills_done);
  } else {
    std::printf("  invariants: BROKEN at %zu of %zu checks (%zu kills and the stop)\n", broken,
                rounds.size(), kills_done);
  }

  nlohmann::ordered_json j;
  j["label"] = opts.label;
  j["residents"] = opts.residents;
  j["kills"] = kills_done;
  j["kill_min_s"] = copts.kill_min_s;
  j["kill_max_s"] = copts.kill_max_s;
  j["seed"] = opts.seed;
  j["send_rate"] = opts.send_rate;
  j["synchronous"] = opts.synchronous;
  j["started"] = n.started;
  j["booked"] = n.booked;
  j["told"] = n.told;
  j["cut_off"] = n.cut_off;
  j["failed"] = n.failed;
  j["stuck"] = p.waiting.size();
  j["confirmations"] = n.confirmations;
  j["acked"] = last.acked;
  j["unacked_at_kills"] = held;
  j["unacked_committed"] = committed;
  j["redelivered"] = redelivered;
  j["replies_accepted"] = ledger.accepted();
  j["sending_at_kills"] = sending;
  j["duplicates"] = duplicates;
  j["queued_at_stop"] = last.queued;
  j["restart_p50_ms"] = round_to(restart_p50, 1);
  j["restart_max_ms"] = round_to(restart_max, 1);
  nlohmann::ordered_json per_round = nlohmann::ordered_json::array();
  for (const Round& r : rounds) {
    per_round.push_back({{"round", r.number},
                         {"kill_s", round_to(r.kill_s, 3)},
                         {"acked", r.acked},
                         {"unacked", r.held},
                         {"committed", r.committed},
                         {"redelivered", r.redelivered},
                         {"sending", r.sending},
                         {"duplicates", r.duplicates},
                         {"waiting", r.waiting},
                         {"wal_bytes", r.wal_bytes},
                         {"restart_ms", round_to(r.restart_ms, 1)},
                         {"ok", r.ok()}});
  }
  j["rounds"] = per_round;
  j["ok"] = ok;
  std::printf("%s\n", j.dump().c_str());
  std::fflush(stdout);

  for (const Round& r : rounds) {
    for (const Check& c : r.checks) {
      if (!c.ok) {
        std::fprintf(stderr, "crash: INVARIANT BROKEN at %s %d: %s: %s\n",
                     r.number > copts.kills ? "the stop, round" : "kill", r.number, c.name.c_str(),
                     c.detail.c_str());
      }
    }
  }
  return finish_run("crash", log_fd, dir, !opts.keep.empty(), ok);
}

}  // namespace
}  // namespace vaxbot::bench

int main(int argc, char** argv) {
  return vaxbot::bench::crash(argc, argv);
}
