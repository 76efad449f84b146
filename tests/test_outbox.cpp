// outbox/: pacing, and the outbox end to end: a real SQLite file, the real
// writer, real HTTPS (a CA made by the test) to the Cloud API stand-in.
#include <doctest/doctest.h>

#include <algorithm>
#include <deque>
#include <map>
#include <nlohmann/json.hpp>

#include "outbox/outbox.h"
#include "outbox/pace.h"
#include "sender/stand_in.h"
#include "store/conversation_store.h"
#include "support.h"
#include "whatsapp/send.h"

using namespace vaxbot;
using namespace std::chrono_literals;
using nlohmann::json;

TEST_SUITE("outbox pace") {
  TEST_CASE("the rate limiter spaces sends exactly 1/rate apart, from any number of callers") {
    outbox::RateLimiter limiter(50);
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<outbox::SteadyTime> slots;
    for (int i = 0; i < 100; ++i) slots.push_back(limiter.reserve(t0));
    CHECK(slots[0] == t0);
    for (std::size_t i = 1; i < slots.size(); ++i) CHECK(slots[i] - slots[i - 1] == 20ms);
    // After a pause the next slot is "now", not a burst of saved-up slots.
    const auto later = slots.back() + 10s;
    CHECK(limiter.reserve(later) == later);
    CHECK(limiter.reserve(later) == later + 20ms);
  }

  TEST_CASE(
      "Meta's throughput refusals slow the limiter, once a second; accepted sends win it back") {
    outbox::RateLimiter limiter(100);
    const auto t0 = std::chrono::steady_clock::now();
    limiter.slow_down(t0 + 2s);
    CHECK(limiter.rate() == doctest::Approx(50));
    limiter.slow_down(t0 + 2500ms);  // the same burst of refusals: counted once
    CHECK(limiter.rate() == doctest::Approx(50));
    limiter.slow_down(t0 + 3100ms);
    CHECK(limiter.rate() == doctest::Approx(25));
    const auto a = limiter.reserve(t0 + 10s);
    CHECK(limiter.reserve(t0 + 10s) - a == 40ms);
    limiter.speed_up();
    CHECK(limiter.rate() == doctest::Approx(25.2));
    for (int i = 0; i < 1000; ++i) limiter.speed_up();
    CHECK(limiter.rate() == doctest::Approx(100));  // never above the setting
    for (int i = 0; i < 100; ++i) limiter.slow_down(t0 + 4s + std::chrono::seconds(i));
    CHECK(limiter.rate() == doctest::Approx(1));  // a floor of 1 message/s
  }

  TEST_CASE("a resident gets a burst at once, then one message per interval") {
    outbox::RecipientPacer pacer(3, 6000ms);
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < 3; ++i) {
      CHECK(pacer.allowed_at("a", t0) == t0);
      pacer.take("a", t0);
    }
    CHECK(pacer.allowed_at("a", t0) == t0 + 6s);
    CHECK(pacer.allowed_at("b", t0) == t0);  // others are not affected
    pacer.take("a", t0 + 6s);
    CHECK(pacer.allowed_at("a", t0 + 6s) == t0 + 12s);
    pacer.take("a", t0 + 6s);
    CHECK(pacer.allowed_at("a", t0 + 6s) == t0 + 18s);
    pacer.give_back("a");  // that one was refused: it reached nobody
    CHECK(pacer.allowed_at("a", t0 + 6s) == t0 + 12s);
    pacer.forget_rested(t0 + 10s);
    CHECK(pacer.remembered() == 1);
    pacer.forget_rested(t0 + 24s);  // the whole allowance is back
    CHECK(pacer.remembered() == 0);
    CHECK(pacer.allowed_at("a", t0 + 24s) == t0 + 24s);
  }
}

namespace {

std::string graph_error(int code, const std::string& message) {
  return json{{"error",
               {{"message", message},
                {"type", "OAuthException"},
                {"code", code},
                {"error_data", {{"details", "details of " + std::to_string(code)}}},
                {"fbtrace_id", "Atrace"}}}}
      .dump();
}

// One CA and its certificates for the whole test run (openssl takes a moment).
const test::TestPki& pki() {
  static test::TempDir dir;
  static const test::TestPki made = test::make_test_pki(dir.path());
  return made;
}

// Checks `condition` until it holds or `timeout` passes; for outcomes that
// leave no request at the stand-in to wait for.
bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout = 10s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

enum class Cert { kTrusted, kUntrusted, kWrongName };

// A database with the real writer, the stand-in over TLS, and an outbox to drive.
struct Harness {
  test::TempDir dir;
  core::Registry metrics;
  core::SystemClock clock;
  std::string path = dir.file("outbox.db");
  std::unique_ptr<store::Writer> writer;
  sender::CloudApiStandIn stand_in;
  outbox::OutboxOptions options;
  std::unique_ptr<outbox::Outbox> outbox;

  explicit Harness(Cert cert = Cert::kTrusted)
      : stand_in({cert == Cert::kTrusted     ? pki().server_cert
                  : cert == Cert::kUntrusted ? pki().untrusted_cert
                                             : pki().wrong_name_cert,
                  cert == Cert::kTrusted     ? pki().server_key
                  : cert == Cert::kUntrusted ? pki().untrusted_key
                                             : pki().wrong_name_key}) {
    store::DatabaseOptions o;
    o.path = path;
    auto db = store::Database::open(o);
    REQUIRE(db.ok());
    writer = std::make_unique<store::Writer>(std::move(*db), clock, metrics);
    REQUIRE(stand_in.start().ok());
    options.api.api_base = stand_in.api_base();
    options.api.phone_number_id = "106540352242922";
    options.api.access_token = "test-access-token";
    options.api.ca_file = pki().ca;
    options.api.read_timeout = 400ms;
    options.api.connect_timeout = 1000ms;
    options.rate_per_second = 1000;
    options.threads = 4;
    options.mark_read = false;
    options.max_attempts = 3;
    options.backoff_base = 10ms;
    options.backoff_max = 50ms;
    options.pair_limit_wait = 10ms;
    options.maintenance_wait = 10ms;
    options.poll = 50ms;
  }
  ~Harness() {
    if (outbox) outbox->stop();
    writer->stop();
  }

  // A resident who wrote `ago` before now.
  void resident(const std::string& wa_id, std::chrono::milliseconds ago = 1min) {
    REQUIRE(writer
                ->run(
                    [&](store::Database& db) {
                      store::ConversationStore cs(db);
                      return cs.save_session({wa_id, "second_dose", "", "en", "{}", 0, 0, "",
                                              clock.now_ms() - ago.count()});
                    },
                    10s)
                .ok());
  }

  // Queues a text reply (with its transcript line); returns the outbox id.
  std::int64_t queue(const std::string& wa_id, const std::string& text, int priority = 0,
                     bool template_message = false) {
    core::OutboundMessage m;
    m.body = text;
    if (template_message) {
      m.kind = core::OutboundMessage::Kind::kTemplate;
      m.template_name = "booking_reminder";
      m.template_language = "en";
      m.template_parameters = {{"", text}};
    }
    std::int64_t id = 0;
    REQUIRE(writer
                ->run(
                    [&](store::Database& db) {
                      store::ConversationStore cs(db);
                      store::Reply row;
                      row.resident = wa_id;
                      row.key = "k";
                      row.pieces = {text};
                      row.body = whatsapp::send_body(wa_id, m);
                      row.priority = priority;
                      row.template_message = template_message;
                      row.at_ms = clock.now_ms();
                      auto r = cs.queue_reply(row);
                      if (!r.ok()) return core::Status(r.error());
                      id = *r;
                      return core::ok_status();
                    },
                    10s)
                .ok());
    return id;
  }

  void start() {
    outbox = std::make_unique<outbox::Outbox>(*writer, clock, metrics, options);
    writer->set_commit_listener(
        [this](const std::vector<std::string>& ids) { outbox->committed(ids); });
    auto st = outbox->start();
    REQUIRE_MESSAGE(st.ok(), (st.ok() ? "" : st.error().message));
  }
  // Waits for n requests at the stand-in, then stops the outbox so every result is recorded.
  void finish_after(std::size_t n, std::chrono::milliseconds timeout = 20s) {
    CHECK_MESSAGE(stand_in.wait_for(n, timeout),
                  "the stand-in got " << stand_in.count() << " of " << n);
    outbox->stop();
  }

  // A reply's line: status, wamid, error.
  std::string column(std::int64_t id, const std::string& name) {
    SQLite::Database db(path);
    return db
        .execAndGet("SELECT coalesce(" + name +
                    ", '') FROM messages WHERE seq = " + std::to_string(id))
        .getString();
  }
  // Whether the reply is still in the outbox (decided replies leave it).
  bool queued(std::int64_t id) {
    return test::count(path, "SELECT count(*) FROM outbox WHERE id = " + std::to_string(id)) > 0;
  }
  std::string transcript(std::int64_t id) {
    SQLite::Database db(path);
    return db.execAndGet("SELECT status FROM transcript WHERE seq = " + std::to_string(id))
        .getString();
  }
  // The text bodies the stand-in received, in arrival order.
  std::vector<std::string> texts() {
    std::vector<std::string> out;
    for (const auto& r : stand_in.requests()) {
      json j = json::parse(r.body);
      out.push_back(j.contains("text") ? j["text"]["body"].get<std::string>() : j.dump());
    }
    return out;
  }
};

}  // namespace

TEST_SUITE("outbox") {
  TEST_CASE("every queued reply is sent once, in order per resident, and recorded with Meta's id") {
    Harness h;
    std::map<std::string, std::int64_t> ids;
    for (const std::string who : {"919800000001", "919800000002", "919800000003"}) {
      h.resident(who);
      for (int i = 0; i < 5; ++i) {
        const std::string text = who + " reply " + std::to_string(i);
        ids[text] = h.queue(who, text);
      }
    }
    h.start();
    h.finish_after(15);
    const auto requests = h.stand_in.requests();
    REQUIRE(requests.size() == 15);
    std::map<std::string, std::vector<int>> order;
    for (const auto& r : requests) {
      CHECK(r.path == "/v23.0/106540352242922/messages");
      CHECK(r.authorization == "Bearer test-access-token");
      json j = json::parse(r.body);
      const std::string text = j["text"]["body"];
      const std::string who = j["to"].get<std::string>().substr(1);
      order[who].push_back(text.back() - '0');
      REQUIRE(ids.count(text) == 1);
      CHECK(h.column(ids[text], "status") == "sent");
      CHECK(h.column(ids[text], "wamid") == r.message_id);
      CHECK(h.transcript(ids[text]) == "sent");
    }
    for (const auto& [who, seen] : order) CHECK(seen == std::vector<int>{0, 1, 2, 3, 4});
    CHECK(h.metrics.render().find("vaxbot_sends_total{outcome=\"accepted\",code=\"\"} 15") !=
          std::string::npos);
    CHECK(h.outbox->health() == "stopped");
  }

  TEST_CASE(
      "replies to residents go before reminders and bulk notices, even ones claimed earlier") {
    Harness h;
    h.options.threads = 1;
    h.options.rate_per_second = 40;
    for (int i = 0; i < 40; ++i) {
      const std::string who = "91980000" + std::to_string(1000 + i);
      h.resident(who);
      h.queue(who, "bulk " + std::to_string(i), i < 20 ? 3 : 2);
    }
    h.queue("919800002999", "first reply", 0);  // queued with them: claimed first
    h.resident("919800002999");
    h.start();
    REQUIRE(h.stand_in.wait_for(3, 10s));  // the bulk notices are claimed and waiting for the rate
    for (int i = 0; i < 5; ++i) {
      const std::string who = "91980000" + std::to_string(2000 + i);
      h.resident(who);
      h.queue(who, "reply " + std::to_string(i), 0);
    }
    h.finish_after(46);
    const auto texts = h.texts();
    CHECK(texts[0] == "first reply");
    CHECK(texts[1] == "bulk 20");  // reminders (2) before bulk notices (3)
    std::size_t last_reply = 0;
    for (std::size_t i = 0; i < texts.size(); ++i) {
      if (texts[i].rfind("reply ", 0) == 0) last_reply = i;
    }
    // The replies overtake the 30-odd notices already claimed (a poll of 50 ms is 2 sends).
    CHECK(last_reply < 15);
  }

  TEST_CASE("in a backlog, a newcomer's welcome still reaches them before the next answer") {
    Harness h;
    h.options.threads = 1;
    h.options.rate_per_second = 100;
    // A backlog of replies to residents mid-conversation (priority 0), then a newcomer's
    // welcome (priority 1) and, before it could be sent, the answer to their next message
    // (priority 0), which outranks the welcome.
    for (int i = 0; i < 30; ++i) {
      const std::string who = "91981000" + std::to_string(1000 + i);
      h.resident(who);
      h.queue(who, "reply " + std::to_string(i), core::priority::kReply);
    }
    h.resident("919810009999");
    h.queue("919810009999", "welcome", core::priority::kGreeting);
    h.queue("919810009999", "ask vaccine", core::priority::kReply);
    h.start();
    h.finish_after(32);
    const auto texts = h.texts();
    const auto welcome = std::find(texts.begin(), texts.end(), "welcome");
    const auto answer = std::find(texts.begin(), texts.end(), "ask vaccine");
    REQUIRE(welcome != texts.end());
    REQUIRE(answer != texts.end());
    CHECK(welcome < answer);
  }

  TEST_CASE("a refusal is retried or failed by its Cloud API error code") {
    struct Case {
      int status;
      int code;
      bool retryable;
      bool alert;
    };
    const std::vector<Case> cases = {
        {400, 130429, true, false},  {400, 131056, true, false},  {500, 131000, true, false},
        {400, 1, true, false},       {503, 2, true, false},       {400, 4, true, false},
        {400, 80007, true, false},   {500, 131016, true, false},  {500, 131057, true, false},
        {400, 131047, false, false}, {400, 131026, false, false}, {400, 100, false, false},
        {400, 131009, false, false}, {404, 132001, false, false}, {401, 190, false, true},
        {401, 0, false, true},       {403, 10, false, true},      {403, 368, false, true},
    };
    for (const Case& c : cases) {
      CAPTURE(c.code);
      Harness h;
      h.resident("919811111111");
      const auto id = h.queue("919811111111", "hello");
      // The first answer is the error; any later one a success.
      h.stand_in.respond_with([c](const sender::StandInRequest& r) {
        sender::StandInAnswer a;
        if (r.index == 0) {
          a.status = c.status;
          a.body = graph_error(c.code, "error " + std::to_string(c.code));
        }
        return a;
      });
      h.start();
      h.finish_after(c.retryable ? 2 : 1);
      CHECK(h.stand_in.count() == (c.retryable ? 2 : 1));
      if (c.retryable) {
        CHECK(h.column(id, "status") == "sent");
        CHECK_FALSE(h.queued(id));  // decided: out of the outbox
      } else {
        CHECK(h.column(id, "status") == "failed");
        CHECK(h.column(id, "error").find("code " + std::to_string(c.code)) == 0);
        CHECK(h.transcript(id).find("failed: code " + std::to_string(c.code)) == 0);
      }
      const bool alerted =
          h.metrics.render().find("vaxbot_sender_alerts_total 1") != std::string::npos;
      CHECK(alerted == c.alert);
    }
  }

  TEST_CASE("retries stop at the attempt cap, and the row fails with the last error") {
    Harness h;
    h.resident("919822222222");
    const auto id = h.queue("919822222222", "hello");
    h.stand_in.respond_with([](const sender::StandInRequest&) {
      sender::StandInAnswer a;
      a.status = 500;
      a.body = "";  // 5xx without a body: no error code at all
      return a;
    });
    h.start();
    h.finish_after(3);
    CHECK(h.stand_in.count() == 3);
    CHECK(h.column(id, "status") == "failed");
    CHECK_FALSE(h.queued(id));  // decided: out of the outbox
    CHECK(h.column(id, "error").find("gave up after 3 attempts: HTTP 500") == 0);
  }

  TEST_CASE("a slow answer past the timeout and a dropped connection are retried") {
    Harness h;
    h.resident("919833333333");
    const auto id = h.queue("919833333333", "hello");
    h.stand_in.respond_with([](const sender::StandInRequest& r) {
      sender::StandInAnswer a;
      if (r.index == 0) a.delay = 1500ms;  // past the 400 ms read timeout
      if (r.index == 1) a.drop = true;
      return a;
    });
    h.start();
    h.finish_after(3);
    CHECK(h.column(id, "status") == "sent");
    CHECK_FALSE(h.queued(id));  // decided: out of the outbox
    CHECK(h.column(id, "wamid") == h.stand_in.requests()[2].message_id);
  }

  TEST_CASE("connection refused is retried, then the row fails with the network error") {
    Harness h;
    h.resident("919844444444");
    const auto id = h.queue("919844444444", "hello");
    h.stand_in.stop();  // nothing listens on its port any more
    h.start();
    CHECK(eventually([&] { return h.column(id, "status") == "failed"; }));
    CHECK_FALSE(h.queued(id));  // decided: out of the outbox
    CHECK(h.column(id, "error").find("gave up after 3 attempts: network") == 0);
    CHECK(h.outbox->health().find("failing") != 0);  // fewer than 5 sends: too few to judge
  }

  TEST_CASE("a certificate that does not verify is refused: nothing reaches that server") {
    for (const Cert cert : {Cert::kUntrusted, Cert::kWrongName}) {
      CAPTURE(static_cast<int>(cert));
      Harness h(cert);
      h.options.max_attempts = 2;
      h.resident("919855555555");
      const auto id = h.queue("919855555555", "hello");
      h.start();
      CHECK(eventually([&] { return h.column(id, "status") == "failed"; }));
      CHECK(h.stand_in.count() == 0);
      CHECK(h.column(id, "error").find("network") != std::string::npos);
      CHECK(h.column(id, "wamid").empty());
    }
  }

  TEST_CASE("the 24-hour window: free-form replies past it are not attempted; templates go") {
    Harness h;
    h.resident("919866666666", 25h);
    const auto late = h.queue("919866666666", "too late");
    const auto reminder = h.queue("919866666666", "reminder", 2, /*template_message=*/true);
    const auto nobody = h.queue("919877777777", "no session");  // never wrote to us
    h.start();
    h.finish_after(1);
    CHECK(h.stand_in.count() == 1);
    json sent = json::parse(h.stand_in.requests()[0].body);
    CHECK(sent["type"] == "template");
    CHECK(h.column(reminder, "status") == "sent");
    CHECK(h.column(late, "status") == "failed");
    CHECK(h.column(late, "error").find("24-hour window") != std::string::npos);
    CHECK(h.transcript(late).find("failed: outside the 24-hour window") == 0);
    CHECK(h.column(nobody, "status") == "failed");
  }

  TEST_CASE("a reply older than the age cap is not sent") {
    Harness h;
    h.options.max_age = 1h;
    h.resident("919814141414");
    const auto old = h.queue("919814141414", "stale");
    const auto fresh = h.queue("919814141414", "fresh");
    REQUIRE(h.writer
                ->run(
                    [&](store::Database& db) {
                      db.handle().exec(
                          "UPDATE outbox SET created_at = created_at - 7200000 WHERE id = " +
                          std::to_string(old));
                      return core::ok_status();
                    },
                    10s)
                .ok());
    h.start();
    h.finish_after(1);
    CHECK(h.texts() == std::vector<std::string>{"fresh"});
    CHECK(h.column(old, "status") == "failed");
    CHECK(h.column(old, "error").find("not sent within 60 minutes") == 0);
    CHECK(h.column(fresh, "status") == "sent");
  }

  TEST_CASE("rows a crash left 'sending' are sent again at start") {
    Harness h;
    h.resident("919888888888");
    const auto a = h.queue("919888888888", "first");
    const auto b = h.queue("919888888888", "second");
    REQUIRE(h.writer
                ->run(
                    [](store::Database& db) {
                      db.handle().exec("UPDATE outbox SET status = 'sending'");
                      return core::ok_status();
                    },
                    10s)
                .ok());
    h.start();
    h.finish_after(2);
    CHECK(h.texts() == std::vector<std::string>{"first", "second"});
    CHECK(h.column(a, "status") == "sent");
    CHECK(h.column(b, "status") == "sent");
  }

  TEST_CASE("new messages wake the outbox at once, and each is marked as read") {
    Harness h;
    h.options.mark_read = true;
    h.options.poll = 60s;  // only the commit listener can wake it in time
    h.start();
    REQUIRE(h.stand_in.count() == 0);
    h.resident("919899999999");
    h.queue("919899999999", "a reply");
    core::InboundMessage m;
    m.id = "wamid.IN1";
    m.from = "919899999999";
    m.kind = core::MessageKind::kText;
    m.text = "Hi";
    REQUIRE(h.writer->submit({m}, 10s).ok());
    h.finish_after(2, 10s);
    bool reply = false, receipt = false;
    for (const auto& r : h.stand_in.requests()) {
      json j = json::parse(r.body);
      if (j.value("status", "") == "read") {
        receipt = j["message_id"] == "wamid.IN1";
      } else {
        reply = j["text"]["body"] == "a reply";
      }
    }
    CHECK(reply);
    CHECK(receipt);
  }

  TEST_CASE(
      "a resident's burst beyond the allowance is spread out; the first messages are not slowed") {
    Harness h;
    h.options.recipient_burst = 3;
    h.options.recipient_interval = 1000ms;
    h.resident("919812345678");
    for (int i = 0; i < 5; ++i) h.queue("919812345678", "m" + std::to_string(i));
    h.start();
    h.finish_after(5);
    const auto r = h.stand_in.requests();
    REQUIRE(r.size() == 5);
    // Pacing spaces the starts of sends 1 s apart; an arrival can also include
    // a new connection's TLS handshake (tens of ms, a few hundred under
    // sanitizers), so the gaps are checked with that much room. Unpaced, all
    // five arrive within milliseconds.
    CHECK(r[2].arrived - r[0].arrived < 1000ms);
    CHECK(r[3].arrived - r[2].arrived >= 500ms);
    CHECK(r[4].arrived - r[3].arrived >= 500ms);
    CHECK(r[4].arrived - r[2].arrived >= 1500ms);
  }

  TEST_CASE("health turns failing when every recent send failed, and back once one succeeds") {
    Harness h;
    h.options.threads = 1;
    h.options.max_attempts = 100;
    std::atomic<bool> failing{true};
    h.stand_in.respond_with([&failing](const sender::StandInRequest&) {
      sender::StandInAnswer a;
      if (failing) {
        a.status = 503;
        a.body = graph_error(2, "Service temporarily unavailable");
      }
      return a;
    });
    h.resident("919813131313");
    h.queue("919813131313", "hello");
    h.start();
    CHECK(h.outbox->health() == "ok");
    // One thread: request n+1 is sent only after answer n was counted.
    REQUIRE(h.stand_in.wait_for(7, 10s));
    CHECK(h.outbox->health().find("failing: code 2") == 0);
    failing = false;
    const std::size_t seen = h.stand_in.count();
    REQUIRE(h.stand_in.wait_for(seen + 1, 10s));
    h.outbox->stop();
    SQLite::Database db(h.path);
    CHECK(db.execAndGet("SELECT status FROM messages WHERE outbound = 1").getString() == "sent");
  }

  TEST_CASE("status reports that never found their reply are deleted after status_wait") {
    Harness h;
    h.options.status_wait = 24h;
    const std::int64_t now = h.clock.now_ms();
    {
      SQLite::Database db(h.path, SQLite::OPEN_READWRITE);
      const std::vector<std::pair<std::string, std::chrono::minutes>> reports = {
          {"wamid.OTHER_APP", 49h}, {"wamid.CRASH_LOST", 25h}, {"wamid.JUST_NOW", 1min}};
      for (const auto& [id, age] : reports) {
        db.exec("INSERT INTO statuses (message_id, state, received_at) VALUES ('" + id +
                "', 'delivered', " + std::to_string(now - std::chrono::milliseconds(age).count()) +
                ")");
      }
    }
    h.resident("919500000001");
    h.queue("919500000001", "hello");
    h.start();  // the dispatcher sweeps before its first claim
    h.finish_after(1);
    CHECK(test::count(h.path, "SELECT count(*) FROM statuses") == 1);
    CHECK(test::count(h.path,
                      "SELECT count(*) FROM statuses WHERE message_id = 'wamid.JUST_NOW'") == 1);
  }

  TEST_CASE("configured above what Meta allows: the outbox slows down instead of hammering") {
    Harness h;
    h.options.rate_per_second = 200;  // Meta takes 50/s: the rest gets 130429
    h.options.max_attempts = 50;
    std::mutex m;
    std::deque<std::chrono::steady_clock::time_point> accepted;
    std::atomic<int> refused{0};
    h.stand_in.respond_with([&](const sender::StandInRequest& r) {
      std::lock_guard lock(m);
      while (!accepted.empty() && r.arrived - accepted.front() >= 1s) accepted.pop_front();
      sender::StandInAnswer a;
      if (accepted.size() >= 50) {
        ++refused;
        a.status = 400;
        a.body = graph_error(130429, "Rate limit hit");
      } else {
        accepted.push_back(r.arrived);
      }
      return a;
    });
    for (int i = 0; i < 20; ++i) {
      const std::string who = "9195" + std::to_string(10000000 + i);
      h.resident(who);
      for (int k = 0; k < 10; ++k) h.queue(who, "r" + std::to_string(k));
    }
    h.start();
    CHECK(eventually(
        [&] {
          return test::count(
                     h.path,
                     "SELECT count(*) FROM messages WHERE outbound = 1 AND status = 'sent'") == 200;
        },
        60s));
    // Without slowing down (each message only backing off alone) this drew
    // 339-434 refusals here; halving the rate on 130429 drew 124.
    MESSAGE("130429 answers: " << refused.load());
    CHECK(refused.load() < 250);
  }

  TEST_CASE(
      "the rate is a bound: 500 replies at 50 messages/s take at least 9.8 s at the stand-in") {
    Harness h;
    h.options.rate_per_second = 50;
    h.options.threads = 8;
    for (int i = 0; i < 50; ++i) {
      const std::string who = "9197" + std::to_string(10000000 + i);
      h.resident(who);
      for (int k = 0; k < 10; ++k) h.queue(who, "r" + std::to_string(k));
    }
    h.start();
    h.finish_after(500, 60s);
    const auto r = h.stand_in.requests();
    REQUIRE(r.size() == 500);
    const auto span = r.back().arrived - r.front().arrived;
    CHECK(span >= 9800ms);
    // And no burst: any 51 arrivals span at least 0.9 s (1.005 s as scheduled).
    // The limiter spaces the starts of requests; an arrival also carries the
    // network's delay, and the first request on a new connection waits for its
    // TLS handshake (70-130 ms here, more under sanitizers), so the first
    // arrivals are skipped and the rest get 0.1 s of room.
    for (std::size_t i = 50 + 2 * 8; i < r.size(); ++i) {
      CAPTURE(i);
      CHECK(r[i].arrived - r[i - 50].arrived >= 900ms);
    }
    SQLite::Database db(h.path);
    CHECK(db.execAndGet("SELECT count(*) FROM messages WHERE outbound = 1 AND status = 'sent'")
              .getInt() == 500);
  }
}
