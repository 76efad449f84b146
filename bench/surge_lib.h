// surge_lib.h: what bench/surge.cpp and bench/crash.cpp share. The residents of launch day
// (each holds a whole booking conversation through signed webhooks and answers vaxbot's replies
// as they reach the Cloud API stand-in), the child processes (`vaxbot import-slots`, `vaxbot
// serve`), the centres and slots of a run, and the invariants checked on the database.
//
// Header-only (CMake builds every bench/*.cpp into its own tool). Everything here is for one
// tool process: die() exits it on a failed set-up. Driver is thread-safe as documented on its
// methods; the rest is plain functions and values. What the tools measure and check:
// bench/README.md, "Launch-day surge" and "Crash under surge".
#pragma once

#include <SQLiteCpp/SQLiteCpp.h>
#include <errno.h>  // program_invocation_short_name
#include <fcntl.h>
#include <httplib.h>
#include <openssl/rand.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <queue>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "booking/civil_date.h"
#include "booking/id_proof.h"
#include "core/language.h"
#include "flow/engine.h"
#include "sender/stand_in.h"
#include "templates/templates.h"
#include "whatsapp/signature.h"

extern char** environ;

namespace vaxbot::bench {

namespace fs = std::filesystem;
using vaxbot::core::Language;

constexpr int64_t kNsPerMs = 1'000'000;
constexpr int64_t kNsPerSec = 1'000'000'000;
constexpr int kMaxStatus = 600;
constexpr int kMaxAttempts = 10;        // a webhook that fails this often fails its resident
constexpr size_t kMaxSamples = 20000;   // signed bodies kept for the bare-server replay
constexpr size_t kMaxExamples = 5;      // unexpected replies quoted in the output
constexpr int kUtcOffsetMinutes = 330;  // flows/second_dose.json: India
constexpr const char* kAccessToken = "surge-token";
constexpr const char* kPhoneNumberId = "106540352242922";
constexpr const char* kDisplayNumber = "918000000100";
constexpr const char* kWabaId = "210987654321098";
constexpr const char* kLastSeatsVenue = "surge-last-seats";
constexpr uint64_t kFirstResident = 919100000000;  // residents are 91 91xxxxxxxx

constexpr int kStandInThreads = 320;  // above vaxbot's most sender connections (300)

inline int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

inline int64_t to_ns(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

// Prints "<tool>: <what>" (the program's own name: surge or crash) and exits 2.
[[noreturn]] inline void die(const std::string& what) {
  std::fprintf(stderr, "%s: %s\n", program_invocation_short_name, what.c_str());
  std::exit(2);
}

inline std::string random_hex(size_t bytes) {
  std::vector<unsigned char> raw(bytes);
  if (RAND_bytes(raw.data(), static_cast<int>(raw.size())) != 1) die("RAND_bytes failed");
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (const unsigned char b : raw) {
    out += kHex[b >> 4];
    out += kHex[b & 0xf];
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Options

struct Mix {
  double wrong_date = 10;
  double too_early = 5;
  double sticker = 5;
  double race = 5;
  double cancel = 5;
  double redeliver = 2;
};

struct Options {
  int residents = 200;      // closed loop: residents in conversation at once
  double arrival_rate = 0;  // open loop when > 0: new residents per second
  double duration_s = 20;
  double drain_s = 15;
  double bare_s = 3;
  int send_rate = 1000;
  int connections = 16;
  int think_ms = 0;
  int last_seats = 30;
  int prior_residents = 0;  // sessions of residents who wrote earlier in the day
  // --pace ack: a resident sends its next message as soon as the last one got its 200 (vaxbot
  // has then stored it and run the conversation), typing every answer, instead of waiting for
  // the reply; replies are still sent at --send-rate and checked, but not awaited. It measures
  // what vaxbot's intake and conversation take, not what the send rate lets through.
  bool ack_paced = false;
  // --statuses: for every reply the stand-in accepts, Meta's three status webhooks (sent,
  // delivered, read) are posted back, as Meta does: about three more webhooks per reply.
  bool statuses = false;
  uint64_t seed = 1;
  Mix mix;
  std::string vaxbot;
  std::string bare;
  std::string repo = ".";
  std::string keep;
  std::string synchronous = "full";
  std::string label;
};

inline double parse_number(std::string_view flag, const char* value, double min, double max) {
  char* end = nullptr;
  const double v = std::strtod(value, &end);
  if (end == value || *end != '\0' || !std::isfinite(v) || v < min || v > max) {
    die("bad value for " + std::string(flag) + ": " + value);
  }
  return v;
}

inline int parse_int(std::string_view flag, const char* value, int min, int max) {
  const double v = parse_number(flag, value, min, max);
  if (v != std::floor(v)) die("bad value for " + std::string(flag) + ": " + value);
  return static_cast<int>(v);
}

// The directory of this executable (BUILD/bench), to find BUILD/vaxbot and bare_server.
inline fs::path own_directory() {
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  return ec ? fs::path(".") : self.parent_path();
}

// The flags surge and crash share (both take them the same way): sets `o` from `arg` and its
// value `v`, and returns true; false when `arg` is none of them.
inline bool parse_shared_flag(Options& o, std::string_view arg, const char* v) {
  if (arg == "--residents") {
    o.residents = parse_int(arg, v, 1, 100000);
  } else if (arg == "--drain") {
    o.drain_s = parse_number(arg, v, 0, 3600);
  } else if (arg == "--send-rate") {
    o.send_rate = parse_int(arg, v, 1, 1000);
  } else if (arg == "--connections") {
    o.connections = parse_int(arg, v, 1, 256);
  } else if (arg == "--think-ms") {
    o.think_ms = parse_int(arg, v, 0, 600000);
  } else if (arg == "--last-seats") {
    o.last_seats = parse_int(arg, v, 1, 144);
  } else if (arg == "--seed") {
    o.seed = static_cast<uint64_t>(parse_number(arg, v, 0, 1e15));
  } else if (arg == "--wrong-date") {
    o.mix.wrong_date = parse_number(arg, v, 0, 100);
  } else if (arg == "--too-early") {
    o.mix.too_early = parse_number(arg, v, 0, 100);
  } else if (arg == "--sticker") {
    o.mix.sticker = parse_number(arg, v, 0, 100);
  } else if (arg == "--race") {
    o.mix.race = parse_number(arg, v, 0, 100);
  } else if (arg == "--cancel") {
    o.mix.cancel = parse_number(arg, v, 0, 100);
  } else if (arg == "--redeliver") {
    o.mix.redeliver = parse_number(arg, v, 0, 100);
  } else if (arg == "--vaxbot") {
    o.vaxbot = v;
  } else if (arg == "--repo") {
    o.repo = v;
  } else if (arg == "--keep") {
    o.keep = v;
  } else if (arg == "--label") {
    o.label = v;
  } else if (arg == "--synchronous") {
    o.synchronous = v;
    if (o.synchronous != "full" && o.synchronous != "normal") {
      die("bad value for --synchronous: " + o.synchronous + " (full or normal)");
    }
  } else {
    return false;
  }
  return true;
}

// After parsing: the programs' paths made absolute (vaxbot defaults to BUILD/vaxbot, next to
// BUILD/bench/ where this tool is; bare_server to BUILD/bench/bare_server), and checked.
inline void resolve_paths(Options& o) {
  const fs::path here = own_directory();
  if (o.vaxbot.empty()) o.vaxbot = (here.parent_path() / "vaxbot").string();
  if (o.bare.empty()) o.bare = (here / "bare_server").string();
  o.vaxbot = fs::absolute(o.vaxbot).string();
  o.bare = fs::absolute(o.bare).string();
  o.repo = fs::absolute(o.repo).lexically_normal().string();
  if (!fs::exists(fs::path(o.repo) / "flows" / "second_dose.json")) {
    die(o.repo + " has no flows/second_dose.json: run from the repository root or give --repo");
  }
  if (::access(o.vaxbot.c_str(), X_OK) != 0) die("cannot run " + o.vaxbot + " (give --vaxbot)");
}

// ---------------------------------------------------------------------------------------------
// Child processes

struct Child {
  pid_t pid = -1;
  int stdout_fd = -1;  // read end of its stdout, when captured
};

// fork + exec with cwd, env, stdout (captured into a pipe, or to out_fd) and stderr to
// err_fd. Everything the child needs is prepared before fork(): the process has threads.
inline Child spawn(const std::vector<std::string>& args, const std::string& cwd,
                   const std::vector<std::string>& env, bool capture_stdout, int out_fd,
                   int err_fd) {
  std::vector<char*> argv_c;
  for (const auto& a : args) argv_c.push_back(const_cast<char*>(a.c_str()));
  argv_c.push_back(nullptr);
  std::vector<char*> env_c;
  for (const auto& e : env) env_c.push_back(const_cast<char*>(e.c_str()));
  env_c.push_back(nullptr);
  int pipe_fds[2] = {-1, -1};
  if (capture_stdout && ::pipe2(pipe_fds, O_CLOEXEC) != 0) die("pipe failed");

  const pid_t pid = ::fork();
  if (pid < 0) die("fork failed");
  if (pid == 0) {
    if (!cwd.empty() && ::chdir(cwd.c_str()) != 0) ::_exit(126);
    if (::dup2(capture_stdout ? pipe_fds[1] : out_fd, STDOUT_FILENO) < 0) ::_exit(126);
    if (::dup2(err_fd, STDERR_FILENO) < 0) ::_exit(126);
    ::execve(argv_c[0], argv_c.data(), env_c.data());
    ::_exit(127);
  }
  Child child;
  child.pid = pid;
  if (capture_stdout) {
    ::close(pipe_fds[1]);
    child.stdout_fd = pipe_fds[0];
  }
  return child;
}

// Waits for the child to exit; returns its exit status (128 + signal when killed), or -1
// after timeout_s (the child is then killed).
inline int wait_exit(pid_t pid, double timeout_s) {
  const int64_t deadline = now_ns() + static_cast<int64_t>(timeout_s * 1e9);
  for (;;) {
    int status = 0;
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (r < 0) return -1;
    if (now_ns() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

// Reads the child's stdout until `listening on http://HOST:PORT`; returns PORT, or -1.
inline int read_listening_port(const Child& child, double timeout_s) {
  std::string line;
  const int64_t deadline = now_ns() + static_cast<int64_t>(timeout_s * 1e9);
  while (now_ns() < deadline) {
    pollfd p{child.stdout_fd, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    char c = 0;
    const ssize_t n = ::read(child.stdout_fd, &c, 1);
    if (n <= 0) return -1;  // exited before listening
    if (c != '\n') {
      line += c;
      continue;
    }
    constexpr std::string_view kPrefix = "listening on http://";
    if (line.starts_with(kPrefix)) {
      const size_t colon = line.rfind(':');
      return std::atoi(line.c_str() + colon + 1);
    }
    line.clear();
  }
  return -1;
}

// ---------------------------------------------------------------------------------------------
// The centres and slots, imported before vaxbot starts (so serve seeds no demo centres).

struct SlotPlan {
  std::string csv;
  int last_seat_total = 0;
};

// Five ordinary centres with every vaccine in three windows a day for the next 7 days, 10,000
// seats each (nobody is turned away); one last-seats centre with `last_seats` five-minute
// covishield slots tomorrow of 1, 2 or 3 seats, which the racers all go for.
inline SlotPlan plan_slots(int last_seats) {
  using namespace vaxbot::booking;
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  const CivilDate today = local_date(now_ms, kUtcOffsetMinutes);
  SlotPlan plan;
  std::string& csv = plan.csv;
  csv = "venue_id,venue_name,address,date,start,end,vaccine,capacity\n";
  const std::array<std::pair<const char*, const char*>, 3> windows = {
      {{"09:00", "11:00"}, {"11:00", "13:00"}, {"14:00", "16:00"}}};
  for (int c = 1; c <= 5; ++c) {
    const std::string venue = "surge-c" + std::to_string(c) + ",Surge Centre " + std::to_string(c) +
                              ",\"" + std::to_string(c) +
                              " Surge Road (sample address), Kolkata 7000" +
                              std::to_string(10 + c) + "\"";
    for (int d = 1; d <= 7; ++d) {
      const std::string date = to_iso(add_days(today, d));
      for (const auto& [start, end] : windows) {
        for (const char* vaccine : {"covishield", "covaxin", "sputnik_v"}) {
          csv += venue + "," + date + "," + start + "," + end + "," + vaccine + ",10000\n";
        }
      }
    }
  }
  const std::string tomorrow = to_iso(add_days(today, 1));
  for (int k = 0; k < last_seats; ++k) {
    const int start = 7 * 60 + 5 * k;
    const int end = start + 5;
    char times[16];
    std::snprintf(times, sizeof times, "%02d:%02d,%02d:%02d", start / 60 % 24, start % 60,
                  end / 60 % 24, end % 60);
    const int seats = 1 + k % 3;
    plan.last_seat_total += seats;
    csv += std::string(kLastSeatsVenue) +
           ",Last Seats Camp,\"1 Last Lane (sample address), Kolkata 700001\"," + tomorrow + "," +
           times + ",covishield," + std::to_string(seats) + "\n";
  }
  return plan;
}

// ---------------------------------------------------------------------------------------------
// A run's set-up: the working directory, the database, the stand-in, `vaxbot serve`.

// --keep DIR (created if need be; it must not hold a vaxbot.db yet), or a fresh
// $TMPDIR/<tool>.XXXXXX.
inline fs::path working_directory(const std::string& keep) {
  if (keep.empty()) {
    std::string pattern =
        (fs::temp_directory_path() / (std::string(program_invocation_short_name) + ".XXXXXX"))
            .string();
    if (::mkdtemp(pattern.data()) == nullptr) die("mkdtemp failed");
    return pattern;
  }
  const fs::path dir = fs::absolute(keep);
  fs::create_directories(dir);
  if (fs::exists(dir / "vaxbot.db")) {
    die((dir / "vaxbot.db").string() + " exists: give an empty --keep DIR");
  }
  return dir;
}

// This process's environment without WHATSAPP_*: vaxbot's settings come from the tool only.
inline std::vector<std::string> environment_without_whatsapp() {
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    if (!std::string_view(*e).starts_with("WHATSAPP_")) env.emplace_back(*e);
  }
  return env;
}

// Writes the centres and slots of plan_slots(--last-seats) to DIR/slots.csv and imports them
// into a new database with `vaxbot import-slots` (first, so that serve seeds no demo centres).
inline SlotPlan import_slots(const Options& opts, const fs::path& dir, const std::string& db,
                             const std::vector<std::string>& env, int log_fd,
                             const std::string& log_path) {
  SlotPlan plan = plan_slots(opts.last_seats);
  const std::string csv = (dir / "slots.csv").string();
  std::ofstream(csv) << plan.csv;
  Child import =
      spawn({opts.vaxbot, "import-slots", "--db", db, csv}, opts.repo, env, false, log_fd, log_fd);
  if (wait_exit(import.pid, 60) != 0) die("vaxbot import-slots failed; see " + log_path);
  return plan;
}

// The Cloud API stand-in as the tools run it: plain HTTP, a thread for each of vaxbot's sender
// connections, no request bodies kept (its observer sees them).
inline vaxbot::sender::StandInOptions stand_in_options() {
  vaxbot::sender::StandInOptions o;
  o.threads = kStandInThreads;
  o.keep_bodies = false;
  return o;
}

// `vaxbot serve`'s environment: `env`, the webhook secret, and the stand-in as the Cloud API.
inline std::vector<std::string> serve_environment(std::vector<std::string> env,
                                                  const std::string& secret,
                                                  const std::string& api_base) {
  env.push_back("WHATSAPP_APP_SECRET=" + secret);
  env.push_back(std::string("WHATSAPP_ACCESS_TOKEN=") + kAccessToken);
  env.push_back(std::string("WHATSAPP_PHONE_NUMBER_ID=") + kPhoneNumberId);
  env.push_back("WHATSAPP_API_BASE=" + api_base);
  return env;
}

struct Serving {
  Child child;
  int port = -1;  // -1: it did not start (and was stopped)
};

// Starts `vaxbot serve --host 127.0.0.1 --port PORT (0: any) --db DB --send-rate R
// --mark-read off --synchronous S` from --repo, stderr to log_fd, and waits up to 30 s for
// `listening on http://HOST:PORT`.
inline Serving start_serve(const Options& opts, const std::string& db, int port,
                           const std::vector<std::string>& env, int log_fd) {
  const std::vector<std::string> args = {opts.vaxbot,     "serve",
                                         "--host",        "127.0.0.1",
                                         "--port",        std::to_string(port),
                                         "--db",          db,
                                         "--send-rate",   std::to_string(opts.send_rate),
                                         "--mark-read",   "off",
                                         "--synchronous", opts.synchronous};
  Serving s;
  s.child = spawn(args, opts.repo, env, true, -1, log_fd);
  s.port = read_listening_port(s.child, 30);
  if (s.port <= 0) {
    ::kill(s.child.pid, SIGTERM);
    wait_exit(s.child.pid, 10);
    ::close(s.child.stdout_fd);
    s.port = -1;
  }
  return s;
}

// ---------------------------------------------------------------------------------------------
// What vaxbot said: its send body, and which template it is.

struct Option {
  std::string id;
  std::string title;
  std::string description;
};

struct BotMessage {
  std::string to;  // "+<wa_id>"
  std::string text;
  std::vector<Option> options;  // buttons or list rows
  bool list = false;
};

inline std::string string_at(const nlohmann::json& o, const char* key) {
  const auto it = o.find(key);
  return it != o.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// Reads the body vaxbot POSTs to the Cloud API (whatsapp/send.cpp: text, interactive button
// or interactive list). false when it is none of these.
inline bool parse_bot_message(const std::string& body, BotMessage& out) {
  const auto root = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!root.is_object()) return false;
  out.to = string_at(root, "to");
  const std::string type = string_at(root, "type");
  if (type == "text") {
    const auto t = root.find("text");
    if (t == root.end() || !t->is_object()) return false;
    out.text = string_at(*t, "body");
    return true;
  }
  if (type != "interactive") return false;
  const auto& in = root.value("interactive", nlohmann::json::object());
  out.text = string_at(in.value("body", nlohmann::json::object()), "text");
  const auto& action = in.value("action", nlohmann::json::object());
  if (string_at(in, "type") == "button") {
    for (const auto& b : action.value("buttons", nlohmann::json::array())) {
      const auto& reply = b.value("reply", nlohmann::json::object());
      out.options.push_back({string_at(reply, "id"), string_at(reply, "title"), ""});
    }
    return true;
  }
  out.list = true;
  for (const auto& section : action.value("sections", nlohmann::json::array())) {
    for (const auto& row : section.value("rows", nlohmann::json::array())) {
      out.options.push_back(
          {string_at(row, "id"), string_at(row, "title"), string_at(row, "description")});
    }
  }
  return true;
}

// The replies the residents act on or expect; kOther is any other template (its key is kept
// for the report), kUnknown a text no template of the resident's language makes.
enum class Key {
  kWelcome,
  kDateUnrecognised,
  kDateImpossible,
  kDateInFuture,
  kAskVaccine,
  kNotYetEligible,
  kAskIdNumber,
  kAskCentre,
  kAskSlot,
  kNoSlots,
  kAskConfirm,
  kSlotTaken,
  kBooked,
  kCancelConfirm,
  kCancelled,
  kSendTextInstead,
  kChoiceNotUnderstood,
  kHelp,
  kOther,
  kUnknown,
};

inline const std::map<std::string, Key, std::less<>>& named_keys() {
  static const std::map<std::string, Key, std::less<>> keys = {
      {"welcome", Key::kWelcome},
      {"date_unrecognised", Key::kDateUnrecognised},
      {"date_impossible", Key::kDateImpossible},
      {"date_in_future", Key::kDateInFuture},
      {"ask_vaccine", Key::kAskVaccine},
      {"not_yet_eligible", Key::kNotYetEligible},
      {"ask_id_number", Key::kAskIdNumber},
      {"ask_centre", Key::kAskCentre},
      {"ask_slot", Key::kAskSlot},
      {"no_slots", Key::kNoSlots},
      {"ask_confirm", Key::kAskConfirm},
      {"slot_taken", Key::kSlotTaken},
      {"booked", Key::kBooked},
      {"cancel_confirm", Key::kCancelConfirm},
      {"cancelled", Key::kCancelled},
      {"send_text_instead", Key::kSendTextInstead},
      {"choice_not_understood", Key::kChoiceNotUnderstood},
      {"help", Key::kHelp},
  };
  return keys;
}

struct Classified {
  Key key = Key::kUnknown;
  std::string name;                           // the template key ("" when unknown)
  std::map<std::string, std::string> values;  // placeholder -> the text it became
  std::vector<Key> notices;  // notices folded in before it ("slot_taken" before "ask_slot")
};

// Recognises which template a reply was rendered from, by the template's literal pieces
// between {{placeholders}}: "Reference: *{{reference}}*\n..." matches a body that starts with
// "Reference: *", then has "*\n..." and so on, and yields reference = the text in between.
// Built once from templates/*.json; immutable, so thread-safe.
class TemplateMatcher {
 public:
  explicit TemplateMatcher(const std::string& dir) {
    std::vector<vaxbot::core::Diagnostic> problems;
    auto loaded =
        vaxbot::templates::Templates::load(dir, vaxbot::flow::known_placeholders(), problems);
    if (!loaded.ok()) die("cannot load " + dir + ": " + loaded.error().message);
    for (const Language lang : vaxbot::core::kLanguages) {
      for (const std::string& key : loaded->keys()) {
        if (!is_message_key(key)) continue;
        const std::string* raw = loaded->raw(lang, key);
        if (raw != nullptr) shapes_[index(lang)].push_back(split(key, *raw));
      }
    }
  }

  // The template of `text` in `lang`; the longest match wins (the most literal text). A text
  // no one template makes may be notices the bot folded into the message after them
  // (flow::kFoldSeparator between them): each notice must be a whole template.
  Classified classify(Language lang, std::string_view text) const {
    Classified whole = classify_one(lang, text);
    if (!whole.name.empty()) return whole;
    for (size_t at = text.find(kFold); at != std::string_view::npos;
         at = text.find(kFold, at + 1)) {
      const Classified notice = classify_one(lang, text.substr(0, at));
      if (notice.name.empty()) continue;
      Classified rest = classify(lang, text.substr(at + kFold.size()));
      if (rest.name.empty()) continue;
      rest.notices.insert(rest.notices.begin(), notice.key);
      return rest;
    }
    return whole;
  }

 private:
  static constexpr std::string_view kFold = vaxbot::flow::kFoldSeparator;

  Classified classify_one(Language lang, std::string_view text) const {
    Classified best;
    size_t best_length = 0;
    for (const Shape& shape : shapes_[index(lang)]) {
      if (!best.name.empty() && shape.literal_length <= best_length) continue;
      std::map<std::string, std::string> values;
      if (!matches(shape, text, values)) continue;
      best_length = shape.literal_length;
      best.name = shape.key;
      best.values = std::move(values);
    }
    if (!best.name.empty()) {
      const auto it = named_keys().find(best.name);
      best.key = it == named_keys().end() ? Key::kOther : it->second;
    }
    return best;
  }

  struct Shape {
    std::string key;
    std::vector<std::string> literals;  // one more than names
    std::vector<std::string> names;
    size_t literal_length = 0;
  };

  static size_t index(Language lang) { return static_cast<size_t>(lang); }

  // Keys that are whole messages (not button titles, list rows or pieces of other texts).
  static bool is_message_key(std::string_view key) {
    for (const std::string_view prefix : {"btn_", "expect_", "more_row", "slot_row_"}) {
      if (key.starts_with(prefix)) return false;
    }
    return !key.ends_with("_button") && key != "booking_summary";
  }

  static Shape split(const std::string& key, const std::string& text) {
    Shape s;
    s.key = key;
    size_t pos = 0;
    for (;;) {
      const size_t open = text.find("{{", pos);
      const size_t close = open == std::string::npos ? open : text.find("}}", open);
      if (close == std::string::npos) {
        s.literals.push_back(text.substr(pos));
        break;
      }
      s.literals.push_back(text.substr(pos, open - pos));
      s.names.push_back(text.substr(open + 2, close - open - 2));
      pos = close + 2;
    }
    for (const auto& l : s.literals) s.literal_length += l.size();
    return s;
  }

  static bool matches(const Shape& s, std::string_view text,
                      std::map<std::string, std::string>& values) {
    if (s.names.empty()) return text == s.literals[0];
    if (!text.starts_with(s.literals.front()) || !text.ends_with(s.literals.back())) return false;
    if (text.size() < s.literals.front().size() + s.literals.back().size()) return false;
    size_t pos = s.literals.front().size();
    const size_t tail = text.size() - s.literals.back().size();
    for (size_t i = 0; i < s.names.size(); ++i) {
      const bool last = i + 1 == s.names.size();
      const size_t at = last ? tail : text.find(s.literals[i + 1], pos);
      if (at == std::string_view::npos || at < pos || at > tail) return false;
      values[s.names[i]] = std::string(text.substr(pos, at - pos));
      pos = at + s.literals[i + 1].size();
    }
    return true;
  }

  std::array<std::vector<Shape>, 3> shapes_;
};

// ---------------------------------------------------------------------------------------------
// Residents

enum class Step { kNone, kDate, kVaccine, kId, kCentre, kSlot, kConfirm };
// What the resident sent last, which decides the replies it may get.
enum class Sent {
  kNothing,
  kGreeting,
  kWrongDate,
  kSticker,
  kDate,
  kVaccine,
  kId,
  kCentre,
  kSlot,
  kConfirm,
  kCancel,
  kCancelYes
};
enum class Outcome { kActive, kBooked, kTold, kFailed, kCutOff };

// A small, seedable random bit generator (splitmix64): each resident has its own.
struct SplitMix64 {
  using result_type = uint64_t;
  uint64_t state = 0;
  static constexpr result_type min() { return 0; }
  static constexpr result_type max() { return UINT64_MAX; }
  result_type operator()() {
    uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
};

struct Resident {
  size_t index = 0;
  std::string wa_id;
  std::string name;
  Language lang = Language::kEn;
  SplitMix64 rng;
  // Traits, drawn at the start.
  bool wrong_date = false;
  bool too_early = false;
  bool racer = false;
  bool cancel_rebook = false;
  Step sticker_at = Step::kNone;
  int redeliver_turn = -1;  // which of its messages is posted twice
  Key wrong_date_key = Key::kDateImpossible;
  // Progress.
  Sent sent = Sent::kNothing;
  Step step = Step::kNone;
  Outcome outcome = Outcome::kActive;
  int turns = 0;
  bool sticker_done = false;
  bool wrong_done = false;
  bool cancelled_once = false;
  bool in_last_seats = false;
  bool waiting = false;              // a message is out and the reply it calls for is not in
  bool first_reply_pending = false;  // for the reply-latency measurement
  int64_t sent_ns = 0;               // POST start of its latest message
  std::string vaccine;
  std::string reply_context;  // the wamid of the bot message being answered
  std::vector<Option> options;
  size_t confirmation = 0;  // its latest booking, in Driver::confirmations_
  int replies = 0;
  int bookings = 0;
};

// The texts residents type, by language (index = core::Language).
constexpr std::array<const char*, 3> kGreeting = {
    "Hi", "\u09A8\u09AE\u09B8\u09CD\u0995\u09BE\u09B0", "\u0928\u092E\u0938\u094D\u0924\u0947"};
constexpr std::array<const char*, 3> kCancelWord = {"cancel", "\u09AC\u09BE\u09A4\u09BF\u09B2",
                                                    "\u0930\u0926\u094D\u0926"};
constexpr std::array<const char*, 3> kNoDate = {
    "last month", "\u0997\u09A4 \u09AE\u09BE\u09B8\u09C7",
    "\u092A\u093F\u091B\u0932\u0947 \u092E\u0939\u0940\u0928\u0947"};

inline size_t lang_index(Language l) {
  return static_cast<size_t>(l);
}

// ASCII digits in the resident's script: Bengali (U+09E6..) or Devanagari (U+0966..).
inline std::string in_script(std::string_view ascii, Language lang) {
  if (lang == Language::kEn) return std::string(ascii);
  std::string out;
  for (const char c : ascii) {
    if (c < '0' || c > '9') {
      out += c;
      continue;
    }
    const unsigned base = lang == Language::kBn ? 0x09E6 : 0x0966;
    const unsigned cp = base + static_cast<unsigned>(c - '0');
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
  return out;
}

// A date as the resident types it: 14/11/2025 (English), in Bengali digits (Bengali),
// 14-11-2025 in Devanagari digits (Hindi).
inline std::string typed_date(vaxbot::booking::CivilDate d, Language lang) {
  char buf[16];
  std::snprintf(buf, sizeof buf, lang == Language::kHi ? "%02d-%02d-%04d" : "%02d/%02d/%04d", d.day,
                d.month, d.year);
  return in_script(buf, lang);
}

// A valid, distinct ID per resident: Aadhaar (2xxxxxxxxxx + Verhoeff digit, typed 4-4-4)
// for English and Bengali residents, a PAN for Hindi ones. No look-alike letters, so the
// bot never needs to ask which kind of ID it is.
inline std::string id_number(size_t index, Language lang) {
  if (lang == Language::kHi) {
    static constexpr char kLetters[] = "ABCDEFGHJKMNPRSTUVWXYZ";  // no I, L, O, Q
    constexpr size_t kN = sizeof(kLetters) - 1;
    size_t n = index;
    std::string pan;
    for (int i = 0; i < 3; ++i) {
      pan += kLetters[n % kN];
      n /= kN;
    }
    pan += 'P';
    pan += kLetters[n % kN];
    char digits[8];
    std::snprintf(digits, sizeof digits, "%04zu", index % 10000);
    pan += digits;
    pan += kLetters[(index / 10000) % kN];
    return pan;
  }
  char base[16];
  std::snprintf(base, sizeof base, "2%010zu", index);
  const std::string digits = std::string(base) + vaxbot::booking::verhoeff_digit(base);
  const std::string spaced =
      digits.substr(0, 4) + " " + digits.substr(4, 4) + " " + digits.substr(8, 4);
  return in_script(spaced, lang);
}

inline void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  for (const char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
      out += buf;
    } else {
      out += c;
    }
  }
  out += '"';
}

// What a resident sends: typed text, a tap on a button or list row, or a sticker.
struct Content {
  enum class Kind { kText, kButton, kList, kSticker } kind = Kind::kText;
  std::string text;
  Option chosen;
};

// The start of every webhook the tools post: the envelope up to the value's metadata.
inline std::string webhook_head(size_t reserve) {
  std::string b;
  b.reserve(reserve);
  b += R"({"object":"whatsapp_business_account","entry":[{"id":")";
  b += kWabaId;
  b +=
      R"(","changes":[{"value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":")";
  b += kDisplayNumber;
  b += R"(","phone_number_id":")";
  b += kPhoneNumberId;
  return b;
}

// Meta's status webhook for one of vaxbot's replies (wamid: the id the stand-in gave it),
// shaped like shared/fixtures/webhooks/status_delivered.json.
inline std::string status_body(const std::string& wa_id, const std::string& wamid,
                               const char* state) {
  std::string b = webhook_head(700);
  b += R"("},"statuses":[{"id":")" + wamid + R"(","status":")" + state + R"(","timestamp":")";
  b += std::to_string(std::time(nullptr));
  b += R"(","recipient_id":")" + wa_id;
  b += R"(","conversation":{"id":"7f3c2a9d41b85e06c1d2e3f4a5b6c7d8","origin":{"type":"service"}},)";
  b += R"("pricing":{"billable":false,"pricing_model":"PMP","type":"free_customer_service",)";
  b += R"("category":"service"}}]},"field":"messages"}]}]})";
  return b;
}

// A real-shaped WhatsApp webhook with one message (tests/fixtures/webhooks/text_hi.json,
// interactive_button_reply.json, interactive_list_reply.json, sticker.json).
inline std::string webhook_body(const Resident& r, const std::string& wamid, const Content& c) {
  std::string b = webhook_head(900);
  b += R"("},"contacts":[{"profile":{"name":)";
  append_json_string(b, r.name);
  b += R"(},"wa_id":")" + r.wa_id + R"("}],"messages":[{)";
  if ((c.kind == Content::Kind::kButton || c.kind == Content::Kind::kList) &&
      !r.reply_context.empty()) {
    b += R"("context":{"from":")";
    b += kDisplayNumber;
    b += R"(","id":")" + r.reply_context + R"("},)";
  }
  b += R"("from":")" + r.wa_id + R"(","id":")" + wamid + R"(","timestamp":")";
  b += std::to_string(std::time(nullptr));
  b += R"(",)";
  switch (c.kind) {
    case Content::Kind::kText:
      b += R"("type":"text","text":{"body":)";
      append_json_string(b, c.text);
      b += '}';
      break;
    case Content::Kind::kButton:
      b += R"("type":"interactive","interactive":{"type":"button_reply","button_reply":{"id":)";
      append_json_string(b, c.chosen.id);
      b += R"(,"title":)";
      append_json_string(b, c.chosen.title);
      b += "}}";
      break;
    case Content::Kind::kList:
      b += R"("type":"interactive","interactive":{"type":"list_reply","list_reply":{"id":)";
      append_json_string(b, c.chosen.id);
      b += R"(,"title":)";
      append_json_string(b, c.chosen.title);
      b += R"(,"description":)";
      append_json_string(b, c.chosen.description);
      b += "}}";
      break;
    case Content::Kind::kSticker:
      b += R"("type":"sticker","sticker":{"mime_type":"image/webp","sha256":"c3VyZ2VzdGlja2Vy",)"
           R"("id":"8877665544332211","animated":false})";
      break;
  }
  b += R"(}]},"field":"messages"}]}]})";
  return b;
}

// ---------------------------------------------------------------------------------------------
// The driver: residents, the webhook connections, and the replies coming back.

struct Job {
  size_t resident = 0;
  std::string wamid;
  std::string body;
  bool duplicate = false;  // the second copy of a re-delivered webhook
  bool status = false;     // Meta's status report on a reply (wamid = the reply's)
  int attempts = 0;
  int64_t due_ns = 0;
};

// Jobs waiting for a connection: due now (FIFO) or later (after a 503's Retry-After or the
// residents' think time). pop() blocks until one is due; after close() it returns nothing
// (jobs still waiting are dropped: the run is over). Thread-safe.
class JobQueue {
 public:
  void push(Job job) {
    {
      std::lock_guard lock(mutex_);
      if (job.due_ns <= now_ns()) {
        ready_.push_back(std::move(job));
      } else {
        later_.push(std::move(job));
      }
    }
    changed_.notify_one();
  }

  std::optional<Job> pop() {
    std::unique_lock lock(mutex_);
    for (;;) {
      if (closed_) return std::nullopt;
      while (!later_.empty() && later_.top().due_ns <= now_ns()) {
        ready_.push_back(later_.top());
        later_.pop();
      }
      if (!ready_.empty()) {
        Job job = std::move(ready_.front());
        ready_.pop_front();
        return job;
      }
      if (later_.empty()) {
        changed_.wait(lock);
      } else {
        changed_.wait_for(lock, std::chrono::nanoseconds(later_.top().due_ns - now_ns()));
      }
    }
  }

  void close() {
    {
      std::lock_guard lock(mutex_);
      closed_ = true;
    }
    changed_.notify_all();
  }

 private:
  struct Later {
    bool operator()(const Job& a, const Job& b) const { return a.due_ns > b.due_ns; }
  };
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Job> ready_;
  std::priority_queue<Job, std::vector<Job>, Later> later_;
  bool closed_ = false;
};

// What one connection saw; merged after the run.
struct ConnectionStats {
  std::vector<int64_t> ack_ns;  // POST start to the 200's last byte
  std::array<uint64_t, kMaxStatus> status{};
  uint64_t errors = 0;   // no HTTP answer (connection failed, reset, timed out)
  uint64_t retries = 0;  // posts repeated after a 503, another status or an error
  uint64_t acked_in_window = 0;
  uint64_t duplicates_acked = 0;
  std::vector<std::string> acked;                            // wamids answered 200
  std::vector<std::pair<std::string, std::string>> samples;  // body, signature
};

struct Counters {
  uint64_t started = 0;
  uint64_t booked = 0;  // residents whose conversation ended booked
  uint64_t told = 0;
  uint64_t failed = 0;
  uint64_t cut_off = 0;
  uint64_t replies = 0;
  uint64_t replies_in_window = 0;
  uint64_t confirmations = 0;  // "booked" replies, rebookings included
  uint64_t confirmations_in_window = 0;
  uint64_t slot_taken = 0;
  uint64_t last_seat_confirmations = 0;  // confirmations in the last-seats centre
  uint64_t race_fallback = 0;            // racers who found the last-seats centre full
  uint64_t cancelled = 0;
  uint64_t stickers = 0;
  uint64_t wrong_dates = 0;
  uint64_t redelivered = 0;
  uint64_t unexpected = 0;
  uint64_t max_waiting = 0;
  uint64_t acked_bookings = 0;   // --pace ack: confirmations answered 200
  uint64_t status_webhooks = 0;  // --statuses: Meta's reports posted
  uint64_t acked_bookings_in_window = 0;
};

// A "booked" reply the stand-in received, and what the resident did with the booking since.
struct Confirmation {
  enum class Fate { kBooked, kCancelling, kCancelled };  // cancelling: yes sent, no answer yet
  std::string reference;
  std::string wa_id;
  Fate fate = Fate::kBooked;
};

class Driver {
 public:
  Driver(const Options& opts, const TemplateMatcher& matcher, const std::string& secret, int port)
      : opts_(opts), matcher_(matcher), verifier_(secret), port_(port), run_id_(random_hex(6)) {
    using namespace vaxbot::booking;
    const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
    today_ = local_date(now_ms, kUtcOffsetMinutes);
  }

  // Runs the surge: sends for --duration, then drains; returns when done. tick() is called at
  // the start and after each whole second of the window (to sample vaxbot's CPU).
  void run(const std::function<void()>& tick) {
    begin();
    window(tick);
    drain();
  }

  // run() in three parts, for a caller that acts in between (bench/crash). begin() starts the
  // connections and the residents, and the window of --duration seconds; window() waits for
  // its end, calling tick() at once and after each whole second; drain() sends no new messages,
  // waits up to --drain seconds for posts under way and replies still due, and stops the
  // connections. Call them once each, in this order, from one thread.
  void begin() {
    start_ns_ = now_ns();
    end_ns_ = start_ns_ + static_cast<int64_t>(opts_.duration_s * 1e9);
    for (int i = 0; i < opts_.connections; ++i) {
      stats_.emplace_back();
    }
    for (int i = 0; i < opts_.connections; ++i) {
      workers_.emplace_back([this, i] { work(stats_[static_cast<size_t>(i)]); });
    }
    if (opts_.arrival_rate > 0) {
      arrivals_ = std::thread([this] { arrive(); });
    } else {
      std::lock_guard lock(mutex_);
      for (int i = 0; i < opts_.residents; ++i) start_resident();
    }
  }

  void window(const std::function<void()>& tick) {
    tick();
    int64_t next_mark = start_ns_ + kNsPerSec;
    while (now_ns() < end_ns_) {
      std::this_thread::sleep_for(std::chrono::nanoseconds(
          std::clamp<int64_t>(next_mark - now_ns(), kNsPerMs, 100 * kNsPerMs)));
      if (now_ns() >= next_mark && next_mark <= end_ns_) {
        tick();
        next_mark += kNsPerSec;
      }
      std::lock_guard lock(mutex_);
      counters_.max_waiting = std::max<uint64_t>(counters_.max_waiting, waiting_);
    }
  }

  void drain() {
    if (arrivals_.joinable()) arrivals_.join();
    // Drain: no new messages now; wait for posts under way and the replies still due.
    const int64_t drain_end = end_ns_ + static_cast<int64_t>(opts_.drain_s * 1e9);
    for (;;) {
      {
        std::lock_guard lock(mutex_);
        if (outstanding_ == 0 && (waiting_ == 0 || opts_.ack_paced)) break;
      }
      if (now_ns() >= drain_end) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    drained_ns_ = now_ns();
    queue_.close();
    for (auto& w : workers_) w.join();
  }

  // Moves the end of the window to `seconds` from now (bench/crash starts with a long one).
  void end_window_in(double seconds) { end_ns_ = now_ns() + static_cast<int64_t>(seconds * 1e9); }

  // ---- bench/crash: vaxbot killed and restarted under the residents.
  //
  // After pause(), a webhook that gets no answer (in flight at the kill, or refused while
  // vaxbot is down) is held, as Meta keeps what it could not deliver, instead of retried;
  // resume() posts every held one again, the same body and wamid, and returns how many.
  // Attempts that get no answer while paused do not count towards the limit of 10.
  void pause() {
    std::lock_guard lock(mutex_);
    down_ = true;
  }

  size_t resume() {
    std::vector<Job> held;
    {
      std::lock_guard lock(mutex_);
      down_ = false;
      held.swap(held_);
    }
    for (Job& job : held) {
      job.due_ns = 0;
      queue_.push(std::move(job));
    }
    return held.size();
  }

  // POSTs under way: from just before the request to the end of the bookkeeping of its answer.
  // Once vaxbot is dead and this reached 0, no webhook can be acknowledged until a restart.
  int posting() const { return posting_.load(); }

  // What the residents did so far, copied under the lock; `acked` only settles as posting()
  // says (above), and reading it is safe only then, or after drain().
  struct Progress {
    Counters counters;
    std::vector<Confirmation> confirmations;
    std::vector<std::string> posted;    // the wamid of every message the residents sent
    std::vector<std::string> acked;     // wamids answered 200, once per 200
    std::vector<std::string> held;      // wamids held while paused
    std::vector<std::string> waiting;   // wa_ids of residents waiting for a reply
    std::vector<std::string> examples;  // unexpected replies
  };
  Progress progress() {
    Progress p;
    for (const ConnectionStats& s : stats_) {
      p.acked.insert(p.acked.end(), s.acked.begin(), s.acked.end());
    }
    std::lock_guard lock(mutex_);
    p.counters = counters_;
    p.confirmations = confirmations_;
    p.posted = posted_ids_;
    for (const Job& j : held_) p.held.push_back(j.wamid);
    for (const Resident& r : residents_) {
      if (r.waiting) p.waiting.push_back(r.wa_id);
    }
    p.examples = examples_;
    return p;
  }

  // Called by the stand-in for every request it answered (on its threads).
  void on_reply(const vaxbot::sender::StandInRequest& request) {
    if (request.message_id.empty()) return;  // a read receipt or an error answer
    const int64_t arrived = to_ns(request.arrived);
    BotMessage msg;
    const bool parsed = parse_bot_message(request.body, msg);
    std::lock_guard lock(mutex_);
    issued_ids_.push_back(request.message_id);
    ++counters_.replies;
    if (opts_.statuses && parsed) report_statuses(msg.to, request.message_id);
    const bool in_window = arrived <= end_ns_;
    if (in_window) {
      ++counters_.replies_in_window;
      second(arrived).replies++;
    }
    Resident* r = find(msg.to);
    if (!parsed || r == nullptr) {
      unexpected(nullptr, "a reply to nobody we know: " + request.body.substr(0, 200));
      return;
    }
    ++r->replies;
    if (opts_.ack_paced) return check_paced_reply(*r, msg, arrived);
    if (r->first_reply_pending) {
      reply_ns_.push_back(arrived - r->sent_ns);
      r->first_reply_pending = false;
    }
    if (r->outcome == Outcome::kFailed) return;  // already counted
    if (r->outcome != Outcome::kActive) {
      unexpected(r, "a reply after the conversation ended: " + msg.text.substr(0, 120));
      return;
    }
    Classified c = matcher_.classify(r->lang, msg.text);
    for (const Key notice : c.notices) {
      if (!expected(*r, notice)) {
        unexpected(r, "after " + std::string(sent_name(r->sent)) +
                          ", a notice not called for: " + msg.text.substr(0, 160));
        return;
      }
      if (notice == Key::kSlotTaken) ++counters_.slot_taken;
    }
    if (!expected(*r, c.key)) {
      unexpected(r, "after " + std::string(sent_name(r->sent)) + ", got " +
                        (c.name.empty() ? "an unknown text" : c.name) + ": " +
                        msg.text.substr(0, 160));
      return;
    }
    if (c.key == Key::kSlotTaken) ++counters_.slot_taken;
    if (c.key == Key::kChoiceNotUnderstood || c.key == Key::kSlotTaken || c.key == Key::kNoSlots ||
        c.key == Key::kHelp) {
      return;  // said before the question that follows in the same turn
    }
    set_waiting(*r, false);
    r->reply_context = request.message_id;
    if (!msg.options.empty()) r->options = std::move(msg.options);
    act(*r, c, arrived);
  }

  // Results, valid after run().
  std::deque<ConnectionStats>& connection_stats() { return stats_; }
  const Counters& counters() const { return counters_; }
  std::vector<int64_t>& reply_latencies() { return reply_ns_; }
  const std::vector<Confirmation>& confirmations() const { return confirmations_; }
  const std::vector<std::string>& posted_ids() const { return posted_ids_; }
  const std::vector<std::string>& issued_ids() const { return issued_ids_; }
  const std::vector<std::string>& examples() const { return examples_; }
  const std::vector<std::array<uint64_t, 2>>& timeline() const { return timeline_; }
  uint64_t waiting_at_end() const { return waiting_; }
  // Replies in the conversation of a resident who booked (cancelling and booking again counts
  // as two bookings).
  double replies_per_conversation() const {
    uint64_t replies = 0, bookings = 0;
    for (const Resident& r : residents_) {
      if (r.outcome != Outcome::kBooked) continue;
      replies += static_cast<uint64_t>(r.replies);
      bookings += static_cast<uint64_t>(r.bookings);
    }
    return bookings > 0 ? static_cast<double>(replies) / static_cast<double>(bookings) : 0;
  }
  // Residents whose conversation ended booked (with --pace ack: whose confirmation got a 200).
  std::vector<std::string> booked_residents() const {
    std::vector<std::string> out;
    for (const Resident& r : residents_) {
      if (r.outcome == Outcome::kBooked) out.push_back(r.wa_id);
    }
    return out;
  }

  const Options& options() const { return opts_; }
  // --statuses: how many of each reply's three reports were answered 200.
  const std::unordered_map<std::string, int>& reported() const { return reported_; }
  double elapsed_s() const { return static_cast<double>(drained_ns_ - start_ns_) / 1e9; }

 private:
  // ---- residents

  void start_resident() {  // mutex_ held
    const size_t index = residents_.size();
    Resident& r = residents_.emplace_back();
    r.index = index;
    r.wa_id = std::to_string(kFirstResident + index);
    r.name = "Resident " + std::to_string(index + 1);
    r.lang = vaxbot::core::kLanguages[index % 3];
    r.rng.state = opts_.seed * 1'000'003 + index;
    auto roll = [&r](double percent) {
      return std::uniform_real_distribution<double>(0, 100)(r.rng) < percent;
    };
    const Mix& m = opts_.mix;
    r.too_early = roll(m.too_early);
    r.wrong_date = roll(m.wrong_date);
    r.racer = !r.too_early && roll(m.race);
    r.cancel_rebook = !r.too_early && roll(m.cancel);
    if (roll(m.sticker)) {
      constexpr std::array<Step, 6> kSteps = {Step::kDate,   Step::kVaccine, Step::kId,
                                              Step::kCentre, Step::kSlot,    Step::kConfirm};
      r.sticker_at = kSteps[r.rng() % (r.too_early ? 2 : kSteps.size())];
    }
    if (roll(m.redeliver)) r.redeliver_turn = static_cast<int>(r.rng() % 7);
    constexpr std::array<Key, 3> kWrong = {Key::kDateImpossible, Key::kDateInFuture,
                                           Key::kDateUnrecognised};
    r.wrong_date_key = kWrong[r.rng() % kWrong.size()];
    ++counters_.started;
    send(r, Sent::kGreeting, text(kGreeting[lang_index(r.lang)]));
  }

  // Open loop: new residents at exponential gaps for --duration.
  void arrive() {
    std::mt19937_64 rng(opts_.seed);
    std::exponential_distribution<double> gap(opts_.arrival_rate);
    int64_t next = start_ns_;
    while (next < end_ns_) {
      const int64_t wait = next - now_ns();
      if (wait > 0) std::this_thread::sleep_for(std::chrono::nanoseconds(wait));
      {
        std::lock_guard lock(mutex_);
        start_resident();
      }
      next += static_cast<int64_t>(gap(rng) * 1e9);
    }
  }

  Resident* find(const std::string& to) {  // mutex_ held
    const std::string digits = to.starts_with('+') ? to.substr(1) : to;
    char* end = nullptr;
    const unsigned long long n = std::strtoull(digits.c_str(), &end, 10);
    if (digits.empty() || *end != '\0' || n < kFirstResident) return nullptr;
    const uint64_t index = n - kFirstResident;
    return index < residents_.size() ? &residents_[index] : nullptr;
  }

  static const char* sent_name(Sent s) {
    switch (s) {
      case Sent::kNothing:
        return "nothing";
      case Sent::kGreeting:
        return "the greeting";
      case Sent::kWrongDate:
        return "a wrong date";
      case Sent::kSticker:
        return "a sticker";
      case Sent::kDate:
        return "the date";
      case Sent::kVaccine:
        return "the vaccine";
      case Sent::kId:
        return "the ID number";
      case Sent::kCentre:
        return "the centre";
      case Sent::kSlot:
        return "the slot";
      case Sent::kConfirm:
        return "confirm";
      case Sent::kCancel:
        return "cancel";
      case Sent::kCancelYes:
        return "yes, cancel";
    }
    return "?";
  }

  // The replies the conversation calls for after what the resident sent (the tests under
  // tests/flows/ show each). A choice can come back as "not one of the options" and the same
  // list when a seat went between the list and the tap; a confirmation as "slot taken" and the
  // slots left, or no slots and the centres.
  static bool expected(const Resident& r, Key k) {
    switch (r.sent) {
      case Sent::kNothing:
        return false;
      case Sent::kGreeting:
        return k == Key::kWelcome;
      case Sent::kWrongDate:
        return k == r.wrong_date_key;
      case Sent::kSticker:
        return k == Key::kSendTextInstead;
      case Sent::kDate:
        return k == Key::kAskVaccine;
      case Sent::kVaccine:
        return k == (r.too_early ? Key::kNotYetEligible : Key::kAskIdNumber);
      case Sent::kId:
        return k == Key::kAskCentre;
      case Sent::kCentre:
        return k == Key::kAskSlot || k == Key::kChoiceNotUnderstood || k == Key::kAskCentre ||
               k == Key::kHelp;
      case Sent::kSlot:
        return k == Key::kAskConfirm || k == Key::kChoiceNotUnderstood || k == Key::kAskSlot ||
               k == Key::kNoSlots || k == Key::kAskCentre || k == Key::kHelp;
      case Sent::kConfirm:
        return k == Key::kBooked || k == Key::kSlotTaken || k == Key::kAskSlot ||
               k == Key::kNoSlots || k == Key::kAskCentre;
      case Sent::kCancel:
        return k == Key::kCancelConfirm;
      case Sent::kCancelYes:
        return k == Key::kCancelled;
    }
    return false;
  }

  // The reply that asks something or ends the conversation: note what it says, then answer
  // it, unless the window is over.
  void act(Resident& r, const Classified& c, int64_t arrived) {  // mutex_ held
    if (c.key == Key::kBooked) {
      r.confirmation = confirmations_.size();
      ++r.bookings;
      confirmations_.push_back({value(c, "reference"), r.wa_id, Confirmation::Fate::kBooked});
      ++counters_.confirmations;
      if (r.in_last_seats) ++counters_.last_seat_confirmations;
      if (arrived <= end_ns_) {
        ++counters_.confirmations_in_window;
        second(arrived).bookings++;
      }
      if (!r.cancel_rebook || r.cancelled_once) return finish(r, Outcome::kBooked);
    }
    if (c.key == Key::kCancelled) {
      Confirmation& booking = confirmations_[r.confirmation];
      if (value(c, "reference") != booking.reference) {
        return fail(
            r, "cancelled " + value(c, "reference") + ", not its booking " + booking.reference);
      }
      booking.fate = Confirmation::Fate::kCancelled;
      r.cancelled_once = true;
      r.in_last_seats = false;
      ++counters_.cancelled;
    }
    if (c.key == Key::kNotYetEligible) return finish(r, Outcome::kTold);
    if (now_ns() >= end_ns_) return finish(r, Outcome::kCutOff);
    switch (c.key) {
      case Key::kWelcome:
      case Key::kDateUnrecognised:
      case Key::kDateImpossible:
      case Key::kDateInFuture:
        return answer(r, Step::kDate);
      case Key::kSendTextInstead:
        return answer(r, r.step);
      case Key::kAskVaccine:
        return answer(r, Step::kVaccine);
      case Key::kAskIdNumber:
        return answer(r, Step::kId);
      case Key::kAskCentre:
        return answer(r, Step::kCentre);
      case Key::kAskSlot:
        return answer(r, Step::kSlot);
      case Key::kAskConfirm:
        return answer(r, Step::kConfirm);
      case Key::kBooked:
        return send(r, Sent::kCancel, text(kCancelWord[lang_index(r.lang)]));
      case Key::kCancelConfirm: {
        const Option* yes = option(r, "cancel_yes");
        if (yes == nullptr) return fail(r, "cancel_confirm without a cancel_yes button");
        confirmations_[r.confirmation].fate = Confirmation::Fate::kCancelling;
        return send(r, Sent::kCancelYes, tap(*yes, false));
      }
      case Key::kCancelled:  // book again
        return send(r, Sent::kGreeting, text(kGreeting[lang_index(r.lang)]));
      default:
        return fail(r, "nothing to do with " + c.name);
    }
  }

  // Answers the question of `step`: with a sticker once, if that is this resident's habit,
  // with a wrong date first, if that is; otherwise properly.
  void answer(Resident& r, Step step) {  // mutex_ held
    r.step = step;
    if (step == r.sticker_at && !r.sticker_done) {
      r.sticker_done = true;
      ++counters_.stickers;
      Content sticker;
      sticker.kind = Content::Kind::kSticker;
      return send(r, Sent::kSticker, sticker);
    }
    switch (step) {
      case Step::kDate: {
        if (r.wrong_date && !r.wrong_done) {
          r.wrong_done = true;
          ++counters_.wrong_dates;
          return send(r, Sent::kWrongDate, text(wrong_date(r)));
        }
        // Eligible: 100-400 days ago (every vaccine's interval is at most 84 days); too early:
        // 10-60 days ago, and Covishield (84 days).
        const int days_ago = r.too_early ? 10 + static_cast<int>(r.rng() % 50)
                                         : 100 + static_cast<int>(r.rng() % 300);
        return send(r, Sent::kDate,
                    text(typed_date(vaxbot::booking::add_days(today_, -days_ago), r.lang)));
      }
      case Step::kVaccine: {
        const Option* pick = (r.too_early || r.racer) ? option(r, "covishield") : random_row(r);
        if (pick == nullptr) return fail(r, "no vaccine to choose");
        r.vaccine = pick->id;
        return send(r, Sent::kVaccine, choose(r, *pick, /*typed_title=*/r.lang == Language::kHi));
      }
      case Step::kId:
        return send(r, Sent::kId, text(id_number(r.index, r.lang)));
      case Step::kCentre: {
        const Option* pick = nullptr;
        r.in_last_seats = false;
        if (r.racer) {
          pick = option(r, kLastSeatsVenue);
          if (pick == nullptr) ++counters_.race_fallback;
          r.in_last_seats = pick != nullptr;
        }
        if (pick == nullptr) pick = random_row(r);
        if (pick == nullptr) return fail(r, "no centre to choose");
        return send(r, Sent::kCentre, choose(r, *pick, false));
      }
      case Step::kSlot: {
        const Option* pick = r.in_last_seats ? first_row(r) : random_row(r);
        if (pick == nullptr) return fail(r, "no slot to choose");
        return send(r, Sent::kSlot, choose(r, *pick, false));
      }
      case Step::kConfirm: {
        const Option* yes = option(r, "confirm");
        if (yes == nullptr) return fail(r, "ask_confirm without a confirm button");
        return send(r, Sent::kConfirm, choose(r, *yes, false));
      }
      case Step::kNone:
        break;
    }
    fail(r, "no step to answer");
  }

  // --pace ack: the resident's last message was answered 200, so vaxbot has run that turn;
  // the next message goes at once, every answer typed as the row's number in the resident's
  // script (vaccine 1-3, centre 1-5, slot 1-3, confirm 1). After the confirmation's 200 the
  // resident is done and counted as booked; check_database() then looks for its booking.
  void advance(Resident& r, int64_t done) {  // mutex_ held
    if (r.outcome != Outcome::kActive) return;
    auto row = [&r](uint64_t n) {
      return text(in_script(std::to_string(1 + r.rng() % n), r.lang));
    };
    switch (r.sent) {
      case Sent::kGreeting:
        r.step = Step::kDate;
        return send(r, Sent::kDate,
                    text(typed_date(
                        vaxbot::booking::add_days(today_, -(100 + static_cast<int>(r.rng() % 300))),
                        r.lang)));
      case Sent::kDate:
        r.step = Step::kVaccine;
        return send(r, Sent::kVaccine, row(3));
      case Sent::kVaccine:
        r.step = Step::kId;
        return send(r, Sent::kId, text(id_number(r.index, r.lang)));
      case Sent::kId:
        r.step = Step::kCentre;
        return send(r, Sent::kCentre, row(5));
      case Sent::kCentre:
        r.step = Step::kSlot;
        return send(r, Sent::kSlot, row(3));
      case Sent::kSlot:
        r.step = Step::kConfirm;
        return send(r, Sent::kConfirm, row(1));
      case Sent::kConfirm:
        ++counters_.acked_bookings;
        if (done <= end_ns_) {
          ++counters_.acked_bookings_in_window;
          second(done).bookings++;
        }
        ++r.bookings;
        return finish(r, Outcome::kBooked);
      default:
        return fail(r, "nothing to send after " + std::string(sent_name(r.sent)));
    }
  }

  // --pace ack: the replies of a resident, in the order the outbox sends them, are exactly the
  // seven of a booking; the confirmation's reference is kept for the checks.
  void check_paced_reply(Resident& r, const BotMessage& msg, int64_t arrived) {  // mutex_ held
    static constexpr std::array<Key, 7> kSequence = {
        Key::kWelcome, Key::kAskVaccine, Key::kAskIdNumber, Key::kAskCentre,
        Key::kAskSlot, Key::kAskConfirm, Key::kBooked};
    const auto k = static_cast<size_t>(r.replies - 1);
    const Classified c = matcher_.classify(r.lang, msg.text);
    if (k >= kSequence.size() || c.key != kSequence[k]) {
      ++counters_.unexpected;
      if (examples_.size() < kMaxExamples) {
        examples_.push_back("resident " + r.wa_id + ": reply " + std::to_string(k + 1) + " was " +
                            (c.name.empty() ? "an unknown text" : c.name) + ": " +
                            msg.text.substr(0, 160));
      }
      return;
    }
    if (c.key != Key::kBooked) return;
    confirmations_.push_back({value(c, "reference"), r.wa_id, Confirmation::Fate::kBooked});
    ++counters_.confirmations;
    if (arrived <= end_ns_) ++counters_.confirmations_in_window;
  }

  // --statuses: Meta's sent, delivered and read reports on a reply, one webhook each, in
  // that order on one connection's queue (Meta does not promise the order; vaxbot keeps the
  // furthest state either way).
  void report_statuses(const std::string& to, const std::string& wamid) {  // mutex_ held
    const std::string wa_id = to.starts_with('+') ? to.substr(1) : to;
    for (const char* state : {"sent", "delivered", "read"}) {
      Job job;
      job.status = true;
      job.wamid = wamid;
      job.body = status_body(wa_id, wamid, state);
      outstanding_ += 1;
      ++counters_.status_webhooks;
      queue_.push(std::move(job));
    }
  }

  std::string wrong_date(Resident& r) const {
    switch (r.wrong_date_key) {
      case Key::kDateImpossible:
        return in_script("31/02/2025", r.lang);
      case Key::kDateInFuture:
        return typed_date(vaxbot::booking::add_days(today_, 400), r.lang);
      default:
        return kNoDate[lang_index(r.lang)];
    }
  }

  static Content text(std::string s) {
    Content c;
    c.text = std::move(s);
    return c;
  }

  static Content tap(const Option& o, bool list) {
    Content c;
    c.kind = list ? Content::Kind::kList : Content::Kind::kButton;
    c.chosen = o;
    return c;
  }

  // How each language answers a choice: English taps; Bengali types the row's number in
  // Bengali digits; Hindi taps, or types the title (the vaccine).
  static Content choose(const Resident& r, const Option& o, bool typed_title) {
    if (r.lang == Language::kBn) {
      const auto at = std::find_if(r.options.begin(), r.options.end(),
                                   [&](const Option& x) { return x.id == o.id; });
      return text(in_script(std::to_string(at - r.options.begin() + 1), r.lang));
    }
    if (typed_title) return text(o.title);
    return tap(o, /*list=*/r.step != Step::kConfirm);
  }

  static const Option* option(const Resident& r, std::string_view id) {
    for (const auto& o : r.options) {
      if (o.id == id) return &o;
    }
    return nullptr;
  }

  static const Option* first_row(const Resident& r) {
    for (const auto& o : r.options) {
      if (o.id != "more") return &o;
    }
    return nullptr;
  }

  // Any row but "More…" and the last-seats centre (which only racers take).
  static const Option* random_row(Resident& r) {
    std::vector<const Option*> rows;
    for (const auto& o : r.options) {
      if (o.id != "more" && o.id != kLastSeatsVenue) rows.push_back(&o);
    }
    return rows.empty() ? nullptr : rows[r.rng() % rows.size()];
  }

  static std::string value(const Classified& c, const std::string& name) {
    const auto it = c.values.find(name);
    return it == c.values.end() ? std::string() : it->second;
  }

  void send(Resident& r, Sent what, const Content& content) {  // mutex_ held
    const std::string wamid =
        "wamid.SURGE" + run_id_ + "." + std::to_string(r.index) + "." + std::to_string(r.turns);
    Job job;
    job.resident = r.index;
    job.wamid = wamid;
    job.body = webhook_body(r, wamid, content);
    job.due_ns = opts_.think_ms > 0 && what != Sent::kGreeting
                     ? now_ns() + int64_t{opts_.think_ms} * kNsPerMs
                     : 0;
    r.sent = what;
    if (!opts_.ack_paced) set_waiting(r, true);
    posted_ids_.push_back(wamid);
    outstanding_ += 1;
    if (r.turns == r.redeliver_turn) {
      Job copy = job;
      copy.duplicate = true;
      outstanding_ += 1;
      ++counters_.redelivered;
      queue_.push(std::move(job));
      queue_.push(std::move(copy));
    } else {
      queue_.push(std::move(job));
    }
    ++r.turns;
  }

  void finish(Resident& r, Outcome outcome) {  // mutex_ held
    r.outcome = outcome;
    set_waiting(r, false);
    switch (outcome) {
      case Outcome::kBooked:
        ++counters_.booked;
        break;
      case Outcome::kTold:
        ++counters_.told;
        break;
      case Outcome::kFailed:
        ++counters_.failed;
        break;
      case Outcome::kCutOff:
        ++counters_.cut_off;
        break;
      case Outcome::kActive:
        break;
    }
    // Closed loop: another resident takes this one's place.
    if (opts_.arrival_rate <= 0 && outcome != Outcome::kCutOff && now_ns() < end_ns_) {
      start_resident();
    }
  }

  void fail(Resident& r, const std::string& why) {  // mutex_ held
    unexpected(&r, why);
  }

  void unexpected(Resident* r, const std::string& why) {  // mutex_ held
    ++counters_.unexpected;
    if (examples_.size() < kMaxExamples) {
      examples_.push_back((r != nullptr ? "resident " + r->wa_id + " (" +
                                              std::string(vaxbot::core::code(r->lang)) + "): "
                                        : std::string()) +
                          why);
    }
    if (r != nullptr && r->outcome == Outcome::kActive) finish(*r, Outcome::kFailed);
  }

  void set_waiting(Resident& r, bool on) {  // mutex_ held
    if (r.waiting == on) return;
    r.waiting = on;
    if (on) {
      ++waiting_;
    } else {
      --waiting_;
    }
  }

  struct Second {
    uint64_t& replies;
    uint64_t& bookings;
  };
  Second second(int64_t t) {  // mutex_ held; per-second counts of the window
    const auto s = static_cast<size_t>(std::max<int64_t>(0, t - start_ns_) / kNsPerSec);
    if (timeline_.size() <= s) timeline_.resize(s + 1, {0, 0});
    return {timeline_[s][0], timeline_[s][1]};
  }

  // ---- the connections

  void work(ConnectionStats& st) {
    httplib::Client client("127.0.0.1", port_);
    client.set_keep_alive(true);
    client.set_tcp_nodelay(true);
    client.set_connection_timeout(5);
    client.set_read_timeout(30);
    const size_t sample_cap = kMaxSamples / static_cast<size_t>(opts_.connections) + 1;
    while (std::optional<Job> job = queue_.pop()) {
      const std::string signature = verifier_.sign(job->body);
      if (job->attempts == 0 && !job->duplicate && !job->status && !opts_.ack_paced) {
        std::lock_guard lock(mutex_);
        Resident& r = residents_[job->resident];
        r.sent_ns = now_ns();
        r.first_reply_pending = true;
      }
      const httplib::Headers headers = {{"X-Hub-Signature-256", signature}};
      const Counted posting(posting_);
      const int64_t start = now_ns();
      const auto res = client.Post("/webhook", headers, job->body, "application/json");
      const int64_t done = now_ns();
      if (!res && hold(*job)) {
        ++st.errors;
        continue;
      }
      ++job->attempts;
      int64_t retry_in = 0;
      if (!res) {
        ++st.errors;
        retry_in = 100 * kNsPerMs;
      } else {
        ++st.status[static_cast<size_t>(std::clamp(res->status, 0, kMaxStatus - 1))];
        if (res->status == 200) {
          st.ack_ns.push_back(done - start);
          if (!job->status) st.acked.push_back(job->wamid);
          if (done <= end_ns_) ++st.acked_in_window;
          if (job->duplicate) ++st.duplicates_acked;
          if (st.samples.size() < sample_cap) st.samples.emplace_back(job->body, signature);
        } else if (res->status == 503) {
          // As Meta does: try again after Retry-After (seconds).
          const int after = std::max(1, std::atoi(res->get_header_value("Retry-After").c_str()));
          retry_in = after * kNsPerSec;
        } else {
          retry_in = kNsPerSec;
        }
      }
      if (retry_in == 0) {
        std::lock_guard lock(mutex_);
        --outstanding_;
        if (opts_.ack_paced && !job->duplicate && !job->status) {
          advance(residents_[job->resident], done);
        }
        if (job->status && res && res->status == 200) ++reported_[job->wamid];
        continue;
      }
      if (job->attempts >= kMaxAttempts) {
        std::lock_guard lock(mutex_);
        --outstanding_;
        if (job->status) {
          unexpected(nullptr, "status webhook for " + job->wamid + " not accepted after " +
                                  std::to_string(kMaxAttempts) + " attempts");
          continue;
        }
        fail(residents_[job->resident], "webhook " + job->wamid + " not accepted after " +
                                            std::to_string(kMaxAttempts) + " attempts");
        continue;
      }
      ++st.retries;
      job->due_ns = now_ns() + retry_in;
      queue_.push(std::move(*job));
    }
  }

  // Keeps a job that got no answer for resume(), when paused; false when not paused.
  bool hold(Job& job) {
    std::lock_guard lock(mutex_);
    if (!down_) return false;
    held_.push_back(std::move(job));
    return true;
  }

  // Counts itself in `n` while it lives.
  struct Counted {
    explicit Counted(std::atomic<int>& n) : n_(n) { ++n_; }
    ~Counted() { --n_; }
    Counted(const Counted&) = delete;
    Counted& operator=(const Counted&) = delete;
    std::atomic<int>& n_;
  };

  const Options& opts_;
  const TemplateMatcher& matcher_;
  vaxbot::whatsapp::SignatureVerifier verifier_;  // thread-safe: a keyed context per thread
  const int port_;
  const std::string run_id_;
  vaxbot::booking::CivilDate today_;
  int64_t start_ns_ = 0;
  std::atomic<int64_t> end_ns_{0};  // of the window; moved by end_window_in()
  int64_t drained_ns_ = 0;
  JobQueue queue_;
  std::deque<ConnectionStats> stats_;  // one per connection (stable addresses)
  std::vector<std::thread> workers_;   // one per connection
  std::thread arrivals_;               // open loop
  std::atomic<int> posting_{0};

  std::mutex mutex_;                // guards everything below
  std::deque<Resident> residents_;  // by index (stable addresses)
  Counters counters_;
  uint64_t waiting_ = 0;
  int64_t outstanding_ = 0;  // jobs queued or being posted
  std::vector<int64_t> reply_ns_;
  std::vector<Confirmation> confirmations_;
  std::vector<std::string> posted_ids_;
  std::vector<std::string> issued_ids_;            // the wamids the stand-in gave vaxbot's replies
  std::unordered_map<std::string, int> reported_;  // --statuses: reports answered 200, by reply
  std::vector<std::string> examples_;
  std::vector<std::array<uint64_t, 2>> timeline_;  // per second: replies, bookings
  bool down_ = false;                              // paused: vaxbot is being killed
  std::vector<Job> held_;                          // jobs that got no answer while paused
};

// ---------------------------------------------------------------------------------------------
// The invariants, read from the database (opened read-only while vaxbot is stopped or dead).

struct Check {
  std::string name;
  bool ok = true;
  std::string detail;
};

// No slot above its capacity, and slots.booked = its bookings with status 'booked'.
inline Check check_slots(SQLite::Database& db) {
  auto count = [&db](const char* sql) { return db.execAndGet(sql).getInt64(); };
  Check c{"slots within capacity and matching their bookings", true, ""};
  const int64_t over = count("SELECT count(*) FROM slots WHERE booked > capacity");
  const int64_t off = count(
      "SELECT count(*) FROM slots s WHERE s.booked != (SELECT count(*) FROM bookings b "
      "WHERE b.slot_id = s.id AND b.status = 'booked')");
  c.ok = over == 0 && off == 0;
  c.detail = std::to_string(over) + " slots over capacity, " + std::to_string(off) +
             " whose booked differs from their bookings";
  if (c.ok) {
    const int64_t full = count(
        "SELECT count(*) FROM slots WHERE venue_id = 'surge-last-seats' AND booked = capacity");
    const int64_t all = count("SELECT count(*) FROM slots WHERE venue_id = 'surge-last-seats'");
    c.detail = "every slot within capacity and matching its bookings; last-seats slots full: " +
               std::to_string(full) + "/" + std::to_string(all);
  }
  return c;
}

// Every confirmation the stand-in received is a booking with that reference and resident:
// 'cancelled' if the resident then received `cancelled` for it, 'booked' otherwise (either
// while the answer to a cancellation is outstanding).
inline Check check_confirmations(SQLite::Database& db,
                                 const std::vector<Confirmation>& confirmations) {
  Check c{"every confirmation is a booking of that resident", true, ""};
  SQLite::Statement q(db, "SELECT resident, status FROM bookings WHERE reference = ?1");
  size_t bad = 0;
  for (const Confirmation& conf : confirmations) {
    q.reset();
    q.bind(1, conf.reference);
    using Fate = Confirmation::Fate;
    const char* want = conf.fate == Fate::kBooked      ? "booked"
                       : conf.fate == Fate::kCancelled ? "cancelled"
                                                       : "booked or cancelled";
    const bool found = q.executeStep();
    const std::string status = found ? q.getColumn(1).getString() : "";
    const bool ok = found && q.getColumn(0).getString() == conf.wa_id &&
                    (conf.fate == Fate::kCancelling ? status == "booked" || status == "cancelled"
                                                    : status == want);
    if (!ok && bad++ == 0) {
      c.detail =
          "first mismatch: " + conf.reference + " for " + conf.wa_id + " (expected " + want + "); ";
    }
  }
  const int64_t rows = db.execAndGet("SELECT count(*) FROM bookings").getInt64();
  c.ok = bad == 0;
  c.detail += std::to_string(confirmations.size()) + " confirmations, " + std::to_string(bad) +
              " not matching; " + std::to_string(rows) + " booking rows";
  return c;
}

// Every message id acknowledged with 200 is recorded (a resident's line in `messages`), once,
// and no line holds an id that was never posted.
inline Check check_inbox(SQLite::Database& db, const std::vector<std::string>& posted_ids,
                         const std::vector<std::string>& acked) {
  Check c{"every acknowledged message is recorded once", true, ""};
  std::unordered_map<std::string, int> inbox;
  SQLite::Statement q(db, "SELECT wamid FROM messages WHERE outbound = 0");
  while (q.executeStep()) ++inbox[q.getColumn(0).getString()];
  const std::unordered_set<std::string> posted(posted_ids.begin(), posted_ids.end());
  const std::unordered_set<std::string> acked_set(acked.begin(), acked.end());
  size_t missing = 0, twice = 0, unknown = 0;
  for (const auto& id : acked_set) missing += inbox.count(id) == 0 ? 1 : 0;
  for (const auto& [id, n] : inbox) {
    twice += n > 1 ? 1 : 0;
    unknown += posted.count(id) == 0 ? 1 : 0;
  }
  c.ok = missing == 0 && twice == 0 && unknown == 0;
  c.detail = std::to_string(acked_set.size()) + " acknowledged ids: " + std::to_string(missing) +
             " missing, " + std::to_string(twice) +
             " stored twice; lines with an id never posted: " + std::to_string(unknown);
  return c;
}

// At most one 'booked' booking per id_hash.
inline Check check_one_booking_per_id(SQLite::Database& db) {
  Check c{"at most one active booking per ID", true, ""};
  const int64_t dup = db.execAndGet(
                            "SELECT count(*) FROM (SELECT id_hash FROM bookings WHERE status = "
                            "'booked' GROUP BY id_hash HAVING count(*) > 1)")
                          .getInt64();
  c.ok = dup == 0;
  c.detail = std::to_string(dup) + " ID hashes with more than one active booking";
  return c;
}

// Every reply was one the conversation calls for (Driver counts the others as unexpected).
inline Check check_replies_expected(uint64_t unexpected, const std::vector<std::string>& examples) {
  Check c{"every reply was the one the conversation calls for", true, ""};
  c.ok = unexpected == 0;
  c.detail = std::to_string(unexpected) + " unexpected";
  for (const auto& e : examples) c.detail += "\n      " + e;
  return c;
}

// ---------------------------------------------------------------------------------------------
// Reporting

inline double percentile_ms(const std::vector<int64_t>& sorted, double p) {
  if (sorted.empty()) return 0;
  const double rank = std::ceil(p * static_cast<double>(sorted.size()));
  const size_t i = std::min(sorted.size() - 1, static_cast<size_t>(std::max(rank, 1.0)) - 1);
  return static_cast<double>(sorted[i]) / static_cast<double>(kNsPerMs);
}

// v rounded to `decimals` places (divided last, so the JSON shows 903.4, not 903.4000000000001).
inline double round_to(double v, int decimals) {
  const double scale = std::pow(10.0, decimals);
  return std::round(v * scale) / scale;
}

// The end of a run: closes vaxbot's log, removes the working directory when
// every check held (unless --keep named it), says where it is otherwise, and
// returns the exit code.
inline int finish_run(const char* tool, int log_fd, const fs::path& dir, bool kept, bool ok) {
  ::close(log_fd);
  if (!kept) {
    if (ok) {
      std::error_code ec;
      fs::remove_all(dir, ec);
    } else {
      std::fprintf(stderr, "%s: kept %s (database and vaxbot.log) for a look\n", tool, dir.c_str());
    }
  }
  return ok ? 0 : 1;
}

}  // namespace vaxbot::bench
