// bare_server: the floor for the intake benchmark. A cpp-httplib server tuned exactly like
// vaxbot's (TCP_NODELAY, a thread pool of --threads, keep-alive max count 100000 and timeout
// 5 s, 4 MiB payload limit, listen backlog 4096) whose `POST /webhook` answers 200 "ok" without
// doing any work: no signature check, no parsing, no database. Whatever vaxbot loses against
// it is the cost of vaxbot's own work.
//
//   bare_server [--host 127.0.0.1] [--port 8080] [--threads 512]
//
// Once bound it prints exactly one line, `listening on http://HOST:PORT`, to stdout (with
// --port 0 the port is the one the kernel picked). SIGINT or SIGTERM stops it cleanly.
// See bench/README.md.

#include <httplib.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <string_view>
#include <thread>

namespace {

constexpr int kListenBacklog = 4096;
constexpr size_t kPayloadMaxLength = size_t{4} << 20;
constexpr size_t kKeepAliveMaxCount = 100000;
constexpr time_t kKeepAliveTimeoutSec = 5;

// Debian's cpp-httplib 0.11.4 listens with a backlog of 5 and offers no setter; the listening
// socket is the protected member svr_sock_, so this subclass hands it out.
class BacklogServer : public httplib::Server {
 public:
  int listening_socket() const { return svr_sock_; }
};

struct Options {
  std::string host = "127.0.0.1";
  int port = 8080;
  int threads = 512;
};

[[noreturn]] void usage(int code) {
  std::fprintf(code == 0 ? stdout : stderr,
               "usage: bare_server [--host 127.0.0.1] [--port 8080] [--threads 512]\n"
               "POST /webhook answers 200 \"ok\" with vaxbot's cpp-httplib tuning and no work.\n"
               "--port 0 picks a free port; the line `listening on http://HOST:PORT` tells it.\n");
  std::exit(code);
}

int parse_int(std::string_view flag, const char* value, int min, int max) {
  char* end = nullptr;
  long v = std::strtol(value, &end, 10);
  if (end == value || *end != '\0' || v < min || v > max) {
    std::fprintf(stderr, "bare_server: bad value for %.*s: %s\n", static_cast<int>(flag.size()),
                 flag.data(), value);
    std::exit(2);
  }
  return static_cast<int>(v);
}

Options parse_options(int argc, char** argv) {
  Options opts;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "-h" || arg == "--help") usage(0);
    if (i + 1 >= argc) usage(2);
    const char* value = argv[++i];
    if (arg == "--host") {
      opts.host = value;
    } else if (arg == "--port") {
      opts.port = parse_int(arg, value, 0, 65535);
    } else if (arg == "--threads") {
      opts.threads = parse_int(arg, value, 1, 100000);
    } else {
      std::fprintf(stderr, "bare_server: unknown flag %s\n", argv[i - 1]);
      usage(2);
    }
  }
  return opts;
}

int bound_port(int fd) {
  sockaddr_storage addr{};
  socklen_t len = sizeof(addr);
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return -1;
  if (addr.ss_family == AF_INET) {
    return ntohs(reinterpret_cast<const sockaddr_in*>(&addr)->sin_port);
  }
  if (addr.ss_family == AF_INET6) {
    return ntohs(reinterpret_cast<const sockaddr_in6*>(&addr)->sin6_port);
  }
  return -1;
}

}  // namespace

int main(int argc, char** argv) {
  const Options opts = parse_options(argc, argv);

  // Block the stop signals before any thread exists so that every thread inherits the mask
  // and only the waiter below receives them; it then stops the server from normal code.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  BacklogServer server;
  const auto threads = static_cast<size_t>(opts.threads);
  server.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  server.set_tcp_nodelay(true);
  server.set_keep_alive_max_count(kKeepAliveMaxCount);
  server.set_keep_alive_timeout(kKeepAliveTimeoutSec);
  server.set_payload_max_length(kPayloadMaxLength);
  server.Post("/webhook", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok", "text/plain");
  });

  if (!server.bind_to_port(opts.host, opts.port)) {
    std::fprintf(stderr, "bare_server: cannot bind %s:%d\n", opts.host.c_str(), opts.port);
    return 1;
  }
  const int fd = server.listening_socket();
  if (::listen(fd, kListenBacklog) != 0) {
    std::perror("bare_server: listen");
    return 1;
  }
  const int port = bound_port(fd);
  if (port < 0) {
    std::perror("bare_server: getsockname");
    return 1;
  }

  std::atomic<bool> stopping{false};
  std::thread waiter([&] {
    int sig = 0;
    sigwait(&stop_signals, &sig);
    if (!stopping.exchange(true)) server.stop();
  });

  const bool host_is_v6 = opts.host.find(':') != std::string::npos;
  std::cout << "listening on http://" << (host_is_v6 ? "[" : "") << opts.host
            << (host_is_v6 ? "]" : "") << ':' << port << std::endl;

  const bool ok = server.listen_after_bind();
  // If the accept loop ended by itself, wake the waiter so that it can be joined.
  const bool stopped_by_signal = stopping.exchange(true);
  if (!stopped_by_signal) pthread_kill(waiter.native_handle(), SIGTERM);
  waiter.join();
  if (!ok && !stopped_by_signal) {
    std::fprintf(stderr, "bare_server: the accept loop failed\n");
    return 1;
  }
  std::fprintf(stderr, "bare_server: stopped\n");
  return 0;
}
