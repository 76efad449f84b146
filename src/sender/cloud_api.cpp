#include "sender/cloud_api.h"

#include <httplib.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <exception>

#include "core/log.h"

namespace vaxbot::sender {
namespace {

// api_base taken apart: what httplib::Client wants, and the path prefix.
struct Endpoint {
  bool tls = true;
  std::string host;  // without brackets for IPv6
  int port = 443;
  std::string prefix;  // "/v23.0", or empty; no trailing '/'

  std::string scheme_host_port() const {
    const bool ipv6 = host.find(':') != std::string::npos;
    return (tls ? "https://" : "http://") + (ipv6 ? "[" + host + "]" : host) + ":" +
           std::to_string(port);
  }
};

core::Error invalid(std::string message) {
  return core::make_error(core::ErrorCode::kInvalidInput, std::move(message));
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// http(s)://host[:port][/path]; no user info, query or fragment.
core::Result<Endpoint> parse_api_base(const std::string& base) {
  const std::string kSetting = "WHATSAPP_API_BASE";
  const auto scheme_end = base.find("://");
  const std::string scheme =
      scheme_end == std::string::npos ? "" : lower(base.substr(0, scheme_end));
  if (scheme != "https" && scheme != "http") {
    return invalid(kSetting + " must start with https:// (or http:// for a loopback host)");
  }
  Endpoint e;
  e.tls = scheme == "https";
  e.port = e.tls ? 443 : 80;
  const std::string rest = base.substr(scheme_end + 3);
  const auto path_start = std::min(rest.find('/'), rest.size());
  const std::string authority = rest.substr(0, path_start);
  e.prefix = rest.substr(path_start);

  // host, or [IPv6 address], then an optional :port
  std::size_t host_end = authority.find(':');
  if (!authority.empty() && authority.front() == '[') {
    host_end = authority.find(']');
    if (host_end == std::string::npos) return invalid(kSetting + ": '[' without ']'");
    e.host = authority.substr(1, host_end - 1);
    ++host_end;
  } else {
    host_end = std::min(host_end, authority.size());
    e.host = authority.substr(0, host_end);
  }
  if (e.host.empty()) return invalid(kSetting + " has no host");
  for (char c : e.host) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != ':') {
      return invalid(kSetting + ": the host may hold only letters, digits, '.' and '-'");
    }
  }
  if (host_end < authority.size()) {
    const std::string port = authority.substr(host_end);  // ":<digits>" if well formed
    const bool digits = port.size() >= 2 && port.size() <= 6 && port.front() == ':' &&
                        port.find_first_not_of("0123456789", 1) == std::string::npos;
    e.port = digits ? std::stoi(port.substr(1)) : 0;
    if (e.port < 1 || e.port > 65535) return invalid(kSetting + ": the port must be 1-65535");
  }
  if (e.prefix.find_first_of("?#% \t\r\n") != std::string::npos) {
    return invalid(kSetting + ": the path may hold no query, fragment, '%' or spaces");
  }
  while (!e.prefix.empty() && e.prefix.back() == '/') e.prefix.pop_back();
  return e;
}

bool is_loopback(const std::string& host) {
  return host == "127.0.0.1" || host == "::1" || lower(host) == "localhost";
}

// Text that goes into a request line or a header: printable ASCII without spaces.
bool is_token_text(const std::string& s) {
  for (char c : s) {
    if (c <= ' ' || c > '~') return false;
  }
  return true;
}

core::Status check_ca_file(const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "r");
  if (file == nullptr) {
    return invalid("WHATSAPP_CA_FILE: cannot read " + path + ": " + std::strerror(errno));
  }
  // PEM_read_X509 skips PEM blocks of other kinds, so this finds a certificate anywhere in the
  // file.
  X509* certificate = PEM_read_X509(file, nullptr, nullptr, nullptr);
  const bool found = certificate != nullptr;
  X509_free(certificate);
  std::fclose(file);
  ERR_clear_error();
  if (!found) return invalid("WHATSAPP_CA_FILE: " + path + " holds no PEM certificate");
  return core::ok_status();
}

// The oldest error OpenSSL queued on this thread (the handshake's), then clears the queue
// so that it cannot confuse the next TLS call here.
std::string take_openssl_error() {
  const unsigned long code = ERR_peek_error();
  ERR_clear_error();
  if (code == 0) return {};
  char text[256];
  ERR_error_string_n(code, text, sizeof text);
  return text;
}

long long milliseconds(std::chrono::nanoseconds d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

}  // namespace

core::Status validate(const CloudApiConfig& config) {
  auto endpoint = parse_api_base(config.api_base);
  if (!endpoint.ok()) return endpoint.error();
  if (!endpoint->tls && !is_loopback(endpoint->host)) {
    return invalid(
        "WHATSAPP_API_BASE: http:// is allowed only for 127.0.0.1, ::1 or localhost; use https://");
  }
  if (config.phone_number_id.empty()) return invalid("WHATSAPP_PHONE_NUMBER_ID is not set");
  const bool alphanumeric =
      std::all_of(config.phone_number_id.begin(), config.phone_number_id.end(),
                  [](char c) { return std::isalnum(static_cast<unsigned char>(c)); });
  if (!alphanumeric) return invalid("WHATSAPP_PHONE_NUMBER_ID may hold only letters and digits");
  if (config.access_token.empty()) return invalid("WHATSAPP_ACCESS_TOKEN is not set");
  if (!is_token_text(config.access_token)) {
    return invalid("WHATSAPP_ACCESS_TOKEN holds spaces or control characters");
  }
  if (!config.ca_file.empty()) return check_ca_file(config.ca_file);
  return core::ok_status();
}

struct CloudApi::Impl {
  Endpoint endpoint;
  std::string path;  // {prefix}/{phone_number_id}/messages
  httplib::Client client;
  std::shared_ptr<spdlog::logger> log = core::logger("sender");

  explicit Impl(Endpoint e, const std::string& phone_number_id)
      : endpoint(std::move(e)),
        path(endpoint.prefix + "/" + phone_number_id + "/messages"),
        client(endpoint.scheme_host_port()) {}

  std::string describe(httplib::Error error) {
    std::string text = httplib::to_string(error);
    if (error == httplib::Error::SSLServerVerification) {
      const long verify = client.get_openssl_verify_result();
      text += verify != X509_V_OK ? std::string(": certificate verify failed: ") +
                                        X509_verify_cert_error_string(verify)
                                  : ": the certificate does not name " + endpoint.host;
    } else if (error == httplib::Error::SSLConnection) {
      const std::string reason = take_openssl_error();
      if (!reason.empty()) text += ": " + reason;
    }
    ERR_clear_error();
    return text;
  }
};

CloudApi::CloudApi(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
CloudApi::~CloudApi() = default;

core::Result<std::unique_ptr<CloudApi>> CloudApi::create(const CloudApiConfig& config) {
  if (auto valid = validate(config); !valid.ok()) return valid.error();
  // A write to a connection the server has closed must fail, not kill the process
  // (OpenSSL writes with write(2)). httplib::Server does the same when it starts.
  std::signal(SIGPIPE, SIG_IGN);
  auto impl = std::make_unique<Impl>(*parse_api_base(config.api_base), config.phone_number_id);
  auto& client = impl->client;
  if (impl->endpoint.tls) {
    X509_STORE* store = X509_STORE_new();
    bool loaded =
        store != nullptr && X509_STORE_set_default_paths(store) == 1 &&
        (config.ca_file.empty() || X509_STORE_load_file(store, config.ca_file.c_str()) == 1);
    ERR_clear_error();
    if (!loaded) {
      X509_STORE_free(store);
      return core::make_error(core::ErrorCode::kInternal,
                              "WHATSAPP_CA_FILE: cannot load the CA certificates");
    }
    // httplib's SSLClient takes the store over: its SSL_CTX frees it (or it is freed at once
    // when there is no SSL_CTX). Never touch `store` after this line.
    client.set_ca_cert_store(store);
    client.enable_server_certificate_verification(true);
    if (!client.is_valid()) {
      return core::make_error(core::ErrorCode::kInternal, "cannot set up a TLS client");
    }
  }
  client.set_tcp_nodelay(true);
  client.set_keep_alive(true);
  client.set_connection_timeout(config.connect_timeout);
  client.set_read_timeout(config.read_timeout);
  client.set_write_timeout(config.read_timeout);
  client.set_bearer_token_auth(config.access_token);
  impl->log->debug("Cloud API at {}{}", impl->endpoint.scheme_host_port(), impl->path);
  return std::unique_ptr<CloudApi>(new CloudApi(std::move(impl)));
}

Delivery CloudApi::post(const std::string& json_body) {
  Delivery d;
  const auto start = std::chrono::steady_clock::now();
  try {
    auto result = impl_->client.Post(impl_->path, json_body, "application/json");
    d.elapsed = std::chrono::steady_clock::now() - start;
    if (!result) {
      d.kind = Delivery::Kind::kTransport;
      d.transport_error = impl_->describe(result.error());
      impl_->log->debug("POST failed after {} ms: {}", milliseconds(d.elapsed), d.transport_error);
      return d;
    }
    d.http_status = result->status;
    auto answer = whatsapp::parse_answer(result->status, result->body);
    d.kind = answer.accepted ? Delivery::Kind::kAccepted : Delivery::Kind::kRefused;
    d.message_id = std::move(answer.message_id);
    d.error = std::move(answer.error);
    impl_->log->debug("POST answered {} in {} ms", d.http_status, milliseconds(d.elapsed));
  } catch (const std::exception& e) {
    d = Delivery{};
    d.elapsed = std::chrono::steady_clock::now() - start;
    d.transport_error = std::string("unexpected failure: ") + e.what();
  }
  return d;
}

}  // namespace vaxbot::sender
