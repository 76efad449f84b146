// http/: the real server on a loopback port with a real SQLite file.
#include <doctest/doctest.h>

#include <atomic>
#include <barrier>
#include <future>
#include <nlohmann/json.hpp>

#include "support.h"

using namespace vaxbot;

TEST_SUITE("http webhook") {
  TEST_CASE("every fixture is stored with its fields") {
    test::TempDir dir;
    const std::string db = dir.file("f.db");
    {
      test::RunningServer server(db);
      for (const auto& entry : std::filesystem::directory_iterator(test::fixture_dir("webhooks"))) {
        if (entry.path().extension() != ".json") continue;
        auto res = server.post(test::read_file(entry.path()));
        REQUIRE_MESSAGE(res, entry.path().filename().string());
        CHECK_MESSAGE(res->status == 200, entry.path().filename().string());
      }
    }
    auto one = [&](const std::string& sql) { return test::count(db, sql); };
    // Each message is one line of `messages`: words and kind, and what only media,
    // locations and unusable kinds carry in `details`.
    CHECK(one("SELECT count(*) FROM messages WHERE outbound = 0 AND kind='text' AND text='Hi' "
              "AND resident='919800000001' AND details IS NULL "
              "AND wamid='wamid.HBgMOTE5ODAwMDAwMDAxFQIAEhgUOTVEMzhGMTdFQ0Y3QTZDRDNGNjkA'") == 1);
    CHECK(one("SELECT count(*) FROM messages WHERE kind='text' AND text='14/11/2025'") == 1);
    CHECK(one("SELECT count(*) FROM messages WHERE kind='list_reply' AND text='UPHC Ward 12 "
              "Beleghata'") == 1);
    CHECK(one("SELECT count(*) FROM messages WHERE kind='button_reply'") == 1);
    CHECK(one("SELECT count(*) FROM messages WHERE kind='image' AND text='[image] Aadhaar card "
              "front' "
              "AND details ->> 'mime_type' = 'image/jpeg' AND details ->> 'media_id' <> ''") == 1);
    CHECK(one("SELECT count(*) FROM messages WHERE kind='document' AND resident='919800000002' "
              "AND details ->> 'mime_type' = 'application/pdf' AND details ->> 'filename' <> ''") ==
          1);
    CHECK(one("SELECT count(*) FROM messages WHERE kind='location' AND details ->> 'latitude' "
              "BETWEEN 22 AND 23 "
              "AND details ->> 'longitude' BETWEEN 88 AND 89 AND text='[location] Sealdah "
              "Station'") == 1);
    CHECK(one("SELECT count(*) FROM messages WHERE resident='919800000003'") == 2);
    CHECK(one("SELECT count(*) FROM messages WHERE kind='unsupported' AND details ->> 'detail' = "
              "'poll_creation' "
              "AND details ->> 'error_code' = 131051") == 1);
    CHECK(one("SELECT count(*) FROM messages WHERE kind='unknown' AND details ->> 'error_code' = "
              "131051") == 1);
    CHECK(one("SELECT count(*) FROM messages WHERE kind='system' AND details ->> 'detail' = "
              "'919800000044'") == 1);
    CHECK(one("SELECT count(*) FROM messages WHERE kind='reaction'") == 2);
    CHECK(one("SELECT count(*) FROM messages WHERE kind IN "
              "('audio','video','sticker','contacts','button')") == 5);
    CHECK(one("SELECT count(*) FROM messages WHERE text LIKE '%' || char(0x1F64F) || '%'") == 1);
    CHECK(
        one("SELECT count(*) FROM statuses WHERE state='delivered' AND recipient='919800000001'") ==
        1);
    CHECK(one("SELECT count(*) FROM statuses WHERE state='failed' AND error_code=131047 "
              "AND error_title='Re-engagement message'") == 1);
    CHECK(one("SELECT count(*) FROM statuses WHERE state IN ('sent','read')") == 2);
    CHECK(one("SELECT count(*) FROM unusable WHERE reason LIKE 'platform error 130429%'") == 1);
    CHECK(one("SELECT count(*) FROM unusable WHERE message_id='wamid.ODD0001'") == 1);
    // The other object's message is acknowledged but not stored.
    CHECK(one("SELECT count(*) FROM messages WHERE text='hello'") == 0);
  }

  TEST_CASE("a bad signature is refused with 401 and nothing is stored") {
    test::TempDir dir;
    const std::string db = dir.file("s.db");
    const std::string body = test::fixture("webhooks/text_hi.json");
    {
      test::RunningServer server(db);
      const std::string good = server.verifier().sign(body);
      std::string wrong = good;
      wrong.back() = wrong.back() == 'a' ? 'b' : 'a';
      for (const std::string& header :
           {std::string(), std::string("sha256="), good.substr(7), "sha1=" + good.substr(7),
            good + "00", wrong, whatsapp::SignatureVerifier("other secret").sign(body)}) {
        auto res = server.post_with_signature(body, header);
        REQUIRE(res);
        CHECK_MESSAGE(res->status == 401, header);
      }
      auto tampered = server.post_with_signature(body + "\n", good);
      REQUIRE(tampered);
      CHECK(tampered->status == 401);
      CHECK(server.metrics().render().find("vaxbot_webhooks_total{outcome=\"unauthorized\"} 8") !=
            std::string::npos);
    }
    CHECK(test::count(db, "SELECT count(*) FROM messages WHERE outbound = 0") == 0);
  }

  TEST_CASE("size limit: 3 MB passes, over 4 MiB is 413") {
    test::TempDir dir;
    test::RunningServer server(dir.file("big.db"));
    std::string body3mb =
        test::text_webhook({"wamid.BIG"}, "919800000001", std::string(3'000'000, 'a'));
    auto ok = server.post(body3mb);
    REQUIRE(ok);
    CHECK(ok->status == 200);
    std::string too_big =
        test::text_webhook({"wamid.HUGE"}, "919800000001", std::string(4 * 1024 * 1024, 'a'));
    auto refused = server.post(too_big);
    REQUIRE(refused);
    CHECK(refused->status == 413);
    CHECK(server.metrics().render().find("vaxbot_webhooks_total{outcome=\"too_large\"} 1") !=
          std::string::npos);
    CHECK(
        test::count(dir.file("big.db"),
                    "SELECT length(text) FROM messages WHERE outbound = 0 AND wamid='wamid.BIG'") ==
        3'000'000);
    CHECK(test::count(dir.file("big.db"),
                      "SELECT count(*) FROM messages WHERE outbound = 0 AND wamid='wamid.HUGE'") ==
          0);
  }

  TEST_CASE("signed but not a webhook is 400; another object is 200 and ignored") {
    test::TempDir dir;
    test::RunningServer server(dir.file("b.db"));
    for (const std::string body : {"", "not json", "{\"entry\":[]}", "[]"}) {
      auto res = server.post(body);
      REQUIRE(res);
      CHECK_MESSAGE(res->status == 400, body);
    }
    auto other = server.post(test::fixture("webhooks/other_object.json"));
    REQUIRE(other);
    CHECK(other->status == 200);
    CHECK(other->body == "ignored\n");
    CHECK(test::count(dir.file("b.db"), "SELECT count(*) FROM messages WHERE outbound = 0") == 0);
  }

  TEST_CASE("a batch of 1,000 messages in one POST is stored whole") {
    test::TempDir dir;
    std::vector<std::string> ids;
    for (int i = 0; i < 1000; ++i) ids.push_back("wamid.B" + std::to_string(i));
    test::RunningServer server(dir.file("batch.db"));
    auto res = server.post(test::text_webhook(ids));
    REQUIRE(res);
    CHECK(res->status == 200);
    CHECK(test::count(dir.file("batch.db"),
                      "SELECT count(DISTINCT wamid) FROM messages WHERE outbound = 0") == 1000);
  }

  TEST_CASE("a duplicate, and a re-delivery after a restart, are processed once") {
    test::TempDir dir;
    const std::string db = dir.file("dup.db");
    const std::string body = test::fixture("webhooks/text_hi.json");
    {
      test::RunningServer server(db);
      CHECK(server.post(body)->status == 200);
      CHECK(server.post(body)->status == 200);
      auto metrics = server.metrics().render();
      CHECK(metrics.find("vaxbot_events_stored_total{result=\"new\"} 1") != std::string::npos);
      CHECK(metrics.find("vaxbot_events_stored_total{result=\"duplicate\"} 1") !=
            std::string::npos);
    }
    {
      test::RunningServer restarted(db);
      CHECK(restarted.post(body)->status == 200);
      CHECK(restarted.metrics().render().find(
                "vaxbot_events_stored_total{result=\"duplicate\"} 1") != std::string::npos);
    }
    CHECK(test::count(db, "SELECT count(*) FROM messages WHERE outbound = 0") == 1);
  }

  TEST_CASE("40 threads posting 20,000 distinct messages: exactly 20,000 stored") {
    test::TempDir dir;
    const std::string db = dir.file("many.db");
    constexpr int kThreads = 40;
    constexpr int kPerThread = 500;
    std::atomic<int> ok{0}, failed{0};
    {
      test::RunningServer server(db);
      std::vector<std::thread> threads;
      for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
          auto client = server.client();
          for (int i = 0; i < kPerThread; ++i) {
            const std::string id = "wamid.T" + std::to_string(t) + "-" + std::to_string(i);
            const std::string body = test::text_webhook({id}, "9198" + std::to_string(t));
            httplib::Headers h{{"X-Hub-Signature-256", server.verifier().sign(body)}};
            auto res = client->Post("/webhook", h, body, "application/json");
            (res && res->status == 200 ? ok : failed)++;
          }
        });
      }
      for (auto& th : threads) th.join();
    }
    CHECK(ok == kThreads * kPerThread);
    CHECK(failed == 0);
    CHECK(test::count(db, "SELECT count(*) FROM messages WHERE outbound = 0") ==
          kThreads * kPerThread);
    CHECK(test::count(db, "SELECT count(DISTINCT wamid) FROM messages WHERE outbound = 0") ==
          kThreads * kPerThread);
  }

  TEST_CASE("256 concurrent keep-alive connections are all served") {
    test::TempDir dir;
    constexpr int kConnections = 256;
    test::ServerSetup setup;
    // Long enough that a starved connection would wait for a client timeout, not
    // for another connection to be closed by the server.
    setup.server.keep_alive_timeout_s = 60;
    test::RunningServer server(dir.file("ka.db"), setup);
    std::barrier all_connected(kConnections + 1);
    std::atomic<int> first{0}, second{0};
    std::vector<std::thread> threads;
    for (int c = 0; c < kConnections; ++c) {
      threads.emplace_back([&, c] {
        auto client = server.client();
        client->set_read_timeout(20, 0);
        const std::string b1 = test::text_webhook({"wamid.K" + std::to_string(c) + "a"});
        auto r1 = client->Post("/webhook", {{"X-Hub-Signature-256", server.verifier().sign(b1)}},
                               b1, "application/json");
        if (r1 && r1->status == 200) first++;
        // Every connection is now open at once, each holding a server thread.
        all_connected.arrive_and_wait();
        const std::string b2 = test::text_webhook({"wamid.K" + std::to_string(c) + "b"});
        auto r2 = client->Post("/webhook", {{"X-Hub-Signature-256", server.verifier().sign(b2)}},
                               b2, "application/json");
        if (r2 && r2->status == 200) second++;
      });
    }
    all_connected.arrive_and_wait();
    // A new connection is still answered while 256 are open.
    auto extra = server.client();
    auto health = extra->Get("/healthz");
    REQUIRE(health);
    CHECK(health->status == 200);
    for (auto& t : threads) t.join();
    CHECK(first == kConnections);
    CHECK(second == kConnections);
    CHECK(test::count(dir.file("ka.db"), "SELECT count(*) FROM messages WHERE outbound = 0") ==
          2 * kConnections);
  }

  TEST_CASE("queue full answers 503 with Retry-After, then recovers") {
    test::TempDir dir;
    const std::string db = dir.file("busy.db");
    test::ServerSetup setup;
    setup.writer.queue_capacity = 1;
    test::RunningServer server(db, setup);
    SQLite::Database other(db, SQLite::OPEN_READWRITE);
    other.exec("BEGIN IMMEDIATE");  // the writer now waits for the lock
    auto first = std::async(std::launch::async, [&] {
      return server.post(test::text_webhook({"wamid.FIRST"}))->status;
    });
    while (server.writer().pending_events() != 1) std::this_thread::yield();
    auto refused = server.post(test::text_webhook({"wamid.SECOND"}));
    REQUIRE(refused);
    CHECK(refused->status == 503);
    CHECK(refused->get_header_value("Retry-After") == "1");
    other.exec("COMMIT");
    CHECK(first.get() == 200);
    auto retried = server.post(test::text_webhook({"wamid.SECOND"}));
    CHECK(retried->status == 200);
    CHECK(test::count(db, "SELECT count(*) FROM messages WHERE outbound = 0") == 2);
  }

  TEST_CASE("database unavailable answers 503 and /healthz says so") {
    test::TempDir dir;
    const std::string db = dir.file("full.db");
    store::DatabaseOptions probe_options;
    probe_options.path = db;
    REQUIRE(store::Database::open(probe_options).ok());
    test::ServerSetup setup;
    setup.database.max_page_count = test::count(db, "PRAGMA page_count") + 4;
    test::RunningServer server(db, setup);
    int status = 200;
    for (int i = 0; i < 50 && status == 200; ++i) {
      status = server
                   .post(test::text_webhook({"wamid.D" + std::to_string(i)}, "919800000001",
                                            std::string(4000, 'x')))
                   ->status;
    }
    CHECK(status == 503);
    auto health = server.client()->Get("/healthz");
    REQUIRE(health);
    CHECK(health->status == 503);
    auto body = nlohmann::json::parse(health->body);
    CHECK(body["status"] == "unavailable");
    CHECK(body["writer"] == "failing");
  }
}

TEST_SUITE("http other routes") {
  TEST_CASE("verification handshake: challenge verbatim on the right token, 403 otherwise") {
    test::TempDir dir;
    test::RunningServer server(dir.file("h.db"));
    auto client = server.client();
    auto ok = client->Get(
        "/webhook?hub.mode=subscribe&hub.verify_token=test-verify-token&hub.challenge=1158201444");
    REQUIRE(ok);
    CHECK(ok->status == 200);
    CHECK(ok->body == "1158201444");
    for (const char* bad :
         {"/webhook?hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1",
          "/webhook?hub.mode=subscribe&hub.verify_token=test-verify-toke&hub.challenge=1",
          "/webhook?hub.mode=unsubscribe&hub.verify_token=test-verify-token&hub.challenge=1",
          "/webhook?hub.challenge=1", "/webhook"}) {
      auto res = client->Get(bad);
      REQUIRE(res);
      CHECK_MESSAGE(res->status == 403, bad);
    }
  }

  TEST_CASE("no verify token configured: every handshake is refused") {
    test::TempDir dir;
    test::ServerSetup setup;
    setup.server.verify_token = "";
    // RunningServer fills a default token when empty; build the server by hand.
    core::Registry metrics;
    core::SystemClock clock;
    store::DatabaseOptions o;
    o.path = dir.file("n.db");
    store::Writer writer(*store::Database::open(o), clock, metrics);
    whatsapp::SignatureVerifier verifier(test::kFixtureSecret);
    setup.server.host = "127.0.0.1";
    setup.server.port = 0;
    http::Server server(setup.server, verifier, writer, metrics, {});
    int port = *server.bind();
    std::thread t([&] { server.run(); });
    httplib::Client client("127.0.0.1", port);
    auto res = client.Get("/webhook?hub.mode=subscribe&hub.verify_token=&hub.challenge=1");
    REQUIRE(res);
    CHECK(res->status == 403);
    server.stop();
    t.join();
  }

  TEST_CASE("healthz: a failing sender is degraded, still 200, and says why") {
    test::TempDir dir;
    std::atomic<bool> failing{true};
    test::ServerSetup setup;
    setup.sender = [&failing] {
      return failing ? std::string("failing: code 190: token expired") : "ok";
    };
    test::RunningServer server(dir.file("d.db"), setup);
    auto client = server.client();
    auto health = client->Get("/healthz");
    REQUIRE(health);
    CHECK(health->status == 200);
    auto h = nlohmann::json::parse(health->body);
    CHECK(h["status"] == "degraded");
    CHECK(h["sender"] == "failing: code 190: token expired");
    failing = false;
    health = client->Get("/healthz");
    REQUIRE(health);
    CHECK(nlohmann::json::parse(health->body)["status"] == "ok");
  }

  TEST_CASE("healthz and metrics") {
    test::TempDir dir;
    test::RunningServer server(dir.file("m.db"));
    REQUIRE(server.post(test::fixture("webhooks/multi_message_batch.json"))->status == 200);
    REQUIRE(server.post(test::fixture("webhooks/status_delivered.json"))->status == 200);
    auto client = server.client();
    auto health = client->Get("/healthz");
    REQUIRE(health);
    CHECK(health->status == 200);
    auto h = nlohmann::json::parse(health->body);
    CHECK(h["status"] == "ok");
    CHECK(h["database"] == "ok");
    CHECK(h["sender"] == "disabled");
    auto metrics = client->Get("/metrics");
    REQUIRE(metrics);
    CHECK(metrics->status == 200);
    const std::string& m = metrics->body;
    CHECK(m.find("vaxbot_webhooks_total{outcome=\"ok\"} 2") != std::string::npos);
    CHECK(m.find("vaxbot_events_total{type=\"text\"} 2") != std::string::npos);
    CHECK(m.find("vaxbot_events_total{type=\"status\"} 1") != std::string::npos);
    CHECK(m.find("vaxbot_queue_depth 0") != std::string::npos);
    CHECK(m.find("vaxbot_commit_batch_events_count 2") != std::string::npos);
    CHECK(m.find("vaxbot_commit_seconds_bucket{le=\"+Inf\"} 2") != std::string::npos);
    CHECK(m.find("# TYPE vaxbot_commit_seconds histogram") != std::string::npos);
  }
}
