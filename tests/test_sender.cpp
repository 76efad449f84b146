// sender/: CloudApi against the stand-in over real TLS on loopback, with a CA
// and certificates the tests make; the stand-in's own behaviour; validate().
#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <openssl/bio.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "sender/cloud_api.h"
#include "sender/stand_in.h"
#include "support.h"
#include "whatsapp/send.h"

using namespace vaxbot;
using namespace std::chrono_literals;
using nlohmann::json;
using sender::Delivery;

namespace {

constexpr const char* kToken = "EAAG_test_SECRET_token_42";
constexpr const char* kPhoneId = "109876543210987";

std::string message_to(const std::string& wa_id) {
  core::OutboundMessage m;
  m.body = "Your booking is confirmed";
  return whatsapp::send_body(wa_id, m);
}

// A stand-in over TLS with a certificate from a CA the client is told to trust.
struct TlsSetup {
  test::TempDir dir;
  test::TestPki pki = test::make_test_pki(dir.path());
  sender::CloudApiStandIn stand_in;

  explicit TlsSetup(bool start = true)
      : stand_in(sender::StandInOptions{pki.server_cert, pki.server_key, 8, true}) {
    if (start) REQUIRE(stand_in.start().ok());
  }

  sender::CloudApiConfig config() const {
    sender::CloudApiConfig c;
    c.api_base = stand_in.api_base();
    c.phone_number_id = kPhoneId;
    c.access_token = kToken;
    c.ca_file = pki.ca;
    c.connect_timeout = 5s;
    c.read_timeout = 5s;
    return c;
  }
};

std::unique_ptr<sender::CloudApi> make_api(const sender::CloudApiConfig& config) {
  auto api = sender::CloudApi::create(config);
  REQUIRE_MESSAGE(api.ok(), (api.ok() ? "" : api.error().message));
  return std::move(*api);
}

// A port on 127.0.0.1 that nothing listens on.
int unused_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t size = sizeof address;
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&address), size) == 0);
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size) == 0);
  ::close(fd);
  return ntohs(address.sin_port);
}

// Sends raw bytes (over TLS without verifying, or plain) and returns every byte
// received until the server closes the connection.
std::string raw_exchange(int port, bool tls, const std::string& request) {
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(SSL_CTX_new(TLS_client_method()),
                                                        SSL_CTX_free);
  std::unique_ptr<BIO, decltype(&BIO_free_all)> bio(
      tls ? BIO_new_ssl_connect(ctx.get()) : BIO_new(BIO_s_connect()), BIO_free_all);
  REQUIRE(bio != nullptr);
  const std::string target = "127.0.0.1:" + std::to_string(port);
  BIO_set_conn_hostname(bio.get(), target.c_str());
  REQUIRE(BIO_do_connect(bio.get()) == 1);
  int fd = -1;
  BIO_get_fd(bio.get(), &fd);
  timeval timeout{5, 0};  // a server that never closes fails the test instead of hanging it
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  REQUIRE(BIO_write(bio.get(), request.data(), static_cast<int>(request.size())) ==
          static_cast<int>(request.size()));
  std::string received;
  char buffer[4096];
  int n = 0;
  while ((n = BIO_read(bio.get(), buffer, sizeof buffer)) > 0) received.append(buffer, n);
  return received;
}

std::string post_request(const std::string& path, const std::string& body) {
  return "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n" +
         "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

}  // namespace

TEST_SUITE("sender") {
  TEST_CASE("validate: every bad setting is named, and the token never is") {
    test::TempDir dir;
    const std::string no_certificate = dir.file("no_certificate.pem");
    std::ofstream(no_certificate)
        << "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
    struct Case {
      const char* what;
      std::function<void(sender::CloudApiConfig&)> change;
      const char* setting;
    };
    const std::vector<Case> cases = {
        {"empty base", [](auto& c) { c.api_base = ""; }, "WHATSAPP_API_BASE"},
        {"no scheme", [](auto& c) { c.api_base = "graph.facebook.com/v23.0"; },
         "WHATSAPP_API_BASE"},
        {"ftp", [](auto& c) { c.api_base = "ftp://graph.facebook.com"; }, "WHATSAPP_API_BASE"},
        {"no host", [](auto& c) { c.api_base = "https:///v23.0"; }, "WHATSAPP_API_BASE"},
        {"port 0", [](auto& c) { c.api_base = "https://h:0/v23.0"; }, "WHATSAPP_API_BASE"},
        {"port too big", [](auto& c) { c.api_base = "https://h:65536"; }, "WHATSAPP_API_BASE"},
        {"port not a number", [](auto& c) { c.api_base = "https://h:44x/"; }, "WHATSAPP_API_BASE"},
        {"empty port", [](auto& c) { c.api_base = "https://h:/v1"; }, "WHATSAPP_API_BASE"},
        {"user info", [](auto& c) { c.api_base = "https://u:p@h/v1"; }, "WHATSAPP_API_BASE"},
        {"query", [](auto& c) { c.api_base = "https://h/v1?x=1"; }, "WHATSAPP_API_BASE"},
        {"space", [](auto& c) { c.api_base = "https://h/v 1"; }, "WHATSAPP_API_BASE"},
        {"unclosed IPv6", [](auto& c) { c.api_base = "https://[::1/v1"; }, "WHATSAPP_API_BASE"},
        {"http to a remote host", [](auto& c) { c.api_base = "http://graph.facebook.com/v23.0"; },
         "WHATSAPP_API_BASE"},
        {"http to a private address", [](auto& c) { c.api_base = "http://10.0.0.1/v1"; },
         "WHATSAPP_API_BASE"},
        {"no phone id", [](auto& c) { c.phone_number_id = ""; }, "WHATSAPP_PHONE_NUMBER_ID"},
        {"phone id with a path", [](auto& c) { c.phone_number_id = "1/../2"; },
         "WHATSAPP_PHONE_NUMBER_ID"},
        {"no token", [](auto& c) { c.access_token = ""; }, "WHATSAPP_ACCESS_TOKEN"},
        {"token with a line break",
         [](auto& c) { c.access_token = std::string(kToken) + "\r\nX-Evil: 1"; },
         "WHATSAPP_ACCESS_TOKEN"},
        {"unreadable CA file", [&](auto& c) { c.ca_file = dir.file("missing.pem"); },
         "WHATSAPP_CA_FILE"},
        {"CA file without a certificate", [&](auto& c) { c.ca_file = no_certificate; },
         "WHATSAPP_CA_FILE"},
    };
    for (const auto& test_case : cases) {
      CAPTURE(test_case.what);
      sender::CloudApiConfig config;
      config.api_base = "https://graph.facebook.com/v23.0";
      config.phone_number_id = kPhoneId;
      config.access_token = kToken;
      REQUIRE(sender::validate(config).ok());
      test_case.change(config);
      auto status = sender::validate(config);
      REQUIRE_FALSE(status.ok());
      CHECK(status.error().code == core::ErrorCode::kInvalidInput);
      CHECK(status.error().message.find(test_case.setting) != std::string::npos);
      CHECK(status.error().message.find(kToken) == std::string::npos);
      auto api = sender::CloudApi::create(config);
      REQUIRE_FALSE(api.ok());
      CHECK(api.error().message == status.error().message);
    }
  }

  TEST_CASE("validate: good bases, loopback http, a CA file with a certificate") {
    TlsSetup setup(/*start=*/false);
    sender::CloudApiConfig config;
    config.phone_number_id = kPhoneId;
    config.access_token = kToken;
    config.ca_file = setup.pki.ca;
    for (const char* base :
         {"https://graph.facebook.com/v23.0", "https://graph.facebook.com",
          "HTTPS://Graph.Facebook.com/v23.0/", "https://graph.facebook.com:8443/v23.0",
          "http://127.0.0.1:8080/v23.0", "http://localhost/v1", "http://[::1]:9000/v23.0",
          "https://[2001:db8::1]/v1"}) {
      CAPTURE(base);
      config.api_base = base;
      auto status = sender::validate(config);
      CHECK_MESSAGE(status.ok(), (status.ok() ? "" : status.error().message));
    }
  }

  TEST_CASE("post: path, bearer token and body reach the stand-in; the wamid comes back") {
    TlsSetup setup;
    std::vector<sender::StandInRequest> observed;
    std::mutex observed_mutex;
    setup.stand_in.observe([&](const sender::StandInRequest& r) {
      std::lock_guard lock(observed_mutex);
      observed.push_back(r);
    });
    auto api = make_api(setup.config());
    const std::string body = message_to("919800000001");
    Delivery d = api->post(body);
    CHECK_MESSAGE(d.kind == Delivery::Kind::kAccepted, d.transport_error);
    CHECK(d.http_status == 200);
    CHECK(d.message_id == "wamid.standin.0");
    CHECK(d.error.code == whatsapp::ApiError::kNoCode);
    CHECK(d.elapsed > 0ns);

    Delivery receipt = api->post(whatsapp::read_receipt_body("wamid.inbound.1"));
    CHECK(receipt.kind == Delivery::Kind::kAccepted);
    CHECK(receipt.message_id.empty());

    auto requests = setup.stand_in.requests();
    REQUIRE(requests.size() == 2);
    CHECK(requests[0].index == 0);
    CHECK(requests[0].path == std::string("/v23.0/") + kPhoneId + "/messages");
    CHECK(requests[0].authorization == std::string("Bearer ") + kToken);
    CHECK(requests[0].body == body);
    CHECK(requests[0].message_id == "wamid.standin.0");
    CHECK(requests[1].index == 1);
    CHECK(requests[1].message_id.empty());
    CHECK(requests[1].arrived >= requests[0].arrived);
    std::lock_guard lock(observed_mutex);
    REQUIRE(observed.size() == 2);
    CHECK(observed[0].message_id == "wamid.standin.0");
    CHECK(observed[1].body == requests[1].body);
  }

  TEST_CASE("stand-in: Meta's answer shapes, and Graph's 404 for other paths") {
    TlsSetup setup;
    const std::string base = setup.stand_in.api_base();
    httplib::Client raw(base.substr(0, base.rfind('/')));
    raw.set_ca_cert_path(setup.pki.ca);
    raw.enable_server_certificate_verification(true);
    raw.set_keep_alive(true);
    raw.set_tcp_nodelay(true);
    auto sent = raw.Post("/v23.0/1/messages", message_to("919800000007"), "application/json");
    REQUIRE(sent);
    CHECK(sent->status == 200);
    CHECK(json::parse(sent->body) == json::parse(R"({"messaging_product":"whatsapp",
                          "contacts":[{"input":"+919800000007","wa_id":"919800000007"}],
                          "messages":[{"id":"wamid.standin.0"}]})"));
    auto read =
        raw.Post("/v23.0/1/messages", whatsapp::read_receipt_body("wamid.x"), "application/json");
    REQUIRE(read);
    CHECK(json::parse(read->body) == json{{"success", true}});
    for (const char* path : {"/v23.0/1/media", "/v23.0/messages", "/a/b/c/messages"}) {
      CAPTURE(path);
      auto other = raw.Post(path, "{}", "application/json");  // same connection: body consumed
      REQUIRE(other);
      CHECK(other->status == 404);
      CHECK(json::parse(other->body)["error"]["code"] == 2500);
    }
    auto get = raw.Get("/v23.0/1/messages");
    REQUIRE(get);
    CHECK(get->status == 404);
    CHECK(setup.stand_in.count() == 2);
    CHECK(setup.stand_in.connections() == 1);
  }

  TEST_CASE("keep-alive: many posts share one connection, and none waits for a delayed ACK") {
    TlsSetup setup;
    auto api = make_api(setup.config());
    // Without TCP_NODELAY on both ends each request waits ~40 ms for a delayed ACK:
    // 200 posts would take ~8 s. The bound leaves a wide margin for a loaded machine.
    constexpr int kPosts = 200;
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < kPosts; ++i) {
      Delivery d = api->post(message_to("9198000" + std::to_string(10000 + i)));
      REQUIRE_MESSAGE(d.kind == Delivery::Kind::kAccepted, d.transport_error);
      CHECK(d.message_id == "wamid.standin." + std::to_string(i));
    }
    const auto elapsed = std::chrono::steady_clock::now() - start;
    CHECK(setup.stand_in.count() == kPosts);
    CHECK(setup.stand_in.connections() == 1);
    CHECK(elapsed < 3s);
  }

  TEST_CASE("refused: a Graph error is kRefused with its code") {
    TlsSetup setup;
    setup.stand_in.respond_with([](const sender::StandInRequest&) {
      return sender::StandInAnswer{
          400,
          R"({"error":{"message":"(#131047) Re-engagement message","type":"OAuthException",
              "code":131047,"error_data":{"messaging_product":"whatsapp",
              "details":"More than 24 hours have passed"},"fbtrace_id":"Az9"}})"};
    });
    auto api = make_api(setup.config());
    Delivery d = api->post(message_to("919800000001"));
    CHECK(d.kind == Delivery::Kind::kRefused);
    CHECK(d.http_status == 400);
    CHECK(d.error.code == 131047);
    CHECK(d.error.details == "More than 24 hours have passed");
    CHECK(d.error.trace_id == "Az9");
    CHECK(d.message_id.empty());
    CHECK(whatsapp::error_action(d.error.code, d.http_status) == whatsapp::ErrorAction::kFail);
    CHECK(setup.stand_in.requests().at(0).message_id.empty());
  }

  TEST_CASE("refused: 500 without a body has no code") {
    TlsSetup setup;
    setup.stand_in.respond_with([](const sender::StandInRequest&) {
      return sender::StandInAnswer{500, ""};
    });
    auto api = make_api(setup.config());
    Delivery d = api->post(message_to("919800000001"));
    CHECK(d.kind == Delivery::Kind::kRefused);
    CHECK(d.http_status == 500);
    CHECK(d.error.code == whatsapp::ApiError::kNoCode);
    CHECK(d.error.message == "HTTP 500 without an error body");
    CHECK(whatsapp::error_action(d.error.code, d.http_status) == whatsapp::ErrorAction::kRetry);
  }

  TEST_CASE("transport: an answer slower than read_timeout; the next post reconnects") {
    TlsSetup setup;
    setup.stand_in.respond_with([](const sender::StandInRequest& r) {
      sender::StandInAnswer answer;
      if (r.index == 0) answer.delay = 1000ms;
      return answer;
    });
    auto config = setup.config();
    config.read_timeout = 200ms;
    auto api = make_api(config);
    Delivery d = api->post(message_to("919800000001"));
    CHECK(d.kind == Delivery::Kind::kTransport);
    CHECK(d.http_status == 0);
    CHECK_FALSE(d.transport_error.empty());
    CHECK(d.elapsed >= 190ms);
    CHECK(d.elapsed < 900ms);
    CHECK(setup.stand_in.count() == 1);  // it arrived; the answer was late

    Delivery next = api->post(message_to("919800000001"));
    CHECK_MESSAGE(next.kind == Delivery::Kind::kAccepted, next.transport_error);
    CHECK(setup.stand_in.connections() == 2);
  }

  TEST_CASE("transport: nothing listening") {
    sender::CloudApiConfig config;
    config.api_base = "https://127.0.0.1:" + std::to_string(unused_port()) + "/v23.0";
    config.phone_number_id = kPhoneId;
    config.access_token = kToken;
    auto api = make_api(config);
    Delivery d = api->post(message_to("919800000001"));
    CHECK(d.kind == Delivery::Kind::kTransport);
    CHECK(d.transport_error.find("Connection") != std::string::npos);
  }

  TEST_CASE("transport: a certificate from an unknown CA; no request is sent") {
    TlsSetup setup(/*start=*/false);
    sender::CloudApiStandIn stand_in({setup.pki.untrusted_cert, setup.pki.untrusted_key, 4, true});
    REQUIRE(stand_in.start().ok());
    auto config = setup.config();
    config.api_base = stand_in.api_base();
    auto api = make_api(config);
    Delivery d = api->post(message_to("919800000001"));
    CHECK(d.kind == Delivery::Kind::kTransport);
    CHECK(d.transport_error.find("certificate verify failed") != std::string::npos);
    CHECK(stand_in.connections() == 1);  // the handshake reached it
    CHECK(stand_in.count() == 0);
  }

  TEST_CASE("transport: https to a server that speaks plain http") {
    sender::CloudApiStandIn stand_in;
    REQUIRE(stand_in.start().ok());
    sender::CloudApiConfig config;
    config.api_base = "https" + stand_in.api_base().substr(4);
    config.phone_number_id = kPhoneId;
    config.access_token = kToken;
    Delivery d = make_api(config)->post(message_to("919800000001"));
    CHECK(d.kind == Delivery::Kind::kTransport);
    CHECK(d.transport_error.starts_with("SSLConnection"));
    CHECK(stand_in.count() == 0);
  }

  TEST_CASE("transport: a trusted certificate for another host name; no request is sent") {
    TlsSetup setup(/*start=*/false);
    sender::CloudApiStandIn stand_in(
        {setup.pki.wrong_name_cert, setup.pki.wrong_name_key, 4, true});
    REQUIRE(stand_in.start().ok());
    auto config = setup.config();
    config.api_base = stand_in.api_base();
    auto api = make_api(config);
    Delivery d = api->post(message_to("919800000001"));
    CHECK(d.kind == Delivery::Kind::kTransport);
    CHECK(d.transport_error.find("does not name 127.0.0.1") != std::string::npos);
    CHECK(stand_in.connections() == 1);
    CHECK(stand_in.count() == 0);
  }

  TEST_CASE("TLS: localhost matches the certificate's DNS name") {
    TlsSetup setup;
    auto config = setup.config();
    config.api_base = setup.stand_in.api_base();
    config.api_base.replace(config.api_base.find("127.0.0.1"), 9, "localhost");
    Delivery d = make_api(config)->post(message_to("919800000001"));
    CHECK_MESSAGE(d.kind == Delivery::Kind::kAccepted, d.transport_error);
  }

  TEST_CASE("plain http to a loopback stand-in") {
    sender::CloudApiStandIn stand_in;
    REQUIRE(stand_in.start().ok());
    CHECK(stand_in.api_base().starts_with("http://127.0.0.1:"));
    sender::CloudApiConfig config;
    config.api_base = stand_in.api_base();
    config.phone_number_id = kPhoneId;
    config.access_token = kToken;
    Delivery d = make_api(config)->post(message_to("919800000001"));
    CHECK_MESSAGE(d.kind == Delivery::Kind::kAccepted, d.transport_error);
    CHECK(d.message_id == "wamid.standin.0");
    CHECK(stand_in.requests().at(0).authorization == std::string("Bearer ") + kToken);
  }

  TEST_CASE("drop: the connection closes without a byte of an answer") {
    for (bool tls : {true, false}) {
      CAPTURE(tls);
      TlsSetup setup(/*start=*/false);
      sender::CloudApiStandIn stand_in(
          tls ? sender::StandInOptions{setup.pki.server_cert, setup.pki.server_key, 4, true}
              : sender::StandInOptions{});
      REQUIRE(stand_in.start().ok());
      stand_in.respond_with([](const sender::StandInRequest& r) {
        sender::StandInAnswer answer;
        answer.drop = r.index % 2 == 0;
        return answer;
      });
      const int port = std::stoi(stand_in.api_base().substr(stand_in.api_base().rfind(':') + 1));
      const std::string request = post_request("/v23.0/1/messages", message_to("1"));
      CHECK(raw_exchange(port, tls, request).empty());  // index 0: dropped
      const std::string closing = "Connection: close\r\n";
      std::string request_then_close = request;
      request_then_close.insert(request.find("\r\n") + 2, closing);
      CHECK(raw_exchange(port, tls, request_then_close).starts_with("HTTP/1.1 200 OK"));  // index 1

      auto config = setup.config();
      config.api_base = stand_in.api_base();
      auto api = make_api(config);
      Delivery dropped = api->post(message_to("919800000001"));  // index 2
      CHECK(dropped.kind == Delivery::Kind::kTransport);
      CHECK(dropped.http_status == 0);
      Delivery next = api->post(message_to("919800000001"));  // index 3, a new connection
      CHECK_MESSAGE(next.kind == Delivery::Kind::kAccepted, next.transport_error);
      CHECK(stand_in.count() == 4);
      CHECK(stand_in.connections() == 4);
    }
  }

  TEST_CASE("wait_for: false after the timeout, true once enough requests arrived") {
    TlsSetup setup;
    const auto start = std::chrono::steady_clock::now();
    CHECK_FALSE(setup.stand_in.wait_for(1, 100ms));
    CHECK(std::chrono::steady_clock::now() - start >= 100ms);

    auto api = make_api(setup.config());
    std::thread poster([&] {
      for (int i = 0; i < 3; ++i) api->post(message_to("919800000001"));
    });
    const auto wait_start = std::chrono::steady_clock::now();
    const bool reached = setup.stand_in.wait_for(3, 10s);
    const auto waited = std::chrono::steady_clock::now() - wait_start;
    poster.join();
    CHECK(reached);
    CHECK(waited < 5s);  // woken by the third request, not by the timeout
    CHECK(setup.stand_in.count() == 3);
    CHECK_FALSE(setup.stand_in.wait_for(4, 50ms));
  }

  TEST_CASE("stand-in: keep_bodies false keeps no bodies but the responder sees them") {
    sender::StandInOptions options;
    options.keep_bodies = false;
    sender::CloudApiStandIn stand_in(options);
    std::atomic<bool> saw_body{false};
    stand_in.respond_with([&](const sender::StandInRequest& r) {
      saw_body = r.body.find("919800000001") != std::string::npos;
      return sender::StandInAnswer{};
    });
    REQUIRE(stand_in.start().ok());
    sender::CloudApiConfig config;
    config.api_base = stand_in.api_base();
    config.phone_number_id = kPhoneId;
    config.access_token = kToken;
    CHECK(make_api(config)->post(message_to("919800000001")).kind == Delivery::Kind::kAccepted);
    CHECK(saw_body);
    CHECK(stand_in.requests().at(0).body.empty());
    CHECK(stand_in.requests().at(0).message_id == "wamid.standin.0");
  }

  TEST_CASE("stand-in: start fails on a bad certificate or half a pair; stop is idempotent") {
    test::TempDir dir;
    sender::CloudApiStandIn missing({dir.file("missing.pem"), dir.file("missing.key"), 2, true});
    CHECK_FALSE(missing.start().ok());
    sender::CloudApiStandIn half({dir.file("missing.pem"), "", 2, true});
    auto started = half.start();
    REQUIRE_FALSE(started.ok());
    CHECK(started.error().code == core::ErrorCode::kInvalidInput);
    sender::CloudApiStandIn twice;
    REQUIRE(twice.start().ok());
    CHECK_FALSE(twice.start().ok());
    twice.stop();
    twice.stop();
  }
}
