// cli/ serve: the real binary as a child process — configuration refusals,
// an orderly SIGTERM, and a SIGKILL in the middle of a stream of webhooks.
#include <doctest/doctest.h>
#include <signal.h>

#include <atomic>
#include <condition_variable>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>

#include "sender/stand_in.h"
#include "store/conversation_store.h"
#include "support.h"
#include "whatsapp/send.h"

using namespace vaxbot;

namespace {

std::vector<std::string> secret_env() {
  return {std::string("WHATSAPP_APP_SECRET=") + test::kFixtureSecret};
}

httplib::Result post_signed(httplib::Client& client, const std::string& body,
                            const std::string& secret = test::kFixtureSecret) {
  whatsapp::SignatureVerifier verifier(secret);
  return client.Post("/webhook", {{"X-Hub-Signature-256", verifier.sign(body)}}, body,
                     "application/json");
}

// The environment that points the binary's sender at a stand-in over TLS.
std::vector<std::string> sender_env(const sender::CloudApiStandIn& stand_in,
                                    const test::TestPki& pki) {
  auto env = secret_env();
  env.push_back("WHATSAPP_ACCESS_TOKEN=process-test-token");
  env.push_back("WHATSAPP_PHONE_NUMBER_ID=106540352242922");
  env.push_back("WHATSAPP_API_BASE=" + stand_in.api_base());
  env.push_back("WHATSAPP_CA_FILE=" + pki.ca);
  return env;
}

std::string status_webhook(const std::string& wamid, const std::string& state) {
  nlohmann::json status = {{"id", wamid},
                           {"status", state},
                           {"timestamp", "1767852275"},
                           {"recipient_id", "919800000001"}};
  nlohmann::json value = {
      {"messaging_product", "whatsapp"},
      {"metadata",
       {{"display_phone_number", "918000000100"}, {"phone_number_id", "106540352242922"}}},
      {"statuses", {status}}};
  return nlohmann::json{
      {"object", "whatsapp_business_account"},
      {"entry", {{{"id", "1"}, {"changes", {{{"field", "messages"}, {"value", value}}}}}}}}
      .dump();
}

bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

}  // namespace

TEST_SUITE("cli serve") {
  TEST_CASE("refuses to start without WHATSAPP_APP_SECRET and says what to set") {
    test::TempDir dir;
    test::ChildProcess child({"serve", "--port", "0", "--db", dir.file("x.db")}, {}, false);
    CHECK(child.wait() == 1);
    CHECK(child.stderr_text().find("WHATSAPP_APP_SECRET") != std::string::npos);
    CHECK(child.stderr_text().find("--dev-mode") != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(dir.file("x.db")));
  }

  TEST_CASE("bad flags are usage errors") {
    for (std::vector<std::string> args : {std::vector<std::string>{"serve", "--port", "70000"},
                                          {"serve", "--bogus"},
                                          {"serve", "--synchronous", "off"},
                                          {"serve", "--port"},
                                          {"no-such-command"}}) {
      test::ChildProcess child(args, secret_env(), false);
      CHECK_MESSAGE(child.wait() == 2, args.back());
    }
    test::ChildProcess help({"serve", "--help"}, {}, false);
    CHECK(help.wait() == 0);
    CHECK(help.stdout_text().find("--synchronous") != std::string::npos);
    test::ChildProcess version({"--version"}, {}, false);
    CHECK(version.wait() == 0);
    CHECK(version.stdout_text().rfind("vaxbot ", 0) == 0);
  }

  TEST_CASE("development mode runs without a secret and stops cleanly on SIGTERM") {
    test::TempDir dir;
    test::ChildProcess child({"serve", "--dev-mode", "--port", "0", "--db", dir.file("dev.db")},
                             {});
    httplib::Client client("127.0.0.1", child.port());
    auto res =
        post_signed(client, test::fixture("webhooks/text_hi.json"), "vaxbot-development-secret");
    REQUIRE(res);
    CHECK(res->status == 200);
    auto handshake = client.Get(
        "/webhook?hub.mode=subscribe&hub.verify_token=vaxbot-development-token&hub.challenge=42");
    REQUIRE(handshake);
    CHECK(handshake->body == "42");
    child.kill(SIGTERM);
    CHECK(child.wait() == 0);
    CHECK(child.stderr_text().find("DEVELOPMENT MODE") != std::string::npos);
    CHECK(child.stderr_text().find("stopped cleanly") != std::string::npos);
    CHECK(test::count(dir.file("dev.db"), "SELECT count(*) FROM messages WHERE outbound = 0") == 1);
  }

  TEST_CASE(
      "end to end: a signed 'Hi' webhook gets the welcome queued in the outbox, committed with "
      "it") {
    test::TempDir dir;
    const std::string db = dir.file("e2e.db");
    test::ChildProcess child({"serve", "--port", "0", "--db", db}, secret_env());
    httplib::Client client("127.0.0.1", child.port());
    auto res = post_signed(client, test::fixture("webhooks/text_hi.json"));
    REQUIRE(res);
    CHECK(res->status == 200);
    // The 200 came after COMMIT: the reply is already in the outbox, addressed with "+".
    CHECK(
        test::count(
            db,
            "SELECT count(*) FROM outbox WHERE recipient = "
            "'919800000001' AND status = 'queued' AND json_extract(body, '$.to') = '+919800000001' "
            "AND json_extract(body, '$.interactive.type') = 'button'") == 1);
    CHECK(test::count(db, "SELECT count(*) FROM transcript WHERE resident = '919800000001'") == 2);
    CHECK(
        test::count(db,
                    "SELECT count(*) FROM transcript WHERE direction = 'out' AND status = 'queued' "
                    "AND step = 'first_dose_date' AND kind = 'welcome'") == 1);
    CHECK(test::count(db, "SELECT count(*) FROM sessions WHERE step = 'first_dose_date'") == 1);
    CHECK(test::count(db, "SELECT count(*) FROM venues") ==
          12);  // demo centres seeded on first start
    // The date, then a sticker: the session moves on, the sticker gets told what to send.
    auto date = post_signed(client, test::fixture("webhooks/text_first_dose_date.json"));
    REQUIRE(date);
    CHECK(date->status == 200);
    CHECK(test::count(db, "SELECT count(*) FROM sessions WHERE step = 'vaccine'") == 1);
    CHECK(test::count(db, "SELECT count(*) FROM outbox") == 2);
    auto metrics = client.Get("/metrics");
    REQUIRE(metrics);
    // The welcome of a new conversation waits behind replies to residents already in one, and
    // so does the next reply to this resident while the welcome waits: never before it.
    CHECK(metrics->body.find("vaxbot_outbox{status=\"queued\",priority=\"1\"} 2\n") !=
          std::string::npos);
    CHECK(metrics->body.find("vaxbot_bookings{status=\"booked\"} 0\n") != std::string::npos);
    CHECK(metrics->body.find("vaxbot_events_stored_total{result=\"new\"} 2\n") !=
          std::string::npos);
    child.kill(SIGTERM);
    CHECK(child.wait() == 0);
  }

  TEST_CASE("refuses to start on broken content, naming file, line and column") {
    test::TempDir dir;
    std::filesystem::copy(std::filesystem::path(VAXBOT_SOURCE_DIR) / "templates",
                          dir.path() / "templates");
    std::string hi = test::read_file(dir.path() / "templates" / "hi.json");
    hi.replace(hi.find("\"btn_confirm\""), 13, "\"btn_confirmX\"");
    std::ofstream(dir.path() / "templates" / "hi.json") << hi;
    test::ChildProcess child({"serve", "--port", "0", "--db", dir.file("x.db"), "--templates",
                              (dir.path() / "templates").string()},
                             secret_env(), false);
    CHECK(child.wait() == 1);
    CHECK(child.stderr_text().find("hi.json:1:1: missing \"btn_confirm\"") != std::string::npos);
  }

  TEST_CASE("SIGKILL while clients post: every 200 survives; re-sent messages are stored once") {
    test::TempDir dir;
    const std::string db = dir.file("crash.db");
    constexpr int kClients = 8;
    constexpr int kAcksBeforeKill = 1500;

    std::mutex mutex;
    std::condition_variable enough;
    int acks = 0;
    std::vector<std::string> acked, unanswered;
    {
      test::ChildProcess server({"serve", "--port", "0", "--db", db}, secret_env());
      std::vector<std::thread> clients;
      for (int c = 0; c < kClients; ++c) {
        clients.emplace_back([&, c] {
          httplib::Client client("127.0.0.1", server.port());
          client.set_tcp_nodelay(true);
          for (int i = 0;; ++i) {
            const std::string id = "wamid.CRASH" + std::to_string(c) + "-" + std::to_string(i);
            auto res = post_signed(client, test::text_webhook({id}, "9198" + std::to_string(c)));
            std::lock_guard lock(mutex);
            if (res && res->status == 200) {
              acked.push_back(id);
              if (++acks == kAcksBeforeKill) enough.notify_all();
            } else {
              unanswered.push_back(id);  // as Meta does: this one will be re-sent
              return;
            }
          }
        });
      }
      {
        std::unique_lock lock(mutex);
        enough.wait(lock, [&] { return acks >= kAcksBeforeKill; });
      }
      server.kill(SIGKILL);
      for (auto& t : clients) t.join();
      CHECK(server.wait() == 128 + SIGKILL);
    }
    REQUIRE(acked.size() >= kAcksBeforeKill);
    CHECK(unanswered.size() == kClients);

    test::ChildProcess restarted({"serve", "--port", "0", "--db", db}, secret_env());
    for (const auto& id : acked) {
      INFO(id);
      REQUIRE(test::count(db, "SELECT count(*) FROM messages WHERE outbound = 0 AND wamid='" + id +
                                  "'") == 1);
    }
    httplib::Client client("127.0.0.1", restarted.port());
    // Re-deliver what got no answer, and some of what did (Meta retries are at-least-once).
    std::vector<std::string> resend = unanswered;
    resend.insert(resend.end(), acked.begin(), acked.begin() + 50);
    for (const auto& id : resend) {
      const std::string from = "9198" + id.substr(11, id.find('-') - 11);
      auto res = post_signed(client, test::text_webhook({id}, from));
      REQUIRE(res);
      CHECK(res->status == 200);
    }
    const auto total = static_cast<std::int64_t>(acked.size() + unanswered.size());
    CHECK(test::count(db, "SELECT count(*) FROM messages WHERE outbound = 0") == total);
    CHECK(test::count(db, "SELECT count(DISTINCT wamid) FROM messages WHERE outbound = 0") ==
          total);
    restarted.kill(SIGTERM);
    CHECK(restarted.wait() == 0);
  }
}

TEST_SUITE("cli serve sending") {
  TEST_CASE("end to end: webhooks in, replies and read receipts out over TLS, statuses tracked") {
    test::TempDir dir;
    const auto pki = test::make_test_pki(dir.path());
    sender::CloudApiStandIn stand_in({pki.server_cert, pki.server_key});
    REQUIRE(stand_in.start().ok());
    const std::string db = dir.file("send.db");
    test::ChildProcess child({"serve", "--port", "0", "--db", db}, sender_env(stand_in, pki));
    httplib::Client client("127.0.0.1", child.port());
    auto hi = post_signed(client, test::fixture("webhooks/text_hi.json"));
    REQUIRE(hi);
    CHECK(hi->status == 200);
    REQUIRE(stand_in.wait_for(2, std::chrono::seconds(10)));  // the welcome and a read receipt
    std::string welcome_id;
    bool receipt = false;
    for (const auto& r : stand_in.requests()) {
      CHECK(r.authorization == "Bearer process-test-token");
      auto j = nlohmann::json::parse(r.body);
      if (j.value("status", "") == "read") {
        receipt = j["message_id"].get<std::string>().rfind("wamid.", 0) == 0;
      } else {
        CHECK(j["to"] == "+919800000001");
        CHECK(j["interactive"]["type"] == "button");
        welcome_id = r.message_id;
      }
    }
    CHECK(receipt);
    REQUIRE_FALSE(welcome_id.empty());
    // Meta's statuses, out of order: the row ends in the furthest state.
    for (const char* state : {"read", "sent", "delivered"}) {
      auto res = post_signed(client, status_webhook(welcome_id, state));
      REQUIRE(res);
      CHECK(res->status == 200);
    }
    auto date = post_signed(client, test::fixture("webhooks/text_first_dose_date.json"));
    REQUIRE(date);
    REQUIRE(
        stand_in.wait_for(4, std::chrono::seconds(10)));  // the vaccine question and its receipt
    auto health = client.Get("/healthz");
    REQUIRE(health);
    CHECK(nlohmann::json::parse(health->body)["sender"] == "ok");
    child.kill(SIGTERM);
    CHECK(child.wait() == 0);
    CHECK(test::count(db, "SELECT count(*) FROM messages WHERE wamid = '" + welcome_id +
                              "' AND status = 'read'") == 1);
    CHECK(test::count(db,
                      "SELECT count(*) FROM transcript WHERE kind = 'welcome' AND status = 'read' "
                      "AND message_id = '" +
                          welcome_id + "'") == 1);
    CHECK(test::count(db, "SELECT count(*) FROM messages WHERE outbound = 1 AND status = 'sent'") ==
          1);
    CHECK(test::count(db, "SELECT count(*) FROM outbox") == 0);    // decided: out of the outbox
    CHECK(test::count(db, "SELECT count(*) FROM statuses") == 0);  // applied to the line, not kept
    CHECK(child.stderr_text().find("process-test-token") == std::string::npos);
  }

  TEST_CASE("refuses to start with a half-configured or unreadable sender setting") {
    test::TempDir dir;
    auto env = secret_env();
    env.push_back("WHATSAPP_ACCESS_TOKEN=secret-token-value");  // no phone number id
    test::ChildProcess child({"serve", "--port", "0", "--db", dir.file("h.db")}, env, false);
    CHECK(child.wait() == 1);
    CHECK(child.stderr_text().find("WHATSAPP_PHONE_NUMBER_ID") != std::string::npos);
    CHECK(child.stderr_text().find("secret-token-value") == std::string::npos);
    env.push_back("WHATSAPP_PHONE_NUMBER_ID=1");
    env.push_back("WHATSAPP_CA_FILE=" + dir.file("missing.pem"));
    test::ChildProcess ca({"serve", "--port", "0", "--db", dir.file("h.db")}, env, false);
    CHECK(ca.wait() == 1);
    CHECK(ca.stderr_text().find("WHATSAPP_CA_FILE") != std::string::npos);
    test::ChildProcess rate({"serve", "--port", "0", "--send-rate", "1001"}, env, false);
    CHECK(rate.wait() == 2);
  }

  TEST_CASE(
      "SIGKILL while sending: after a restart every reply is sent, once unless it was being sent") {
    test::TempDir dir;
    const auto pki = test::make_test_pki(dir.path());
    const std::string db = dir.file("crash.db");
    constexpr int kRows = 300;
    {
      store::DatabaseOptions o;
      o.path = db;
      auto opened = store::Database::open(o);
      REQUIRE(opened.ok());
      store::ConversationStore cs(**opened);
      REQUIRE((*opened)->begin().ok());
      const std::int64_t now = core::SystemClock().now_ms();
      for (int i = 0; i < kRows; ++i) {
        const std::string who = "9196" + std::to_string(10000000 + i % 30);
        REQUIRE(cs.save_session({who, "second_dose", "", "en", "{}", 0, 0, "", now}).ok());
        core::OutboundMessage m;
        m.body = "row " + std::to_string(i);
        store::Reply row;
        row.resident = who;
        row.key = "row";
        row.pieces = {m.body};
        row.body = whatsapp::send_body(who, m);
        row.at_ms = now;
        REQUIRE(cs.queue_reply(row).ok());
      }
      REQUIRE((*opened)->commit().ok());
    }
    sender::CloudApiStandIn stand_in({pki.server_cert, pki.server_key});
    stand_in.respond_with([](const sender::StandInRequest&) {
      sender::StandInAnswer a;
      a.delay = std::chrono::milliseconds(20);
      return a;
    });
    REQUIRE(stand_in.start().ok());
    const std::vector<std::string> args = {"serve", "--port",      "0",    "--db",
                                           db,      "--send-rate", "1000", "--sender-threads",
                                           "8",     "--mark-read", "off"};
    std::set<std::int64_t> claimed_at_kill;
    {
      test::ChildProcess child(args, sender_env(stand_in, pki));
      REQUIRE(stand_in.wait_for(100, std::chrono::seconds(20)));
      child.kill(SIGKILL);
      child.wait();
      SQLite::Database reader(db);
      SQLite::Statement q(reader, "SELECT id FROM outbox WHERE status = 'sending'");
      while (q.executeStep()) claimed_at_kill.insert(q.getColumn(0).getInt64());
    }
    const auto sent_before =
        test::count(db, "SELECT count(*) FROM messages WHERE outbound = 1 AND status = 'sent'");
    CHECK(sent_before > 0);
    CHECK(sent_before < kRows);
    {
      test::ChildProcess child(args, sender_env(stand_in, pki));
      CHECK(eventually(
          [&] {
            return test::count(
                       db,
                       "SELECT count(*) FROM messages WHERE outbound = 1 AND status = 'sent'") ==
                   kRows;
          },
          std::chrono::seconds(30)));
      child.kill(SIGTERM);
      CHECK(child.wait() == 0);
      CHECK(child.stderr_text().find("sending them again") != std::string::npos);
    }
    std::map<std::int64_t, int>
        times;  // outbox id (row N has id N + 1) -> requests at the stand-in
    for (const auto& r : stand_in.requests()) {
      const std::string text = nlohmann::json::parse(r.body)["text"]["body"];
      ++times[std::stoll(text.substr(4)) + 1];
    }
    REQUIRE(times.size() == static_cast<std::size_t>(kRows));
    for (const auto& [id, n] : times) {
      CAPTURE(id);
      if (claimed_at_kill.count(id) == 1) {
        CHECK(n <= 2);
      } else {
        CHECK(n == 1);
      }
    }
  }
}
