#include "sender/stand_in.h"

#include <httplib.h>
#include <openssl/ssl.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <regex>
#include <thread>

#include "core/log.h"

namespace vaxbot::sender {
namespace {

using nlohmann::json;

// httplib 0.11.4 listens with a backlog of 5, which stalls bursts of new
// connections (a bench's sender threads all connecting at once); the listening
// socket is a protected member, so listen() again with a real backlog.
template <typename Base>
class TunedServer : public Base {
 public:
  using Base::Base;
  void widen_backlog() { ::listen(this->svr_sock_, 1024); }
};

// The thread pool httplib serves connections with, counting them: httplib hands
// every accepted connection to enqueue(). httplib creates it in listen_after_bind()
// once the server is running, which makes the construction the "ready" signal.
class CountingPool : public httplib::TaskQueue {
 public:
  CountingPool(std::size_t threads, std::atomic<std::size_t>& connections)
      : pool_(threads), connections_(connections) {}
  void enqueue(std::function<void()> job) override {
    ++connections_;
    pool_.enqueue(std::move(job));
  }
  void shutdown() override { pool_.shutdown(); }

 private:
  httplib::ThreadPool pool_;
  std::atomic<std::size_t>& connections_;
};

int port_of(const sockaddr_storage& address) {
  if (address.ss_family == AF_INET) {
    return ntohs(reinterpret_cast<const sockaddr_in&>(address).sin_port);
  }
  if (address.ss_family == AF_INET6) {
    return ntohs(reinterpret_cast<const sockaddr_in6&>(address).sin6_port);
  }
  return -1;
}

// The socket a request arrived on. httplib 0.11.4 shows handlers no socket; over
// TLS the request's SSL object knows it, over plain HTTP it is the one socket of
// this process whose two ends have the request's ports.
int request_socket(const httplib::Request& req) {
  if (req.ssl != nullptr) return SSL_get_fd(req.ssl);
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    const int fd = std::stoi(name);
    sockaddr_storage local{}, peer{};
    socklen_t local_size = sizeof local, peer_size = sizeof peer;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &local_size) == 0 &&
        ::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &peer_size) == 0 &&
        port_of(local) == req.local_port && port_of(peer) == req.remote_port) {
      return fd;
    }
  }
  return -1;
}

// POST /<version>/<phone-number-id>/messages
constexpr const char* kMessagesPath = R"(/([^/]+)/([^/]+)/messages)";

bool is_messages(const httplib::Request& req) {
  static const std::regex pattern(kMessagesPath);
  return req.method == "POST" && std::regex_match(req.path, pattern);
}

// Meta's answer to a message (r.message_id set) or to a read receipt.
std::string default_answer(const StandInRequest& r, const json& body) {
  if (r.message_id.empty()) return R"({"success":true})";
  json answer = {{"messaging_product", "whatsapp"},
                 {"contacts", json::array()},
                 {"messages", {{{"id", r.message_id}}}}};
  auto to = body.is_object() ? body.find("to") : body.end();
  if (to != body.end() && to->is_string()) {
    const std::string input = to->get<std::string>();
    const std::string wa_id = input.starts_with('+') ? input.substr(1) : input;
    answer["contacts"].push_back({{"input", input}, {"wa_id", wa_id}});
  }
  return answer.dump();
}

}  // namespace

struct CloudApiStandIn::Impl {
  const StandInOptions options;
  std::unique_ptr<httplib::Server> server;
  std::thread thread;
  int port = 0;
  std::atomic<std::size_t> connections{0};
  std::shared_ptr<spdlog::logger> log = core::logger("sender");

  mutable std::mutex mutex;
  mutable std::condition_variable changed;  // a request recorded, the server ready, or stopping
  bool ready = false;                       // the server accepts connections (or gave up trying)
  bool stopping = false;
  std::size_t next_index = 0;
  std::vector<StandInRequest> records;  // by index
  StandInResponder responder;
  StandInObserver observer;

  explicit Impl(StandInOptions o) : options(std::move(o)) {}

  void record(const StandInRequest& request) {
    StandInRequest r = request;
    if (!options.keep_bodies) r.body.clear();
    {
      std::lock_guard lock(mutex);
      auto at =
          std::upper_bound(records.begin(), records.end(), r.index,
                           [](std::size_t i, const StandInRequest& x) { return i < x.index; });
      records.insert(at, std::move(r));
    }
    changed.notify_all();
  }

  // Waits out an answer's delay, cut short by stop().
  void delay(std::chrono::milliseconds d) {
    std::unique_lock lock(mutex);
    changed.wait_for(lock, d, [this] { return stopping; });
  }

  void handle(const httplib::Request& req, httplib::Response& res) {
    StandInRequest r;
    r.arrived = std::chrono::steady_clock::now();
    StandInResponder respond;
    StandInObserver see;
    {
      std::lock_guard lock(mutex);
      r.index = next_index++;
      respond = responder;
      see = observer;
    }
    r.path = req.path;
    r.authorization = req.get_header_value("Authorization");
    r.body = req.body;
    const StandInAnswer answer = respond ? respond(r) : StandInAnswer{};
    std::string body = answer.body;
    if (answer.status == 200 && body.empty() && !answer.drop) {
      const json parsed = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
      auto status = parsed.is_object() ? parsed.find("status") : parsed.end();
      const bool read_receipt = status != parsed.end() && *status == "read";
      if (!read_receipt) r.message_id = "wamid.standin." + std::to_string(r.index);
      body = default_answer(r, parsed);
    }
    record(r);
    if (answer.delay.count() > 0) delay(answer.delay);
    if (answer.drop) {
      // Both directions shut: the client reads end-of-stream without a byte of an
      // answer, and httplib's own attempt to write one fails (SIGPIPE is ignored
      // by httplib::Server) and closes the socket.
      const int fd = request_socket(req);
      if (fd < 0 || ::shutdown(fd, SHUT_RDWR) != 0) log->warn("stand-in: cannot drop a connection");
      res.status = 500;
    } else {
      res.status = answer.status;
      res.set_content(body, "application/json");
    }
    if (see) see(r);
  }

  void configure() {
    server->set_tcp_nodelay(true);
    const auto threads = static_cast<std::size_t>(std::max(1, options.threads));
    server->new_task_queue = [this, threads] {
      auto* pool = new CountingPool(threads, connections);
      {
        std::lock_guard lock(mutex);
        ready = true;
      }
      changed.notify_all();
      return pool;
    };
    server->set_keep_alive_max_count(100000);
    server->set_keep_alive_timeout(5);
    // Any other path gets Graph's answer to an unknown path. (An error handler, not a
    // pre-routing one: routing has then read the request's body, so the keep-alive
    // connection stays in step.)
    using Handled = httplib::Server::HandlerResponse;
    server->set_error_handler(httplib::Server::HandlerWithResponse(
        [](const httplib::Request& req, httplib::Response& res) {
          if (res.status != 404 || !res.body.empty() || is_messages(req)) {
            return Handled::Unhandled;  // an answer a responder chose
          }
          const json error = {{"error",
                               {{"message", "Unknown path components: " + req.path},
                                {"type", "OAuthException"},
                                {"code", 2500},
                                {"fbtrace_id", "standin"}}}};
          res.set_content(error.dump(), "application/json");
          return Handled::Handled;
        }));
    server->Post(kMessagesPath,
                 [this](const httplib::Request& req, httplib::Response& res) { handle(req, res); });
  }
};

CloudApiStandIn::CloudApiStandIn(StandInOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}

CloudApiStandIn::~CloudApiStandIn() {
  stop();
}

core::Result<int> CloudApiStandIn::start() {
  auto& im = *impl_;
  if (im.server) return core::make_error(core::ErrorCode::kConflict, "stand-in: already started");
  const auto& o = im.options;
  if (o.cert_file.empty() != o.key_file.empty()) {
    return core::make_error(core::ErrorCode::kInvalidInput,
                            "stand-in: give both a certificate and a key, or neither");
  }
  // Configured before binding: httplib sets TCP_NODELAY on the listening socket.
  auto bind = [&im](auto server) {
    auto* tuned = server.get();
    im.server = std::move(server);
    im.configure();
    const int port = tuned->bind_to_any_port("127.0.0.1");
    if (port > 0) tuned->widen_backlog();
    return port;
  };
  int port = -1;
  if (o.cert_file.empty()) {
    port = bind(std::make_unique<TunedServer<httplib::Server>>());
  } else {
    auto server =
        std::make_unique<TunedServer<httplib::SSLServer>>(o.cert_file.c_str(), o.key_file.c_str());
    if (!server->is_valid()) {
      return core::make_error(core::ErrorCode::kInvalidInput,
                              "stand-in: cannot use " + o.cert_file + " and " + o.key_file);
    }
    port = bind(std::move(server));
  }
  if (port <= 0) {
    im.server.reset();
    return core::make_error(core::ErrorCode::kUnavailable, "stand-in: cannot bind 127.0.0.1");
  }
  im.port = port;
  im.thread = std::thread([&im] {
    im.server->listen_after_bind();
    std::lock_guard lock(im.mutex);
    im.ready = true;  // gave up (or was stopped): nobody may wait for it forever
    im.changed.notify_all();
  });
  // Until the server runs, its stop() would do nothing; wait so that stop() always works.
  std::unique_lock lock(im.mutex);
  im.changed.wait(lock, [&im] { return im.ready; });
  return port;
}

void CloudApiStandIn::stop() {
  auto& im = *impl_;
  {
    std::lock_guard lock(im.mutex);
    im.stopping = true;
  }
  im.changed.notify_all();
  if (im.server) im.server->stop();
  if (im.thread.joinable()) im.thread.join();
}

std::string CloudApiStandIn::api_base() const {
  const bool tls = !impl_->options.cert_file.empty();
  return (tls ? "https://127.0.0.1:" : "http://127.0.0.1:") + std::to_string(impl_->port) +
         "/v23.0";
}

void CloudApiStandIn::respond_with(StandInResponder responder) {
  std::lock_guard lock(impl_->mutex);
  impl_->responder = std::move(responder);
}

void CloudApiStandIn::observe(StandInObserver observer) {
  std::lock_guard lock(impl_->mutex);
  impl_->observer = std::move(observer);
}

std::size_t CloudApiStandIn::count() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->records.size();
}

std::size_t CloudApiStandIn::connections() const {
  return impl_->connections.load();
}

std::vector<StandInRequest> CloudApiStandIn::requests() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->records;
}

bool CloudApiStandIn::wait_for(std::size_t n, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(impl_->mutex);
  return impl_->changed.wait_for(lock, timeout, [&] { return impl_->records.size() >= n; });
}

}  // namespace vaxbot::sender
