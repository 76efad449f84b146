// Server: vaxbot's HTTP face (the only server code). Routes:
//
//   GET  /webhook   Meta's verification handshake: 200 + hub.challenge verbatim
//                   when hub.mode=subscribe and hub.verify_token matches
//                   (constant-time compare); 403 otherwise.
//   POST /webhook   > max_body bytes -> 413; X-Hub-Signature-256 missing,
//                   malformed or wrong -> 401; not JSON / no "object" -> 400;
//                   another object -> 200 (ignored, logged); otherwise every
//                   event is parsed and handed to the Writer, and 200 is sent
//                   only once all of them are durably committed. Queue full or
//                   database unavailable -> 503 with Retry-After.
//   GET  /healthz   200 {"status":"ok",...} when the database and writer are
//                   alive; 503 {"status":"unavailable",...} otherwise. When
//                   every recent send failed the sender is reported failing
//                   and the status is "degraded", still 200: webhooks are
//                   taken and kept, replies wait.
//   GET  /metrics   Prometheus text.
//
// cpp-httplib as Debian ships it is tuned here on purpose (see
// docs/../shared/reference/cpp-httplib-debian.md): TCP_NODELAY on, a thread
// pool sized for the keep-alive connections we expect (one thread is held per
// open connection), a high keep-alive request limit, a listen backlog of
// listen_backlog instead of 5, and a 4 MiB body limit.
//
// Lifecycle: bind() (returns the port; 0 asks for any free port), then run()
// blocks serving until stop() is called from another thread. stop() stops
// accepting, lets requests in progress finish, and makes run() return.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "core/metrics.h"
#include "core/result.h"
#include "store/writer.h"
#include "whatsapp/signature.h"

namespace vaxbot::http {

struct ServerOptions {
  std::string host = "0.0.0.0";
  int port = 8080;
  int threads = 512;  // >= the keep-alive connections expected at once
  int keep_alive_timeout_s = 5;
  std::size_t keep_alive_max_requests = 100000;
  int listen_backlog = 4096;
  std::size_t max_body_bytes = 4 * 1024 * 1024;
  std::chrono::milliseconds commit_timeout{10000};  // then 503, Meta re-sends
  std::string verify_token;                         // empty: the handshake always fails
};

// Answers whether the database can be read (for /healthz).
using DatabaseProbe = std::function<core::Status()>;
// Answers the sender's state (for /healthz): "ok", "disabled", "failing: ...".
using SenderProbe = std::function<std::string()>;

class Server {
 public:
  Server(ServerOptions options, const whatsapp::SignatureVerifier& verifier, store::Writer& writer,
         core::Registry& metrics, DatabaseProbe probe, SenderProbe sender = {});
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  core::Result<int> bind();
  void run();
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vaxbot::http
