// vaxbot serve: the webhook server. Wiring only: configuration from flags and
// environment, then Database -> Writer -> Server, and an orderly stop on
// SIGTERM/SIGINT (stop accepting, finish requests in progress, commit what is
// queued, close the database).
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <thread>

#include "cli/app.h"
#include "cli/args.h"
#include "cli/commands.h"
#include "core/clock.h"
#include "core/log.h"
#include "http/server.h"
#include "outbox/outbox.h"
#include "sender/cloud_api.h"
#include "store/database.h"
#include "store/stats.h"
#include "store/writer.h"
#include "whatsapp/signature.h"

namespace vaxbot::cli {
namespace {

// Used only with --dev-mode: public, so anyone can forge webhooks to such a server.
constexpr const char* kDevSecret = "vaxbot-development-secret";
constexpr const char* kDevVerifyToken = "vaxbot-development-token";

const std::vector<OptionSpec> kServeOptions = with_content_options({
    {"host", true, "address to listen on", "0.0.0.0; 127.0.0.1 with --dev-mode"},
    {"port", true, "port to listen on (0: any free port)", "8080"},
    {"db", true, "SQLite database file", "vaxbot.db"},
    {"threads", true, "HTTP threads; one is held per open keep-alive connection", "512"},
    {"synchronous", true, "full (a 200 survives power loss) or normal (survives a crash)", "full"},
    {"queue-capacity", true, "events waiting for the writer before answering 503", "65536"},
    {"send-rate", true, "replies per second the business number may send (Meta: 80, up to 1000)",
     "80"},
    {"sender-threads", true, "connections to the Cloud API (0: enough for the rate)", "0"},
    {"mark-read", true, "mark each resident's message as read: on or off", "on"},
    {"log-level", true, "trace, debug, info, warn, error", "info"},
    {"dev-mode", false,
     "development mode: without WHATSAPP_APP_SECRET, use the public secret "
     "'vaxbot-development-secret' (never on a public address)",
     ""},
    {"help", false, "show this help", ""},
});

const char* env_or(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? v : fallback;
}

}  // namespace

int serve(const std::vector<std::string>& argv) {
  auto parsed = Args::parse(argv, kServeOptions);
  if (!parsed.ok()) {
    std::cerr << "vaxbot serve: " << parsed.error().message << "\n"
              << usage("vaxbot serve [options]", kServeOptions);
    return 2;
  }
  const Args& args = *parsed;
  if (args.has("help")) {
    std::cout
        << usage("vaxbot serve [options]", kServeOptions)
        << "\nenvironment:\n"
           "  WHATSAPP_APP_SECRET      app secret that signs webhooks (required)\n"
           "  WHATSAPP_VERIFY_TOKEN    token typed into Meta's dashboard for the handshake\n"
           "  WHATSAPP_ACCESS_TOKEN    token replies are sent with (unset: replies wait unsent)\n"
           "  WHATSAPP_PHONE_NUMBER_ID the business number's id in the Cloud API\n"
           "  WHATSAPP_API_BASE        default https://graph.facebook.com/v23.0\n"
           "  WHATSAPP_CA_FILE         extra CA certificates (PEM) to trust for the API\n";
    return 0;
  }
  if (!core::set_log_level(args.get("log-level", "info"))) {
    std::cerr << "vaxbot serve: unknown --log-level '" << args.get("log-level") << "'\n";
    return 2;
  }
  auto log = core::logger("main");
  const bool dev = args.has("dev-mode");

  std::string secret = env_or("WHATSAPP_APP_SECRET", "");
  if (secret.empty()) {
    if (!dev) {
      std::cerr
          << "vaxbot serve: WHATSAPP_APP_SECRET is not set.\n"
             "Set it to the app secret from Meta's App Dashboard (App settings > Basic),\n"
             "or run with --dev-mode to try vaxbot locally with a public development secret.\n";
      return 1;
    }
    secret = kDevSecret;
    log->warn(
        "DEVELOPMENT MODE: webhooks are checked against the public secret '{}'; "
        "never expose this server",
        kDevSecret);
  }

  http::ServerOptions server_options;
  server_options.host = args.get("host", dev ? "127.0.0.1" : "0.0.0.0");
  server_options.verify_token = env_or("WHATSAPP_VERIFY_TOKEN", dev ? kDevVerifyToken : "");
  if (server_options.verify_token.empty()) {
    log->warn("WHATSAPP_VERIFY_TOKEN is not set: Meta's verification handshake will be refused");
  }
  auto port = args.get_int("port", 8080, 0, 65535);
  auto threads = args.get_int("threads", 512, 4, 8192);
  auto capacity = args.get_int("queue-capacity", 65536, 1, 10'000'000);
  auto send_rate = args.get_int("send-rate", 80, 1, 1000);
  auto sender_threads = args.get_int("sender-threads", 0, 0, 1000);
  for (const auto* r : {&port, &threads, &capacity, &send_rate, &sender_threads}) {
    if (!r->ok()) {
      std::cerr << "vaxbot serve: " << r->error().message << "\n";
      return 2;
    }
  }
  server_options.port = static_cast<int>(*port);
  server_options.threads = static_cast<int>(*threads);

  store::DatabaseOptions db_options;
  db_options.path = args.get("db", "vaxbot.db");
  const std::string sync = args.get("synchronous", "full");
  if (sync != "full" && sync != "normal") {
    std::cerr << "vaxbot serve: --synchronous must be full or normal, not '" << sync << "'\n";
    return 2;
  }
  db_options.synchronous = sync == "full" ? store::Synchronous::kFull : store::Synchronous::kNormal;
  const std::string mark_read = args.get("mark-read", "on");
  if (mark_read != "on" && mark_read != "off") {
    std::cerr << "vaxbot serve: --mark-read must be on or off, not '" << mark_read << "'\n";
    return 2;
  }

  // Replies are sent when the Cloud API is configured; otherwise they wait in the outbox.
  std::optional<outbox::OutboxOptions> sending;
  const std::string token = env_or("WHATSAPP_ACCESS_TOKEN", "");
  const std::string phone_id = env_or("WHATSAPP_PHONE_NUMBER_ID", "");
  if (!token.empty() || !phone_id.empty()) {
    outbox::OutboxOptions o;
    o.api.access_token = token;
    o.api.phone_number_id = phone_id;
    o.api.api_base = env_or("WHATSAPP_API_BASE", "https://graph.facebook.com/v23.0");
    o.api.ca_file = env_or("WHATSAPP_CA_FILE", "");
    o.rate_per_second = static_cast<double>(*send_rate);
    o.threads = static_cast<int>(*sender_threads);
    o.mark_read = mark_read == "on";
    if (auto st = sender::validate(o.api); !st.ok()) {
      std::cerr << "vaxbot serve: " << st.error().message << "\n";
      return 1;
    }
    sending = std::move(o);
  } else {
    log->warn(
        "WHATSAPP_ACCESS_TOKEN and WHATSAPP_PHONE_NUMBER_ID are not set: replies are kept in "
        "the outbox and not sent");
  }

  // Signals are taken by sigwait() below; every thread started from here inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  core::SystemClock clock;
  core::Registry metrics;
  AppOptions app_options;
  app_options.content = content_paths(args);
  app_options.database = db_options;
  app_options.writer.queue_capacity = static_cast<std::size_t>(*capacity);
  app_options.outbox = sending;
  auto app = App::open(app_options, clock, metrics);
  if (!app.ok()) {
    log->error("{}", app.error().message);
    return 1;
  }
  store::Writer& writer = (*app)->writer();
  store::DatabaseOptions reader_options = db_options;
  reader_options.read_only = true;
  auto reader = store::Database::open(reader_options);
  if (!reader.ok()) {
    log->error("{}", reader.error().message);
    return 1;
  }
  std::mutex reader_mutex;
  store::StatsCache stats(**reader, reader_mutex, std::chrono::seconds(1));
  metrics.gauge(
      "vaxbot_bookings", "Bookings by status", [&] { return double(stats.get().bookings_active); },
      "status=\"booked\"");
  metrics.gauge(
      "vaxbot_bookings", "Bookings by status",
      [&] { return double(stats.get().bookings_cancelled); }, "status=\"cancelled\"");
  // Priorities (core/message.h): 0 replies mid-conversation, 1 greetings, 2 reminders, 3 bulk.
  // The outbox holds only replies still to send: what became of the others is
  // vaxbot_sends_total and, per reply, the transcript.
  for (const char* status : {"queued", "sending"}) {
    for (int priority : {0, 1, 2, 3}) {
      metrics.gauge(
          "vaxbot_outbox", "Replies waiting in the outbox (queued, or being sent) by priority",
          [&stats, status, priority] {
            const auto o = stats.get().outbox;
            auto it = o.find({status, priority});
            return it == o.end() ? 0.0 : double(it->second);
          },
          std::string("status=\"") + status + "\",priority=\"" + std::to_string(priority) + "\"");
    }
  }

  whatsapp::SignatureVerifier verifier(secret);
  outbox::Outbox* out = (*app)->outbox();
  http::Server server(
      server_options, verifier, writer, metrics,
      [&] {
        std::lock_guard lock(reader_mutex);
        return (*reader)->ping();
      },
      [out] { return out == nullptr ? std::string("disabled") : out->health(); });
  auto bound = server.bind();
  if (!bound.ok()) {
    log->error("{}", bound.error().message);
    return 1;
  }
  std::thread serving([&] { server.run(); });
  // One stable line on stdout: scripts and tests read the port from it.
  std::printf("listening on http://%s:%d\n", server_options.host.c_str(), *bound);
  std::fflush(stdout);
  log->info("vaxbot {} serving on {}:{} (db {}, synchronous {}, {} threads)", VAXBOT_VERSION,
            server_options.host, *bound, db_options.path, sync, server_options.threads);

  int sig = 0;
  sigwait(&signals, &sig);
  log->info("{} received: stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
  server.stop();
  serving.join();
  (*app)->stop();
  log->info("stopped cleanly");
  return 0;
}

}  // namespace vaxbot::cli
