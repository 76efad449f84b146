// CloudApi: one keep-alive HTTPS connection to the Cloud API's send endpoint.
//
//   POST {api_base}/{phone_number_id}/messages
//   Authorization: Bearer {access_token}        (never logged)
//   Content-Type: application/json
//
// The server's certificate and host name are verified against the system CA
// bundle, plus the CA in ca_file when one is given (tests use a CA they make).
// http:// is accepted only for a loopback host (local stand-ins, benches).
// TCP_NODELAY is on: without it Debian's cpp-httplib waits ~44 ms for a delayed
// ACK on every request (23 requests/s per connection).
//
// Not thread-safe: each sender thread owns one CloudApi. A CloudApi reconnects
// by itself after an error; post() never throws. create() makes the process
// ignore SIGPIPE (as httplib::Server does), so that writing to a connection the
// server has closed fails instead of killing the process.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "core/result.h"
#include "whatsapp/send.h"

namespace vaxbot::sender {

struct CloudApiConfig {
  std::string api_base = "https://graph.facebook.com/v23.0";
  std::string phone_number_id;
  std::string access_token;
  std::string ca_file;  // a PEM file of extra CA certificates to trust; empty: system bundle only
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds read_timeout{15000};
};

// Checks a configuration without connecting: api_base is http(s)://host[:port][/path]
// (http only for 127.0.0.1, ::1 or localhost), phone_number_id and access_token
// are set, ca_file (when set) can be read and holds at least one certificate.
// The error message names the setting (WHATSAPP_API_BASE, ...) and never the token.
core::Status validate(const CloudApiConfig& config);

// The outcome of one POST.
struct Delivery {
  enum class Kind {
    kAccepted,   // 2xx and a success body: message_id is the wamid (empty for a read receipt)
    kRefused,    // Meta answered with an error: http_status and error are set
    kTransport,  // no answer: refused connection, timeout, TLS failure, reset
  };
  Kind kind = Kind::kTransport;
  int http_status = 0;
  std::string message_id;
  whatsapp::ApiError error;
  std::string transport_error;  // kTransport: what failed, e.g. "TLS: certificate verify failed"
  std::chrono::nanoseconds elapsed{0};
};

class CloudApi {
 public:
  // Fails only on an invalid configuration (as validate() does).
  static core::Result<std::unique_ptr<CloudApi>> create(const CloudApiConfig& config);
  ~CloudApi();
  CloudApi(const CloudApi&) = delete;
  CloudApi& operator=(const CloudApi&) = delete;

  // One request, JSON body as built by whatsapp/ (send_body or read_receipt_body).
  Delivery post(const std::string& json_body);

 private:
  struct Impl;
  explicit CloudApi(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace vaxbot::sender
