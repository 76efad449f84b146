#include "http/server.h"

#include <httplib.h>
#include <openssl/crypto.h>
#include <sys/socket.h>

#include <nlohmann/json.hpp>
#include <unordered_map>

#include "core/log.h"
#include "whatsapp/webhook.h"

namespace vaxbot::http {
namespace {

// cpp-httplib 0.11.4 hard-codes a listen backlog of 5; a burst of new
// connections then stalls for seconds. The listening socket is a protected
// member, so this subclass exposes it to listen() again with a real backlog.
class TunedServer : public httplib::Server {
 public:
  int listening_socket() const { return svr_sock_; }
};

bool same_secret(const std::string& a, const std::string& b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

enum Outcome {
  kOk,
  kIgnored,
  kUnauthorized,
  kTooLarge,
  kBadRequest,
  kOverloaded,
  kUnavailable,
  kError,
  kOutcomeCount
};
constexpr const char* kOutcomeNames[kOutcomeCount] = {"ok",          "ignored",     "unauthorized",
                                                      "too_large",   "bad_request", "overloaded",
                                                      "unavailable", "error"};

}  // namespace

struct Server::Impl {
  ServerOptions options;
  const whatsapp::SignatureVerifier& verifier;
  store::Writer& writer;
  DatabaseProbe probe;
  SenderProbe sender;
  core::Registry& metrics;
  TunedServer http;
  std::shared_ptr<spdlog::logger> log = core::logger("http");
  core::Counter* outcomes[kOutcomeCount];
  std::unordered_map<std::string_view, core::Counter*> events_by_type;
  core::Histogram& ack_seconds;

  Impl(ServerOptions o, const whatsapp::SignatureVerifier& v, store::Writer& w, core::Registry& m,
       DatabaseProbe p, SenderProbe sp)
      : options(std::move(o)),
        verifier(v),
        writer(w),
        probe(std::move(p)),
        sender(std::move(sp)),
        metrics(m),
        ack_seconds(m.histogram(
            "vaxbot_webhook_seconds", "Time from a webhook read to its answer",
            {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10})) {
    for (int i = 0; i < kOutcomeCount; ++i) {
      outcomes[i] = &m.counter("vaxbot_webhooks_total", "Webhook POSTs by outcome",
                               std::string("outcome=\"") + kOutcomeNames[i] + "\"");
    }
    auto add_type = [&](std::string_view label) {
      events_by_type[label] =
          &m.counter("vaxbot_events_total", "Events parsed from webhooks, by type",
                     "type=\"" + std::string(label) + "\"");
    };
    for (int k = 0; k <= static_cast<int>(core::MessageKind::kUnknown); ++k) {
      add_type(core::to_string(static_cast<core::MessageKind>(k)));
    }
    add_type("status");
    add_type("unusable");
    configure();
  }

  void configure() {
    http.set_tcp_nodelay(true);
    const auto threads = static_cast<std::size_t>(options.threads);
    http.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
    http.set_keep_alive_max_count(options.keep_alive_max_requests);
    http.set_keep_alive_timeout(options.keep_alive_timeout_s);
    http.set_payload_max_length(options.max_body_bytes);
    http.set_read_timeout(10, 0);
    http.set_write_timeout(10, 0);
    // Bodies over the limit are refused by cpp-httplib before any handler runs;
    // its error handler is called before the answer is written, so count them there.
    http.set_error_handler(httplib::Server::HandlerWithResponse(
        [this](const httplib::Request&, httplib::Response& res) {
          if (res.status == 413) count(kTooLarge);
          return httplib::Server::HandlerResponse::Unhandled;
        }));
    http.Get("/webhook",
             [this](const httplib::Request& req, httplib::Response& res) { handshake(req, res); });
    http.Post("/webhook", [this](const httplib::Request& req, httplib::Response& res) {
      const auto started = std::chrono::steady_clock::now();
      try {
        webhook(req, res);
      } catch (const std::exception& e) {
        log->error("webhook failed: {}", e.what());
        count(kError);
        reply(res, 500, "internal error\n");
      }
      ack_seconds.observe(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    });
    http.Get("/healthz", [this](const httplib::Request&, httplib::Response& res) { health(res); });
    http.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
      res.set_content(metrics.render(), "text/plain; version=0.0.4");
    });
  }

  void count(Outcome o) { outcomes[o]->inc(); }

  static void reply(httplib::Response& res, int status, const char* body) {
    res.status = status;
    res.set_content(body, "text/plain");
  }

  void handshake(const httplib::Request& req, httplib::Response& res) {
    const std::string mode = req.get_param_value("hub.mode");
    const std::string token = req.get_param_value("hub.verify_token");
    if (mode == "subscribe" && !options.verify_token.empty() &&
        same_secret(token, options.verify_token)) {
      log->info("webhook verification handshake accepted");
      res.set_content(req.get_param_value("hub.challenge"), "text/plain");
      return;
    }
    log->warn("webhook verification handshake refused (mode {}, token {})",
              mode == "subscribe" ? "subscribe" : "not 'subscribe'",
              options.verify_token.empty() ? "not configured" : "wrong");
    reply(res, 403, "forbidden\n");
  }

  void webhook(const httplib::Request& req, httplib::Response& res) {
    auto check = verifier.verify(req.body, req.get_header_value("X-Hub-Signature-256"));
    if (check != whatsapp::SignatureCheck::kValid) {
      log->warn("webhook refused: signature {} ({} bytes from {})", whatsapp::to_string(check),
                req.body.size(), req.remote_addr);
      count(kUnauthorized);
      return reply(res, 401, "invalid signature\n");
    }
    auto parsed = whatsapp::parse_webhook(req.body);
    if (!parsed.ok()) {
      log->warn("webhook refused: {} ({} bytes)", parsed.error().message, req.body.size());
      count(kBadRequest);
      return reply(res, 400, "not a WhatsApp webhook payload\n");
    }
    whatsapp::Webhook& hook = *parsed;
    if (hook.ignored) {
      log->info("webhook ignored: object '{}' is not a WhatsApp Business Account", hook.object);
      count(kIgnored);
      return reply(res, 200, "ignored\n");
    }
    for (const core::Event& e : hook.events) {
      events_by_type.at(core::event_label(e))->inc();
      if (const auto* u = std::get_if<core::Unusable>(&e)) {
        log->warn("unusable part of a webhook at {}: {}{}{}", u->where, u->reason,
                  u->id.empty() ? "" : " id ", u->id);
      }
    }
    const std::size_t n = hook.events.size();
    auto receipt = writer.submit(std::move(hook.events), options.commit_timeout);
    if (!receipt.ok()) {
      const bool overloaded = receipt.error().code == core::ErrorCode::kOverloaded;
      log->warn("webhook deferred (503): {}", receipt.error().message);
      count(overloaded ? kOverloaded : kUnavailable);
      res.set_header("Retry-After", overloaded ? "1" : "5");
      return reply(res, 503,
                   overloaded ? "overloaded, retry later\n" : "unavailable, retry later\n");
    }
    log->debug("webhook stored: {} events ({} new, {} duplicate, {} changes skipped)", n,
               receipt->new_events, receipt->duplicates, hook.skipped_changes);
    count(kOk);
    reply(res, 200, "ok\n");
  }

  void health(httplib::Response& res) {
    auto db = probe ? probe() : core::ok_status();
    const bool writer_ok = writer.healthy();
    const std::string sending = sender ? sender() : "disabled";
    const bool sender_failing = sending.rfind("failing", 0) == 0;
    nlohmann::json body = {
        {"status", !(db.ok() && writer_ok) ? "unavailable"
                   : sender_failing        ? "degraded"
                                           : "ok"},
        {"database", db.ok() ? "ok" : db.error().message},
        {"writer", writer_ok ? "ok" : "failing"},
        {"sender", sending},
        {"queue_depth", writer.pending_events()},
    };
    res.status = db.ok() && writer_ok ? 200 : 503;
    res.set_content(body.dump(), "application/json");
  }
};

Server::Server(ServerOptions options, const whatsapp::SignatureVerifier& verifier,
               store::Writer& writer, core::Registry& metrics, DatabaseProbe probe,
               SenderProbe sender)
    : impl_(std::make_unique<Impl>(std::move(options), verifier, writer, metrics, std::move(probe),
                                   std::move(sender))) {}

Server::~Server() = default;

core::Result<int> Server::bind() {
  auto& o = impl_->options;
  int port = o.port == 0 ? impl_->http.bind_to_any_port(o.host)
                         : (impl_->http.bind_to_port(o.host, o.port) ? o.port : -1);
  if (port < 0) {
    return core::make_error(core::ErrorCode::kUnavailable,
                            "cannot listen on " + o.host + ":" + std::to_string(o.port));
  }
  ::listen(impl_->http.listening_socket(), o.listen_backlog);
  return port;
}

void Server::run() {
  impl_->http.listen_after_bind();
}

void Server::stop() {
  impl_->http.stop();
}

}  // namespace vaxbot::http
