// webhook_load: a closed-loop load generator for signed WhatsApp webhooks.
//
//   webhook_load --url http://127.0.0.1:8080/webhook --connections 64 --duration 10
//                [--warmup 1] [--secret S] [--messages-per-webhook 1] [--residents 100000]
//                [--threads 1] [--label TEXT]
//
// Each of --connections keep-alive connections has exactly one request in flight: it sends a
// request, waits for the whole response, then sends the next one. Every request is a distinct
// real-shaped `text` message webhook (like shared/fixtures/webhooks/text_hi.json) with
// --messages-per-webhook messages, each with a unique wamid (it carries a random run id, so
// two runs against one database never collide) and a `from` spread over --residents
// residents, signed with X-Hub-Signature-256 = HMAC-SHA256(secret, body). The secret defaults
// to $WHATSAPP_APP_SECRET.
//
// The client shares the CPUs with the server it measures, so it is kept cheap: one epoll loop
// per thread (--threads, default 1) over raw non-blocking sockets, requests written by hand,
// one reused EVP_MAC context per thread, responses parsed just enough to find their end.
//
// Only requests sent after the --warmup seconds and answered within the following --duration
// seconds count. Latency is from the moment the request is written to the moment the last
// byte of its response is read. A closed connection is reopened and the loop goes on; the
// request that was in flight counts as an error.
//
// Output: one human-readable line, then one JSON line:
//   {"label","connections","duration_s","requests","rps","p50_ms","p99_ms","max_ms",
//    "status":{"200":n,"503":n,...},"errors","reconnects","min_per_conn",...}
// min_per_conn is the fewest requests any one connection completed; 0 means one starved.
// Exits 1 when no request got a 200, 2 on bad usage. See bench/README.md.

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

constexpr int kMaxStatus = 600;
constexpr size_t kMaxResponseHead = 64 * 1024;
constexpr size_t kMaxResponse = 1024 * 1024;
constexpr int64_t kNsPerMs = 1'000'000;
constexpr int64_t kNsPerSec = 1'000'000'000;
constexpr int64_t kMaxRetryDelayNs = 1 * kNsPerSec;
constexpr int64_t kFirstRetryDelayNs = 10 * kNsPerMs;
constexpr int kMaxEpollEvents = 512;
// The business side of the fixture text_hi.json.
constexpr std::string_view kWabaId = "210987654321098";
constexpr std::string_view kDisplayPhoneNumber = "918000000100";
constexpr std::string_view kPhoneNumberId = "109876543210987";
// Residents are numbered 0..N-1 and get the numbers 91 7xxxxxxxxx.
constexpr uint64_t kFirstResidentNumber = 917000000000;

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "webhook_load: %s\n", what);
  std::exit(2);
}

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void append_uint(std::string& out, uint64_t value, int width = 0) {
  char digits[24];
  const auto result = std::to_chars(digits, digits + sizeof(digits), value);
  const auto len = static_cast<int>(result.ptr - digits);
  if (width > len) out.append(static_cast<size_t>(width - len), '0');
  out.append(digits, result.ptr);
}

// ---------------------------------------------------------------------------------------------
// Options

struct Options {
  std::string url = "http://127.0.0.1:8080/webhook";
  std::string host;
  std::string port;
  std::string path;
  int connections = 16;
  double duration_s = 10;
  double warmup_s = 1;
  std::string secret;
  int messages_per_webhook = 1;
  bool statuses =
      false;  // delivery statuses instead of messages: the intake path without the conversation
  uint64_t residents = 100000;
  int threads = 1;
  std::string label;
};

[[noreturn]] void usage(int code) {
  std::fprintf(
      code == 0 ? stdout : stderr,
      "usage: webhook_load [--url http://127.0.0.1:8080/webhook] [--connections 16]\n"
      "                    [--duration 10] [--warmup 1] [--secret S] [--messages-per-webhook 1] "
      "[--statuses]\n"
      "                    [--residents 100000] [--threads 1] [--label TEXT]\n"
      "Closed-loop load of distinct signed WhatsApp text webhooks over keep-alive connections.\n"
      "--secret defaults to $WHATSAPP_APP_SECRET. Prints a summary line and a JSON line.\n");
  std::exit(code);
}

long long parse_integer(std::string_view flag, const char* value, long long min, long long max) {
  char* end = nullptr;
  errno = 0;
  const long long v = std::strtoll(value, &end, 10);
  if (errno != 0 || end == value || *end != '\0' || v < min || v > max) {
    std::fprintf(stderr, "webhook_load: bad value for %.*s: %s\n", static_cast<int>(flag.size()),
                 flag.data(), value);
    std::exit(2);
  }
  return v;
}

double parse_seconds(std::string_view flag, const char* value, double min) {
  char* end = nullptr;
  const double v = std::strtod(value, &end);
  if (end == value || *end != '\0' || !std::isfinite(v) || v < min || v > 86400) {
    std::fprintf(stderr, "webhook_load: bad value for %.*s: %s\n", static_cast<int>(flag.size()),
                 flag.data(), value);
    std::exit(2);
  }
  return v;
}

// Accepts http://HOST[:PORT][/PATH], HOST possibly a bracketed IPv6 address.
void parse_url(Options& opts) {
  constexpr std::string_view kScheme = "http://";
  std::string_view rest = opts.url;
  if (rest.substr(0, kScheme.size()) != kScheme) die("--url must start with http://");
  rest.remove_prefix(kScheme.size());
  const size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  opts.path = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  opts.port = "80";
  if (!authority.empty() && authority.front() == '[') {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) die("bad IPv6 address in --url");
    opts.host = std::string(authority.substr(1, close - 1));
    authority.remove_prefix(close + 1);
    if (!authority.empty()) {
      if (authority.front() != ':') die("bad --url");
      opts.port = std::string(authority.substr(1));
    }
  } else {
    const size_t colon = authority.rfind(':');
    opts.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) opts.port = std::string(authority.substr(colon + 1));
  }
  if (opts.host.empty() || opts.port.empty()) die("bad --url");
}

Options parse_options(int argc, char** argv) {
  Options opts;
  bool secret_given = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "-h" || arg == "--help") usage(0);
    if (arg == "--statuses") {
      opts.statuses = true;
      continue;
    }
    if (i + 1 >= argc) usage(2);
    const char* value = argv[++i];
    if (arg == "--url") {
      opts.url = value;
    } else if (arg == "--connections") {
      opts.connections = static_cast<int>(parse_integer(arg, value, 1, 60000));
    } else if (arg == "--duration") {
      opts.duration_s = parse_seconds(arg, value, 0.001);
    } else if (arg == "--warmup") {
      opts.warmup_s = parse_seconds(arg, value, 0);
    } else if (arg == "--secret") {
      opts.secret = value;
      secret_given = true;
    } else if (arg == "--messages-per-webhook") {
      opts.messages_per_webhook = static_cast<int>(parse_integer(arg, value, 1, 1000));
    } else if (arg == "--residents") {
      opts.residents = static_cast<uint64_t>(parse_integer(arg, value, 1, 1'000'000'000));
    } else if (arg == "--threads") {
      opts.threads = static_cast<int>(parse_integer(arg, value, 1, 64));
    } else if (arg == "--label") {
      opts.label = value;
    } else {
      std::fprintf(stderr, "webhook_load: unknown flag %s\n", argv[i - 1]);
      usage(2);
    }
  }
  if (!secret_given) {
    const char* env = std::getenv("WHATSAPP_APP_SECRET");
    if (env != nullptr) opts.secret = env;
  }
  if (opts.secret.empty()) die("no secret: pass --secret or set WHATSAPP_APP_SECRET");
  opts.threads = std::min(opts.threads, opts.connections);
  parse_url(opts);
  return opts;
}

struct Target {
  sockaddr_storage addr{};
  socklen_t addr_len = 0;
  int family = AF_INET;
};

Target resolve(const Options& opts) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const int rc = ::getaddrinfo(opts.host.c_str(), opts.port.c_str(), &hints, &found);
  if (rc != 0 || found == nullptr) {
    std::fprintf(stderr, "webhook_load: cannot resolve %s:%s: %s\n", opts.host.c_str(),
                 opts.port.c_str(), gai_strerror(rc));
    std::exit(2);
  }
  Target target;
  std::memcpy(&target.addr, found->ai_addr, found->ai_addrlen);
  target.addr_len = found->ai_addrlen;
  target.family = found->ai_family;
  ::freeaddrinfo(found);
  return target;
}

std::string make_run_id() {
  unsigned char bytes[8];
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) die("RAND_bytes failed");
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string id;
  for (const unsigned char b : bytes) {
    id += kHex[b >> 4];
    id += kHex[b & 0xf];
  }
  return id;
}

// ---------------------------------------------------------------------------------------------
// Signing and request building

// HMAC-SHA256 under one key with one EVP_MAC context reused for every message. Not
// thread-safe: one per thread.
class Signer {
 public:
  explicit Signer(std::string_view secret) {
    mac_ = EVP_MAC_fetch(nullptr, OSSL_MAC_NAME_HMAC, nullptr);
    if (mac_ != nullptr) ctx_ = EVP_MAC_CTX_new(mac_);
    char digest[] = "SHA256";
    const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                                 OSSL_PARAM_construct_end()};
    if (ctx_ == nullptr || EVP_MAC_init(ctx_, reinterpret_cast<const unsigned char*>(secret.data()),
                                        secret.size(), params) != 1) {
      die("cannot set up HMAC-SHA256");
    }
  }
  ~Signer() {
    EVP_MAC_CTX_free(ctx_);
    EVP_MAC_free(mac_);
  }
  Signer(const Signer&) = delete;
  Signer& operator=(const Signer&) = delete;

  // Appends the 64 lowercase hex digits of HMAC-SHA256(secret, data) to out.
  void append_hex(std::string_view data, std::string& out) {
    unsigned char mac[EVP_MAX_MD_SIZE];
    size_t len = 0;
    // A null key restarts the context with the key it already has.
    if (EVP_MAC_init(ctx_, nullptr, 0, nullptr) != 1 ||
        EVP_MAC_update(ctx_, reinterpret_cast<const unsigned char*>(data.data()), data.size()) !=
            1 ||
        EVP_MAC_final(ctx_, mac, &len, sizeof(mac)) != 1) {
      die("HMAC-SHA256 failed");
    }
    static constexpr char kHex[] = "0123456789abcdef";
    for (size_t i = 0; i < len; ++i) {
      out += kHex[mac[i] >> 4];
      out += kHex[mac[i] & 0xf];
    }
  }

 private:
  EVP_MAC* mac_ = nullptr;
  EVP_MAC_CTX* ctx_ = nullptr;
};

// Writes complete signed HTTP requests, each a webhook with fresh wamids. Message sequence
// numbers are thread_index, thread_index + thread_count, ... so that threads never collide.
class RequestBuilder {
 public:
  RequestBuilder(const Options& opts, const std::string& run_id, int thread_index, int thread_count)
      : signer_(opts.secret),
        wamid_prefix_("wamid.BENCH" + run_id),
        messages_per_webhook_(opts.messages_per_webhook),
        statuses_(opts.statuses),
        residents_(opts.residents),
        next_seq_(static_cast<uint64_t>(thread_index)),
        seq_step_(static_cast<uint64_t>(thread_count)) {
    head_ = "POST " + opts.path + " HTTP/1.1\r\nHost: " + opts.host + ":" + opts.port +
            "\r\nUser-Agent: vaxbot-webhook-load\r\nContent-Type: application/json\r\n"
            "X-Hub-Signature-256: sha256=";
  }

  // Replaces out with the next request.
  void next_request(std::string& out) {
    build_body();
    out.clear();
    out += head_;
    signer_.append_hex(body_, out);
    out += "\r\nContent-Length: ";
    append_uint(out, body_.size());
    out += "\r\n\r\n";
    out += body_;
  }

 private:
  void build_body() {
    const auto now_s = static_cast<uint64_t>(std::time(nullptr));
    std::string& b = body_;
    b.clear();
    b += R"({"object":"whatsapp_business_account","entry":[{"id":")";
    b += kWabaId;
    b += R"(","changes":[{"value":{"messaging_product":"whatsapp","metadata":{)";
    b += R"("display_phone_number":")";
    b += kDisplayPhoneNumber;
    b += R"(","phone_number_id":")";
    b += kPhoneNumberId;
    if (statuses_) {
      b += R"("},"statuses":[)";
      for (int i = 0; i < messages_per_webhook_; ++i) {
        const uint64_t seq = next_seq_;
        next_seq_ += seq_step_;
        if (i > 0) b += ',';
        b += R"({"id":")";
        b += wamid_prefix_;
        append_uint(b, seq, 12);
        b += R"(","status":"delivered","timestamp":")";
        append_uint(b, now_s);
        b += R"(","recipient_id":")";
        append_uint(b, kFirstResidentNumber + resident_of(seq));
        b += R"("})";
      }
      b += R"(]},"field":"messages"}]}]})";
      return;
    }
    b += R"("},"contacts":[)";
    const uint64_t first_seq = next_seq_;
    for (int i = 0; i < messages_per_webhook_; ++i) {
      const uint64_t resident = resident_of(first_seq + static_cast<uint64_t>(i) * seq_step_);
      if (i > 0) b += ',';
      b += R"({"profile":{"name":"Resident )";
      append_uint(b, resident, 6);
      b += R"("},"wa_id":")";
      append_uint(b, kFirstResidentNumber + resident);
      b += R"("})";
    }
    b += R"(],"messages":[)";
    for (int i = 0; i < messages_per_webhook_; ++i) {
      const uint64_t seq = next_seq_;
      next_seq_ += seq_step_;
      if (i > 0) b += ',';
      b += R"({"from":")";
      append_uint(b, kFirstResidentNumber + resident_of(seq));
      b += R"(","id":")";
      b += wamid_prefix_;
      append_uint(b, seq, 12);
      b += R"(","timestamp":")";
      append_uint(b, now_s);
      b += R"(","type":"text","text":{"body":"Hi"}})";
    }
    b += R"(]},"field":"messages"}]}]})";
  }

  // Spreads consecutive messages over the residents (Knuth's multiplicative hash).
  uint64_t resident_of(uint64_t seq) const { return (seq * 2654435761ULL) % residents_; }

  Signer signer_;
  std::string head_;
  std::string body_;
  std::string wamid_prefix_;
  int messages_per_webhook_;
  bool statuses_;
  uint64_t residents_;
  uint64_t next_seq_;
  uint64_t seq_step_;
};

// ---------------------------------------------------------------------------------------------
// Response parsing

enum class Parse { kIncomplete, kComplete, kBad };

struct ResponseInfo {
  int status = 0;
  bool close = false;
  size_t length = 0;  // bytes of the whole response
};

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

bool icontains(std::string_view haystack, std::string_view needle) {
  for (size_t i = 0; i + needle.size() <= haystack.size(); ++i) {
    if (iequals(haystack.substr(i, needle.size()), needle)) return true;
  }
  return false;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Finds the end of a chunked body that starts at pos.
Parse parse_chunked(std::string_view buf, size_t pos, size_t& end) {
  for (;;) {
    const size_t eol = buf.find("\r\n", pos);
    if (eol == std::string_view::npos) return Parse::kIncomplete;
    std::string_view size_text = buf.substr(pos, eol - pos);
    size_text = trim(size_text.substr(0, size_text.find(';')));
    size_t size = 0;
    const auto [ptr, ec] =
        std::from_chars(size_text.data(), size_text.data() + size_text.size(), size, 16);
    if (ec != std::errc() || ptr != size_text.data() + size_text.size() || size > kMaxResponse) {
      return Parse::kBad;
    }
    pos = eol + 2;
    if (size == 0) break;
    if (buf.size() < pos + size + 2) return Parse::kIncomplete;
    if (buf.substr(pos + size, 2) != "\r\n") return Parse::kBad;
    pos += size + 2;
  }
  for (;;) {  // trailer fields, then an empty line
    const size_t eol = buf.find("\r\n", pos);
    if (eol == std::string_view::npos) return Parse::kIncomplete;
    const bool empty_line = eol == pos;
    pos = eol + 2;
    if (empty_line) break;
  }
  end = pos;
  return Parse::kComplete;
}

// Looks for one complete HTTP/1.x response at the start of buf. A response with neither
// Content-Length nor chunked encoding is taken to have an empty body (all we talk to send
// Content-Length).
Parse parse_response(std::string_view buf, ResponseInfo& info) {
  const size_t head_end = buf.find("\r\n\r\n");
  if (head_end == std::string_view::npos) {
    return buf.size() > kMaxResponseHead ? Parse::kBad : Parse::kIncomplete;
  }
  // Status line: "HTTP/1.1 200 OK".
  if (buf.size() < 12 || buf.substr(0, 7) != "HTTP/1." || buf[8] != ' ') return Parse::kBad;
  int status = 0;
  for (size_t i = 9; i < 12; ++i) {
    if (buf[i] < '0' || buf[i] > '9') return Parse::kBad;
    status = status * 10 + (buf[i] - '0');
  }
  if (status < 100 || status >= kMaxStatus) return Parse::kBad;
  info.status = status;
  info.close = buf[7] == '0';  // HTTP/1.0 closes unless told otherwise

  bool chunked = false;
  size_t content_length = 0;
  size_t line_start = buf.find("\r\n") + 2;
  while (line_start < head_end + 2) {
    const size_t line_end = buf.find("\r\n", line_start);
    const std::string_view line = buf.substr(line_start, line_end - line_start);
    line_start = line_end + 2;
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    const std::string_view name = trim(line.substr(0, colon));
    const std::string_view value = trim(line.substr(colon + 1));
    if (iequals(name, "content-length")) {
      const auto [ptr, ec] =
          std::from_chars(value.data(), value.data() + value.size(), content_length);
      if (ec != std::errc() || ptr != value.data() + value.size() ||
          content_length > kMaxResponse) {
        return Parse::kBad;
      }
    } else if (iequals(name, "transfer-encoding")) {
      chunked = icontains(value, "chunked");
    } else if (iequals(name, "connection")) {
      if (icontains(value, "close")) info.close = true;
      if (icontains(value, "keep-alive")) info.close = false;
    }
  }

  const size_t body_start = head_end + 4;
  const bool no_body = status < 200 || status == 204 || status == 304;
  if (no_body) {
    info.length = body_start;
    return Parse::kComplete;
  }
  if (chunked) return parse_chunked(buf, body_start, info.length);
  if (buf.size() < body_start + content_length) return Parse::kIncomplete;
  info.length = body_start + content_length;
  return Parse::kComplete;
}

// ---------------------------------------------------------------------------------------------
// The event loop

struct Timeline {
  int64_t measure_start_ns = 0;  // requests sent before this are warm-up
  int64_t end_ns = 0;            // no request is sent, and nothing is counted, after this
};

struct Stats {
  std::vector<int64_t> latencies_ns;
  std::array<uint64_t, kMaxStatus> status{};
  uint64_t errors = 0;
  uint64_t reconnects = 0;
  std::vector<uint64_t> per_connection;
};

class Worker {
 public:
  Worker(const Options& opts, const Target& target, const std::string& run_id, int index, int count,
         int connections, const Timeline& timeline)
      : target_(target),
        timeline_(timeline),
        builder_(opts, run_id, index, count),
        connections_(static_cast<size_t>(connections)) {
    const double expected = 120000.0 * (opts.duration_s + opts.warmup_s) / count;
    stats_.latencies_ns.reserve(static_cast<size_t>(std::min(expected, 5e7)));
  }
  ~Worker() {
    for (Connection& c : connections_) close_socket(c);
    if (epoll_fd_ >= 0) ::close(epoll_fd_);
  }
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  void run() {
    epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
    if (epoll_fd_ < 0) die("epoll_create1 failed");
    for (Connection& c : connections_) open(c);

    std::array<epoll_event, kMaxEpollEvents> events;
    for (;;) {
      const int64_t now = now_ns();
      if (now >= timeline_.end_ns) break;
      int64_t wake_ns = timeline_.end_ns;
      if (waiting_ > 0) {
        for (Connection& c : connections_) {
          if (c.state != State::kWaiting) continue;
          if (c.retry_at_ns <= now) {
            open(c);
          } else {
            wake_ns = std::min(wake_ns, c.retry_at_ns);
          }
        }
      }
      const int64_t wait_ms =
          std::clamp<int64_t>((wake_ns - now + kNsPerMs - 1) / kNsPerMs, 1, 100);
      const int n =
          ::epoll_wait(epoll_fd_, events.data(), kMaxEpollEvents, static_cast<int>(wait_ms));
      if (n < 0) {
        if (errno == EINTR) continue;
        die("epoll_wait failed");
      }
      for (int i = 0; i < n; ++i) {
        const epoll_event& ev = events[static_cast<size_t>(i)];
        on_event(connections_[ev.data.u64], ev.events);
      }
    }

    for (const Connection& c : connections_) stats_.per_connection.push_back(c.completed);
  }

  Stats& stats() { return stats_; }

 private:
  enum class State { kWaiting, kConnecting, kSending, kReading, kIdle };

  struct Connection {
    int fd = -1;
    State state = State::kWaiting;
    uint32_t events = 0;  // what epoll watches for
    bool opened = false;  // opened at least once; later opens are reconnects
    int failed_connects = 0;
    int64_t retry_at_ns = 0;
    int64_t sent_ns = 0;
    size_t out_sent = 0;
    std::string out;
    std::string in;
    uint64_t completed = 0;
  };

  bool measuring(int64_t t) const { return t >= timeline_.measure_start_ns; }
  size_t index_of(const Connection& c) const {
    return static_cast<size_t>(&c - connections_.data());
  }

  void open(Connection& c) {
    if (c.state == State::kWaiting && c.opened) --waiting_;
    if (c.opened && measuring(now_ns())) ++stats_.reconnects;
    c.opened = true;
    c.in.clear();
    c.fd = ::socket(target_.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c.fd < 0) {
      connect_failed(c);
      return;
    }
    const int one = 1;
    ::setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    const int rc =
        ::connect(c.fd, reinterpret_cast<const sockaddr*>(&target_.addr), target_.addr_len);
    if (rc != 0 && errno != EINPROGRESS) {
      connect_failed(c);
      return;
    }
    epoll_event ev{};
    ev.events = rc == 0 ? EPOLLIN : EPOLLOUT;
    ev.data.u64 = index_of(c);
    if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, c.fd, &ev) != 0) die("epoll_ctl ADD failed");
    c.events = ev.events;
    if (rc == 0) {
      c.failed_connects = 0;
      start_request(c);
    } else {
      c.state = State::kConnecting;
    }
  }

  void watch(Connection& c, uint32_t events) {
    if (c.events == events) return;
    epoll_event ev{};
    ev.events = events;
    ev.data.u64 = index_of(c);
    if (::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, c.fd, &ev) != 0) die("epoll_ctl MOD failed");
    c.events = events;
  }

  void close_socket(Connection& c) {
    if (c.fd >= 0) ::close(c.fd);  // closing also removes it from the epoll set
    c.fd = -1;
  }

  // Waits before the next attempt, longer after each consecutive failure.
  void connect_failed(Connection& c) {
    if (measuring(now_ns())) ++stats_.errors;
    close_socket(c);
    const int shift = std::min(c.failed_connects, 10);
    c.failed_connects++;
    c.retry_at_ns = now_ns() + std::min(kFirstRetryDelayNs << shift, kMaxRetryDelayNs);
    c.state = State::kWaiting;
    ++waiting_;
  }

  // The connection broke with a request in flight (or the server asked to close after a
  // response): reopen it at once.
  void reopen(Connection& c, bool request_lost) {
    if (request_lost && measuring(c.sent_ns)) ++stats_.errors;
    close_socket(c);
    c.state = State::kWaiting;
    ++waiting_;
    c.retry_at_ns = 0;
    open(c);
  }

  void on_event(Connection& c, uint32_t events) {
    switch (c.state) {
      case State::kConnecting: {
        int err = 0;
        socklen_t len = sizeof(err);
        if (::getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
          connect_failed(c);
          return;
        }
        if ((events & EPOLLOUT) == 0) return;
        c.failed_connects = 0;
        start_request(c);
        return;
      }
      case State::kSending:
        if ((events & (EPOLLERR | EPOLLHUP)) != 0 && (events & EPOLLOUT) == 0) {
          reopen(c, true);
          return;
        }
        send_some(c);
        return;
      case State::kReading:
        receive(c);
        return;
      case State::kIdle:
      case State::kWaiting:
        return;
    }
  }

  void start_request(Connection& c) {
    if (now_ns() >= timeline_.end_ns) {
      c.state = State::kIdle;
      watch(c, 0);
      return;
    }
    builder_.next_request(c.out);
    c.out_sent = 0;
    c.in.clear();
    c.sent_ns = now_ns();
    send_some(c);
  }

  void send_some(Connection& c) {
    while (c.out_sent < c.out.size()) {
      const ssize_t n =
          ::send(c.fd, c.out.data() + c.out_sent, c.out.size() - c.out_sent, MSG_NOSIGNAL);
      if (n > 0) {
        c.out_sent += static_cast<size_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        c.state = State::kSending;
        watch(c, EPOLLOUT);
        return;
      }
      reopen(c, true);
      return;
    }
    c.state = State::kReading;
    watch(c, EPOLLIN);
  }

  void receive(Connection& c) {
    for (;;) {
      const ssize_t n = ::recv(c.fd, buffer_.data(), buffer_.size(), 0);
      if (n == 0) {
        reopen(c, true);
        return;
      }
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return;
        reopen(c, true);
        return;
      }
      c.in.append(buffer_.data(), static_cast<size_t>(n));
      ResponseInfo info;
      switch (parse_response(c.in, info)) {
        case Parse::kIncomplete:
          if (static_cast<size_t>(n) == buffer_.size()) continue;
          return;
        case Parse::kBad:
          reopen(c, true);
          return;
        case Parse::kComplete:
          complete(c, info);
          return;
      }
    }
  }

  void complete(Connection& c, const ResponseInfo& info) {
    const int64_t done = now_ns();
    if (measuring(c.sent_ns) && done <= timeline_.end_ns) {
      stats_.latencies_ns.push_back(done - c.sent_ns);
      ++stats_.status[static_cast<size_t>(info.status)];
      ++c.completed;
    }
    if (info.close || c.in.size() > info.length) {  // extra bytes: out of step, start afresh
      reopen(c, false);
      return;
    }
    start_request(c);
  }

  const Target& target_;
  const Timeline& timeline_;
  RequestBuilder builder_;
  std::vector<Connection> connections_;
  std::array<char, 16 * 1024> buffer_{};
  int epoll_fd_ = -1;
  int waiting_ = 0;  // connections in State::kWaiting, except before their first open
  Stats stats_;
};

double percentile_ms(const std::vector<int64_t>& sorted, double p) {
  if (sorted.empty()) return 0;
  const double rank = std::ceil(p * static_cast<double>(sorted.size()));
  const size_t index = std::min(sorted.size() - 1, static_cast<size_t>(std::max(rank, 1.0)) - 1);
  return static_cast<double>(sorted[index]) / static_cast<double>(kNsPerMs);
}

double round3(double v) {
  return std::round(v * 1000) / 1000;
}

}  // namespace

int main(int argc, char** argv) {
  const Options opts = parse_options(argc, argv);
  const Target target = resolve(opts);
  const std::string run_id = make_run_id();
  std::signal(SIGPIPE, SIG_IGN);

  Timeline timeline;
  timeline.measure_start_ns = now_ns() + static_cast<int64_t>(opts.warmup_s * 1e9);
  timeline.end_ns = timeline.measure_start_ns + static_cast<int64_t>(opts.duration_s * 1e9);

  std::vector<std::unique_ptr<Worker>> workers;
  for (int i = 0; i < opts.threads; ++i) {
    const int share = opts.connections / opts.threads + (i < opts.connections % opts.threads);
    workers.push_back(
        std::make_unique<Worker>(opts, target, run_id, i, opts.threads, share, timeline));
  }
  std::vector<std::thread> threads;
  for (size_t i = 1; i < workers.size(); ++i) threads.emplace_back([&w = *workers[i]] { w.run(); });
  workers[0]->run();
  for (std::thread& t : threads) t.join();

  Stats total;
  for (const auto& w : workers) {
    Stats& s = w->stats();
    total.latencies_ns.insert(total.latencies_ns.end(), s.latencies_ns.begin(),
                              s.latencies_ns.end());
    for (size_t code = 0; code < total.status.size(); ++code) total.status[code] += s.status[code];
    total.errors += s.errors;
    total.reconnects += s.reconnects;
    total.per_connection.insert(total.per_connection.end(), s.per_connection.begin(),
                                s.per_connection.end());
  }
  workers.clear();

  std::sort(total.latencies_ns.begin(), total.latencies_ns.end());
  const uint64_t requests = total.latencies_ns.size();
  const double rps = static_cast<double>(requests) / opts.duration_s;
  const double p50 = percentile_ms(total.latencies_ns, 0.50);
  const double p99 = percentile_ms(total.latencies_ns, 0.99);
  const double max_ms = percentile_ms(total.latencies_ns, 1.0);
  const uint64_t min_per_conn =
      *std::min_element(total.per_connection.begin(), total.per_connection.end());

  nlohmann::ordered_json status = nlohmann::ordered_json::object();
  std::string status_text;
  for (size_t code = 0; code < total.status.size(); ++code) {
    if (total.status[code] == 0 && code != 200 && code != 503) continue;
    status[std::to_string(code)] = total.status[code];
    status_text += " " + std::to_string(code) + "=" + std::to_string(total.status[code]);
  }

  std::printf(
      "%s%sconnections=%d duration=%gs requests=%llu rps=%.0f p50=%.3fms p99=%.3fms "
      "max=%.3fms status:%s errors=%llu reconnects=%llu min_per_conn=%llu\n",
      opts.label.c_str(), opts.label.empty() ? "" : ": ", opts.connections, opts.duration_s,
      static_cast<unsigned long long>(requests), rps, p50, p99, max_ms, status_text.c_str(),
      static_cast<unsigned long long>(total.errors),
      static_cast<unsigned long long>(total.reconnects),
      static_cast<unsigned long long>(min_per_conn));

  nlohmann::ordered_json out;
  out["label"] = opts.label;
  out["connections"] = opts.connections;
  out["duration_s"] = opts.duration_s;
  out["requests"] = requests;
  out["rps"] = std::round(rps * 10) / 10;
  out["p50_ms"] = round3(p50);
  out["p99_ms"] = round3(p99);
  out["max_ms"] = round3(max_ms);
  out["status"] = status;
  out["errors"] = total.errors;
  out["reconnects"] = total.reconnects;
  out["min_per_conn"] = min_per_conn;
  out["messages_per_webhook"] = opts.messages_per_webhook;
  out["threads"] = opts.threads;
  out["run_id"] = run_id;
  std::printf("%s\n", out.dump().c_str());
  std::fflush(stdout);
  return total.status[200] > 0 ? 0 : 1;
}
