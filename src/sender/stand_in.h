// CloudApiStandIn: a local imitation of the Cloud API's send endpoint, for
// tests and benchmarks (never used by `serve`). It listens on 127.0.0.1 and a
// free port, over TLS when given a certificate and key (plain HTTP otherwise),
// takes POST /<version>/<phone-number-id>/messages, records every request with
// its arrival time, and answers like Meta: by default 200 with
// {"messaging_product":"whatsapp","contacts":[{"input":"+N","wa_id":"N"}],
//  "messages":[{"id":"wamid.standin.<n>"}]} for a message and {"success":true}
// for a read receipt. A responder can answer otherwise (an error body, a
// status, a delay, a dropped connection) to inject faults.
//
// Thread-safe. requests() returns a copy; wait_for() blocks on a condition
// variable (no polling) until enough requests have arrived.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/result.h"

namespace vaxbot::sender {

struct StandInRequest {
  std::size_t index = 0;  // 0, 1, 2, ... in order of arrival
  std::chrono::steady_clock::time_point arrived;
  std::string path;
  std::string authorization;  // the Authorization header as received
  std::string body;
  std::string message_id;  // the wamid the default answer gave (empty for read receipts and errors)
};

struct StandInAnswer {
  int status = 200;
  std::string body;                    // empty with status 200: the default success answer
  std::chrono::milliseconds delay{0};  // wait this long before answering
  bool drop = false;                   // close the connection without answering
};

// Decides the answer to one request; runs on the stand-in's server threads.
using StandInResponder = std::function<StandInAnswer(const StandInRequest&)>;
// Sees every request once it is answered (after the delay); for drivers such as bench/surge.
using StandInObserver = std::function<void(const StandInRequest&)>;

struct StandInOptions {
  std::string cert_file;  // PEM certificate chain; empty (with key_file empty): plain HTTP
  std::string key_file;
  int threads = 64;         // server threads (one per keep-alive connection)
  bool keep_bodies = true;  // false: requests() keeps no bodies (long benches)
};

class CloudApiStandIn {
 public:
  explicit CloudApiStandIn(StandInOptions options = {});
  ~CloudApiStandIn();  // stops
  CloudApiStandIn(const CloudApiStandIn&) = delete;
  CloudApiStandIn& operator=(const CloudApiStandIn&) = delete;

  // Binds 127.0.0.1 on a free port and serves in a thread; returns the port.
  core::Result<int> start();
  void stop();

  // "https://127.0.0.1:<port>/v23.0" (http:// without TLS): a WHATSAPP_API_BASE.
  std::string api_base() const;

  void respond_with(StandInResponder responder);  // set before start() or between requests
  void observe(StandInObserver observer);

  std::size_t count() const;
  // Connections accepted so far, counting those whose TLS handshake then failed.
  std::size_t connections() const;
  std::vector<StandInRequest> requests() const;
  // true once at least n requests have arrived; false after timeout.
  bool wait_for(std::size_t n, std::chrono::milliseconds timeout) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vaxbot::sender
