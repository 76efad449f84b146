// store/: schema, de-duplication, retention, and the group-commit writer under faults.
#include <doctest/doctest.h>

#include <condition_variable>
#include <future>

#include "store/checkpointer.h"
#include "store/conversation_store.h"
#include "store/keys.h"
#include "store/outbox_store.h"
#include "store/schema.h"
#include "support.h"

using namespace vaxbot;
using namespace std::chrono_literals;

namespace {

core::InboundMessage text(const std::string& id, const std::string& body = "Hi") {
  core::InboundMessage m;
  m.id = id;
  m.from = "919800000001";
  m.kind = core::MessageKind::kText;
  m.text = body;
  return m;
}

std::unique_ptr<store::Database> open_db(const std::string& path, std::int64_t max_pages = 0) {
  store::DatabaseOptions o;
  o.path = path;
  o.max_page_count = max_pages;
  auto db = store::Database::open(o);
  REQUIRE_MESSAGE(db.ok(), (db.ok() ? "" : db.error().message));
  return std::move(*db);
}

// Blocks the writer thread inside its transaction until open() is called: lets a
// test line up submissions behind it deterministically.
class Gate {
 public:
  void wait() {
    std::unique_lock lock(m_);
    cv_.wait(lock, [this] { return open_; });
  }
  void open() {
    {
      std::lock_guard lock(m_);
      open_ = true;
    }
    cv_.notify_all();
  }

 private:
  std::mutex m_;
  std::condition_variable cv_;
  bool open_ = false;
};

const core::Clock& clock_for_migration() {
  static core::SystemClock clock;
  return clock;
}
core::Registry& registry_for_migration() {
  static core::Registry registry;
  return registry;
}

void wait_until(const std::function<bool()>& condition) {
  while (!condition()) std::this_thread::yield();
}

}  // namespace

TEST_SUITE("store database") {
  TEST_CASE("creates the schema once and refuses a newer one") {
    test::TempDir dir;
    const std::string path = dir.file("v.db");
    CHECK(open_db(path)->schema_version() == static_cast<int>(store::kMigrations.size()));
    CHECK(open_db(path)->schema_version() ==
          static_cast<int>(store::kMigrations.size()));    // reopening migrates nothing
    CHECK(test::count(path, "PRAGMA journal_mode") == 0);  // text 'wal' reads as 0
    {
      SQLite::Database raw(path, SQLite::OPEN_READWRITE);
      CHECK(raw.execAndGet("PRAGMA journal_mode").getString() == "wal");
      raw.exec("PRAGMA user_version = 99");
    }
    store::DatabaseOptions o;
    o.path = path;
    auto newer = store::Database::open(o);
    REQUIRE_FALSE(newer.ok());
    CHECK(newer.error().message.find("newer") != std::string::npos);
  }

  TEST_CASE("migration 5 moves unsent reply bodies to their own table and drops the sent ones") {
    test::TempDir dir;
    SQLite::Database db(dir.file("m4.db"), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    for (std::size_t v = 0; v < 4; ++v) db.exec(std::string(store::kMigrations[v]));
    db.exec(
        "INSERT INTO outbox (recipient, body, status, next_attempt_at, created_at) VALUES "
        "('1', 'unsent', 'queued', 0, 0), ('2', 'gone', 'sent', 0, 0), ('3', 'kept', 'failed', "
        "0, 0)");
    db.exec(std::string(store::kMigrations[4]));
    CHECK(db.execAndGet(
                "SELECT group_concat(body, ',') FROM (SELECT body FROM outbox_body ORDER BY id)")
              .getString() == "unsent,kept");
    CHECK(db.execAndGet("SELECT count(*) FROM outbox").getInt() == 3);
  }

  TEST_CASE("migration 6 keeps every message, reply status and queued reply, one row each") {
    test::TempDir dir;
    const std::string path = dir.file("m5.db");
    {
      SQLite::Database db(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
      for (std::size_t v = 0; v < 5; ++v) db.exec(std::string(store::kMigrations[v]));
      db.exec("PRAGMA user_version = 5");
      db.exec(R"sql(
        INSERT INTO inbox (message_id, resident, kind, received_at, text) VALUES
          ('wamid.IN1', '919800000001', 'text', 10, 'Hi'),
          ('wamid.IN2', '919800000001', 'location', 30, 'Sealdah'),
          ('wamid.OLD', '919800000002', 'text', 5, 'no line');
        UPDATE inbox SET latitude = 22.5, longitude = 88.3 WHERE message_id = 'wamid.IN2';
        INSERT INTO transcript (seq, resident, direction, message_id, kind, text, step, status, at) VALUES
          (1, '919800000001', 'in', 'wamid.IN1', 'text', 'Hi', '', '', 10),
          (2, '919800000001', 'out', '', 'welcome', 'Welcome 100%!', 'date', 'read', 11),
          (3, '919800000001', 'in', 'wamid.IN2', 'location', '[location] Sealdah', 'date', '', 30),
          (4, '919800000001', 'out', '', 'send_text_instead', 'Type it', 'date', 'failed: 131026 nope', 31),
          (5, '919800000001', 'out', '', 'ask_date', 'When?', 'date', 'queued', 32);
        INSERT INTO outbox (id, recipient, priority, status, attempts, next_attempt_at, wa_message_id,
                            last_error, transcript_seq, created_at) VALUES
          (1, '919800000001', 1, 'read', 1, 11, 'wamid.OUT1', '', 2, 11),
          (2, '919800000001', 0, 'failed', 1, 31, '', '131026 nope', 4, 31),
          (3, '919800000001', 0, 'sending', 0, 32, '', '', 5, 32),
          (4, '919800000009', 3, 'queued', 0, 40, '', '', NULL, 40);
        INSERT INTO outbox_body (id, body) VALUES (3, '{"to":"+919800000001"}'), (4, '{"bulk":1}');
      )sql");
    }
    auto opened = open_db(path);
    CHECK(opened->schema_version() == static_cast<int>(store::kMigrations.size()));
    SQLite::Database db(path);
    auto all = [&](const std::string& sql) {
      SQLite::Statement q(db, sql);
      std::string out;
      while (q.executeStep()) {
        for (int c = 0; c < q.getColumnCount(); ++c) out += q.getColumn(c).getString() + "|";
        out += "\n";
      }
      return out;
    };
    // The transcript reads as before (out lines now show Meta's id once sent).
    CHECK(all("SELECT seq, resident, direction, message_id, kind, text, step, status, at FROM "
              "transcript WHERE resident = '919800000001' ORDER BY seq") ==
          "1|919800000001|in|wamid.IN1|text|Hi|||10|\n"
          "2|919800000001|out|wamid.OUT1|welcome|Welcome 100%!|date|read|11|\n"
          "3|919800000001|in|wamid.IN2|location|[location] Sealdah|date||30|\n"
          "4|919800000001|out||send_text_instead|Type it|date|failed: 131026 nope|31|\n"
          "5|919800000001|out||ask_date|When?|date|queued|32|\n");
    // The inbox-only message became a line; its details came along.
    CHECK(all("SELECT resident, kind, text, wamid FROM messages WHERE seq > 6") ==
          "919800000002|text|no line|wamid.OLD|\n");
    CHECK(all("SELECT details FROM messages WHERE seq = 3") ==
          "{\"latitude\":22.5,\"longitude\":88.3}|\n");
    // Still to send, under its line's id: the claimed one (sent again, as after a crash) and
    // the one that had no line.
    CHECK(all("SELECT id, recipient, status, priority, body FROM outbox ORDER BY id") ==
          "5|919800000001|sending|0|{\"to\":\"+919800000001\"}|\n"
          "6|919800000009|queued|3|{\"bulk\":1}|\n");
    CHECK(all("SELECT resident, direction, status FROM transcript WHERE seq = 6") ==
          "919800000009|out|queued|\n");
    // Ids are found by their keys: de-duplication and statuses go on across the migration.
    store::Writer writer(std::move(opened), clock_for_migration(), registry_for_migration());
    auto again = writer.submit({text("wamid.IN1")}, 10s);
    REQUIRE(again.ok());
    CHECK(again->duplicates == 1);
    REQUIRE(writer
                .run(
                    [](store::Database& d) {
                      store::OutboxStore s(d);
                      return s.apply_status("wamid.OUT1", "delivered", "");
                    },
                    10s)
                .ok());
    CHECK(test::count(path, "SELECT count(*) FROM transcript WHERE seq = 2 AND status = 'read'") ==
          1);
    CHECK(test::count(
              path, "SELECT count(*) FROM sqlite_schema WHERE name IN ('inbox', 'outbox_body')") ==
          0);
    CHECK(test::count(
              path, "SELECT count(*) FROM sqlite_schema WHERE name = 'outbox_queued_greetings'") ==
          1);
  }

  TEST_CASE("an unopenable path is an error, not an exception") {
    store::DatabaseOptions o;
    o.path = "/nonexistent-dir/vaxbot.db";
    auto db = store::Database::open(o);
    REQUIRE_FALSE(db.ok());
    CHECK(db.error().code == core::ErrorCode::kUnavailable);
  }

  TEST_CASE("messages once per id, statuses once per id and state, unusable always") {
    test::TempDir dir;
    auto db = open_db(dir.file("d.db"));
    REQUIRE(db->begin().ok());
    CHECK(*db->record(text("wamid.A"), 1) == store::Recorded::kNew);
    CHECK(*db->record(text("wamid.A", "different body"), 2) == store::Recorded::kDuplicate);
    core::StatusUpdate s;
    s.message_id = "wamid.OUT";
    s.state = core::DeliveryState::kDelivered;
    CHECK(*db->record(s, 3) == store::Recorded::kNew);
    CHECK(*db->record(s, 4) == store::Recorded::kDuplicate);
    s.state = core::DeliveryState::kRead;
    CHECK(*db->record(s, 5) == store::Recorded::kNew);
    core::Unusable u{"entry[0]", "bad", ""};
    CHECK(*db->record(u, 6) == store::Recorded::kNew);
    CHECK(*db->record(u, 7) == store::Recorded::kNew);
    REQUIRE(db->commit().ok());
    CHECK(test::count(dir.file("d.db"), "SELECT count(*) FROM messages WHERE outbound = 0") == 1);
    CHECK(test::count(dir.file("d.db"), "SELECT count(*) FROM messages WHERE text = 'Hi'") == 1);
    CHECK(test::count(dir.file("d.db"), "SELECT count(*) FROM statuses") == 2);
    CHECK(test::count(dir.file("d.db"), "SELECT count(*) FROM unusable") == 2);
  }
}

TEST_SUITE("store writer") {
  TEST_CASE("commits a submission and reports new and duplicate events") {
    test::TempDir dir;
    core::Registry metrics;
    core::SystemClock clock;
    store::Writer writer(open_db(dir.file("w.db")), clock, metrics);
    auto first = writer.submit({text("wamid.1"), text("wamid.2"), text("wamid.1")}, 10s);
    REQUIRE(first.ok());
    CHECK(first->new_events == 2);
    CHECK(first->duplicates == 1);
    auto again = writer.submit({text("wamid.2")}, 10s);
    REQUIRE(again.ok());
    CHECK(again->new_events == 0);
    CHECK(again->duplicates == 1);
    CHECK(writer.submit({}, 10s).ok());
    CHECK(test::count(dir.file("w.db"), "SELECT count(*) FROM messages WHERE outbound = 0") == 2);
    CHECK(writer.healthy());
  }

  TEST_CASE("keeps de-duplication ids for good: a re-delivery weeks later is still a duplicate") {
    test::TempDir dir;
    core::Registry metrics;
    const std::int64_t t0 = 1'767'852'000'000;
    core::ManualClock clock(t0);
    store::Writer writer(open_db(dir.file("p.db")), clock, metrics);
    REQUIRE(writer.submit({text("wamid.OLD")}, 10s).ok());
    clock.advance_ms(30LL * 24 * 3600 * 1000);
    CHECK(writer.submit({text("wamid.OLD")}, 10s)->duplicates == 1);
    CHECK(writer.submit({text("wamid.NEW")}, 10s)->new_events == 1);
    CHECK(test::count(dir.file("p.db"), "SELECT count(*) FROM messages") == 2);
  }

  TEST_CASE("ids whose keys collide are told apart by the full id") {
    test::TempDir dir;
    core::Registry metrics;
    core::SystemClock clock;
    const std::string path = dir.file("k.db");
    store::Writer writer(open_db(path), clock, metrics);
    REQUIRE(writer.submit({text("wamid.A")}, 10s).ok());
    {
      // Give wamid.A the key wamid.B will look under: same key, different id.
      SQLite::Database raw(path, SQLite::OPEN_READWRITE);
      raw.exec("UPDATE messages SET wamid_key = " + std::to_string(store::wamid_key("wamid.B")));
    }
    auto b = writer.submit({text("wamid.B")}, 10s);
    REQUIRE(b.ok());
    CHECK(b->new_events == 1);
    CHECK(writer.submit({text("wamid.B")}, 10s)->duplicates == 1);
    CHECK(test::count(path, "SELECT count(*) FROM messages") == 2);
  }

  TEST_CASE("a full queue refuses at once; the queued work still commits") {
    test::TempDir dir;
    core::Registry metrics;
    core::SystemClock clock;
    Gate gate;
    store::WriterOptions options;
    options.queue_capacity = 2;
    store::Writer writer(open_db(dir.file("q.db")), clock, metrics, options,
                         [&](store::Database&, const core::Event& e) {
                           if (std::get<core::InboundMessage>(e).id == "wamid.GATE") gate.wait();
                           return core::ok_status();
                         });
    auto gated =
        std::async(std::launch::async, [&] { return writer.submit({text("wamid.GATE")}, 60s); });
    auto second =
        std::async(std::launch::async, [&] { return writer.submit({text("wamid.Q2")}, 60s); });
    wait_until([&] { return writer.pending_events() == 2; });
    auto refused = writer.submit({text("wamid.Q3")}, 60s);
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().code == core::ErrorCode::kOverloaded);
    gate.open();
    CHECK(gated.get().ok());
    CHECK(second.get().ok());
    CHECK(writer.submit({text("wamid.Q3")}, 60s).ok());  // room again
    CHECK(test::count(dir.file("q.db"), "SELECT count(*) FROM messages WHERE outbound = 0") == 3);
    CHECK(metrics.render().find("vaxbot_queue_rejections_total 1") != std::string::npos);
  }

  TEST_CASE("a failing submission in a batch fails alone; the others commit") {
    test::TempDir dir;
    core::Registry metrics;
    core::SystemClock clock;
    Gate gate;
    store::Writer writer(
        open_db(dir.file("b.db")), clock, metrics, {}, [&](store::Database&, const core::Event& e) {
          const std::string& id = std::get<core::InboundMessage>(e).id;
          if (id == "wamid.GATE") gate.wait();
          if (id == "wamid.POISON") {
            return core::Status(core::make_error(core::ErrorCode::kInternal, "poison"));
          }
          return core::ok_status();
        });
    auto gated =
        std::async(std::launch::async, [&] { return writer.submit({text("wamid.GATE")}, 60s); });
    wait_until([&] { return writer.pending_events() == 1; });
    auto poison = std::async(std::launch::async, [&] {
      return writer.submit({text("wamid.GOOD1"), text("wamid.POISON")}, 60s);
    });
    auto good =
        std::async(std::launch::async, [&] { return writer.submit({text("wamid.GOOD2")}, 60s); });
    wait_until([&] { return writer.pending_events() == 4; });
    gate.open();  // the next batch holds both submissions
    CHECK(gated.get().ok());
    auto p = poison.get();
    REQUIRE_FALSE(p.ok());
    CHECK(p.error().message == "poison");
    CHECK(good.get().ok());
    const std::string db = dir.file("b.db");
    CHECK(test::count(
              db, "SELECT count(*) FROM messages WHERE outbound = 0 AND wamid='wamid.GOOD2'") == 1);
    // Nothing of the failed submission is kept, not even its good message.
    CHECK(test::count(
              db, "SELECT count(*) FROM messages WHERE wamid IN ('wamid.GOOD1','wamid.POISON')") ==
          0);
    CHECK(metrics.render().find("vaxbot_commit_failures_total 2") != std::string::npos);
  }

  TEST_CASE("a hook that throws fails its submission, and the writer goes on") {
    test::TempDir dir;
    core::Registry metrics;
    core::SystemClock clock;
    store::Writer writer(open_db(dir.file("t.db")), clock, metrics, {},
                         [](store::Database&, const core::Event& e) -> core::Status {
                           if (std::get<core::InboundMessage>(e).id == "wamid.THROW") {
                             throw std::runtime_error("boom");
                           }
                           return core::ok_status();
                         });
    auto thrown = writer.submit({text("wamid.THROW")}, 10s);
    REQUIRE_FALSE(thrown.ok());
    CHECK(thrown.error().message == "event hook: boom");
    CHECK(writer.submit({text("wamid.AFTER")}, 10s).ok());
    CHECK(test::count(dir.file("t.db"), "SELECT count(*) FROM messages WHERE outbound = 0") == 1);
  }

  TEST_CASE("a full disk answers unavailable, is reported unhealthy, and loses nothing committed") {
    test::TempDir dir;
    core::Registry metrics;
    core::SystemClock clock;
    const std::string path = dir.file("full.db");
    open_db(path);  // create the schema first
    const std::int64_t pages = test::count(path, "PRAGMA page_count");
    store::Writer writer(open_db(path, pages + 8), clock, metrics);
    const std::string big(3000, 'x');
    std::vector<std::string> committed;
    core::Error failure;
    for (int i = 0; i < 100; ++i) {
      const std::string id = "wamid.FULL" + std::to_string(i);
      auto r = writer.submit({text(id, big)}, 10s);
      if (!r.ok()) {
        failure = r.error();
        break;
      }
      committed.push_back(id);
    }
    CHECK(failure.code == core::ErrorCode::kUnavailable);
    CHECK(failure.message.find("full") != std::string::npos);
    CHECK_FALSE(writer.healthy());
    CHECK_FALSE(committed.empty());
    CHECK(test::count(path, "SELECT count(*) FROM messages WHERE outbound = 0") ==
          static_cast<std::int64_t>(committed.size()));
  }

  TEST_CASE("another connection holding the write lock delays, then the commit goes through") {
    test::TempDir dir;
    core::Registry metrics;
    core::SystemClock clock;
    const std::string path = dir.file("lock.db");
    store::Writer writer(open_db(path), clock, metrics);
    SQLite::Database other(path, SQLite::OPEN_READWRITE);
    other.exec("BEGIN IMMEDIATE");
    auto blocked =
        std::async(std::launch::async, [&] { return writer.submit({text("wamid.L")}, 60s); });
    wait_until([&] { return writer.pending_events() == 1; });
    other.exec("COMMIT");
    CHECK(blocked.get().ok());
    CHECK(test::count(path, "SELECT count(*) FROM messages WHERE outbound = 0") == 1);
  }

  TEST_CASE("stop() refuses new work but commits what is queued") {
    test::TempDir dir;
    core::Registry metrics;
    core::SystemClock clock;
    Gate gate;
    auto writer = std::make_unique<store::Writer>(
        open_db(dir.file("s.db")), clock, metrics, store::WriterOptions{},
        [&](store::Database&, const core::Event& e) {
          if (std::get<core::InboundMessage>(e).id == "wamid.GATE") gate.wait();
          return core::ok_status();
        });
    auto gated =
        std::async(std::launch::async, [&] { return writer->submit({text("wamid.GATE")}, 60s); });
    wait_until([&] { return writer->pending_events() == 1; });
    auto queued =
        std::async(std::launch::async, [&] { return writer->submit({text("wamid.QUEUED")}, 60s); });
    wait_until([&] { return writer->pending_events() == 2; });
    auto stopping = std::async(std::launch::async, [&] { writer->stop(); });
    wait_until([&] { return !writer->accepting(); });
    auto late = writer->submit({text("wamid.LATE")}, 60s);
    REQUIRE_FALSE(late.ok());
    CHECK(late.error().message == "shutting down");
    gate.open();
    stopping.get();
    CHECK(gated.get().ok());
    CHECK(queued.get().ok());
    CHECK(test::count(dir.file("s.db"), "SELECT count(*) FROM messages WHERE outbound = 0") == 2);
  }
}

TEST_SUITE("store writer tasks") {
  TEST_CASE("a task commits with the batch; a failing task keeps nothing and fails alone") {
    test::TempDir dir;
    core::Registry metrics;
    core::SystemClock clock;
    store::Writer writer(open_db(dir.file("t.db")), clock, metrics);
    auto ok = writer.run(
        [](store::Database& db) {
          db.handle().exec(
              "INSERT INTO unusable (location, reason, received_at) VALUES ('task', 'ok', 1)");
          return core::ok_status();
        },
        10s);
    CHECK(ok.ok());
    auto bad = writer.run(
        [](store::Database& db) {
          db.handle().exec(
              "INSERT INTO unusable (location, reason, received_at) VALUES ('task', 'bad', 1)");
          return core::Status(core::make_error(core::ErrorCode::kInternal, "refused"));
        },
        10s);
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.error().message == "refused");
    auto thrown =
        writer.run([](store::Database&) -> core::Status { throw std::runtime_error("boom"); }, 10s);
    REQUIRE_FALSE(thrown.ok());
    CHECK(thrown.error().message.find("boom") != std::string::npos);
    writer.stop();
    CHECK(test::count(dir.file("t.db"), "SELECT count(*) FROM unusable WHERE reason = 'ok'") == 1);
    CHECK(test::count(dir.file("t.db"), "SELECT count(*) FROM unusable WHERE reason = 'bad'") == 0);
    CHECK_FALSE(writer.run([](store::Database&) { return core::ok_status(); }, 1s).ok());
  }

  TEST_CASE("the commit listener hears each new resident message once, after its commit") {
    test::TempDir dir;
    core::Registry metrics;
    core::SystemClock clock;
    store::Writer writer(open_db(dir.file("l.db")), clock, metrics);
    std::mutex m;
    std::vector<std::string> heard;
    std::int64_t rows_when_heard = -1;
    const std::string path = dir.file("l.db");
    int calls = 0;
    writer.set_commit_listener([&](const std::vector<std::string>& ids) {
      std::lock_guard lock(m);
      ++calls;
      heard.insert(heard.end(), ids.begin(), ids.end());
      rows_when_heard = test::count(
          path, "SELECT count(*) FROM messages WHERE outbound = 0");  // visible: committed
    });
    REQUIRE(writer.submit({text("wamid.L1"), text("wamid.L2")}, 10s).ok());
    REQUIRE(writer.submit({text("wamid.L1")}, 10s).ok());  // a duplicate: not heard again
    core::StatusUpdate st;
    st.message_id = "wamid.OUT";
    REQUIRE(writer.submit({st}, 10s).ok());  // a status: no resident message, not heard
    REQUIRE(
        writer.run([](store::Database&) { return core::ok_status(); }, 10s).ok());  // nor a task
    std::lock_guard lock(m);
    CHECK(heard == std::vector<std::string>{"wamid.L1", "wamid.L2"});
    CHECK(rows_when_heard == 2);
    CHECK(calls == 1);
  }
}

TEST_SUITE("store outbox") {
  struct Outboxed {
    test::TempDir dir;
    core::Registry metrics;
    core::SystemClock clock;
    std::string path = dir.file("o.db");
    store::Writer writer{open_db(path), clock, metrics};

    // Queues a reply (with a transcript line) and returns its outbox id.
    std::int64_t queue(const std::string& to, const std::string& body, int priority = 0,
                       std::int64_t created = 1000) {
      std::int64_t id = 0;
      REQUIRE(writer
                  .run(
                      [&](store::Database& db) {
                        store::ConversationStore cs(db);
                        store::Reply row;
                        row.resident = to;
                        row.key = "k";
                        row.pieces = {body};
                        row.body = body;
                        row.priority = priority;
                        row.at_ms = created;
                        auto r = cs.queue_reply(row);
                        if (!r.ok()) return core::Status(r.error());
                        id = *r;
                        return core::ok_status();
                      },
                      10s)
                  .ok());
      return id;
    }
    template <typename F>
    void with_store(F f) {
      REQUIRE(writer
                  .run(
                      [&](store::Database& db) {
                        store::OutboxStore s(db);
                        f(s);
                        return core::ok_status();
                      },
                      10s)
                  .ok());
    }
    std::string status_of(std::int64_t id) {
      SQLite::Database db(path);
      const std::string i = std::to_string(id);  // the outbox's while queued, then the line's
      return db
          .execAndGet("SELECT coalesce((SELECT status FROM outbox WHERE id = " + i +
                      "), (SELECT status FROM messages WHERE seq = " + i + "))")
          .getString();
    }
    std::string transcript_of(std::int64_t id) {
      SQLite::Database db(path);
      return db.execAndGet("SELECT status FROM transcript WHERE seq = " + std::to_string(id))
          .getString();
    }
    void status_webhook(const std::string& wamid, core::DeliveryState state) {
      core::StatusUpdate st;
      st.message_id = wamid;
      st.state = state;
      REQUIRE(writer.submit({st}, 10s).ok());  // recorded in statuses
      with_store([&](store::OutboxStore& s) {
        CHECK(s.apply_status(wamid, std::string(core::to_string(state)), "").ok());
      });
    }
  };

  TEST_CASE("claims the most urgent due rows once, with the resident's last message time") {
    Outboxed o;
    const auto bulk = o.queue("911", "bulk", 3, 100);
    const auto reply_late = o.queue("912", "reply 2", 0, 300);
    const auto reply_early = o.queue("913", "reply 1", 0, 200);
    const auto future = o.queue("914", "later", 0, 999999);
    REQUIRE(
        o.writer
            .run(
                [](store::Database& db) {
                  db.handle().exec(
                      "INSERT INTO sessions (resident, flow, updated_at) VALUES ('912', 'f', 777)");
                  return core::ok_status();
                },
                10s)
            .ok());
    std::vector<store::ClaimedReply> first, second;
    o.with_store([&](store::OutboxStore& s) {
      auto r = s.claim(5000, 10);
      REQUIRE(r.ok());
      first = *r;
      auto again = s.claim(5000, 10);
      REQUIRE(again.ok());
      second = *again;
    });
    REQUIRE(first.size() == 3);
    CHECK(first[0].id == reply_early);
    CHECK(first[1].id == reply_late);
    CHECK(first[2].id == bulk);
    CHECK(first[1].last_inbound_ms == 777);
    CHECK(first[0].last_inbound_ms == 0);
    CHECK(first[1].body == "reply 2");
    CHECK(second.empty());
    CHECK(o.status_of(reply_early) == "sending");
    CHECK(o.status_of(future) == "queued");
    int released = 0;
    o.with_store([&](store::OutboxStore& s) { released = *s.release_all_claimed(); });
    CHECK(released == 3);
    CHECK(o.status_of(bulk) == "queued");
  }

  TEST_CASE("a reply queued behind a resident's waiting welcome takes its priority") {
    Outboxed o;
    // A newcomer's welcome (priority 1) waits; the answer to their next message (priority 0)
    // must not overtake it, while another resident's reply (0) still goes first.
    const auto welcome = o.queue("921", "welcome", 1, 100);
    const auto answer = o.queue("921", "ask vaccine", 0, 200);
    const auto other = o.queue("922", "other reply", 0, 150);
    std::vector<store::ClaimedReply> first, second;
    o.with_store([&](store::OutboxStore& s) { first = *s.claim(5000, 2); });
    REQUIRE(first.size() == 2);
    CHECK(first[0].id == other);
    CHECK(first[1].id == welcome);
    CHECK(o.status_of(answer) == "queued");
    o.with_store([&](store::OutboxStore& s) { second = *s.claim(5000, 10); });
    REQUIRE(second.size() == 1);
    CHECK(second[0].id == answer);
    CHECK(second[0].priority == 1);
    // Once the welcome has left the queue, the resident's replies are urgent again.
    const auto next = o.queue("921", "ask id", 0, 300);
    o.with_store([&](store::OutboxStore& s) { second = *s.claim(5000, 10); });
    REQUIRE(second.size() == 1);
    CHECK(second[0].id == next);
    CHECK(second[0].priority == 0);
  }

  TEST_CASE("a claim searches by index: its cost does not grow with the residents on record") {
    Outboxed o;
    std::string plan;
    o.with_store([&](store::OutboxStore& s) {
      auto p = s.claim_plan();
      REQUIRE(p.ok());
      plan = *p;
    });
    CAPTURE(plan);
    CHECK(plan.find("SCAN") == std::string::npos);
    CHECK(plan.find("SEARCH sessions USING PRIMARY KEY") != std::string::npos);
    CHECK(plan.find("SEARCH outbox USING COVERING INDEX outbox_due") != std::string::npos);
  }

  TEST_CASE("a sent row moves only forward, whatever order Meta's statuses come in") {
    Outboxed o;
    const auto id = o.queue("915", "hello");
    o.with_store([&](store::OutboxStore& s) { REQUIRE(s.claim(5000, 10)->size() == 1); });
    // Meta's statuses can arrive before its answer to our send reaches us.
    o.status_webhook("wamid.X", core::DeliveryState::kDelivered);
    CHECK(o.status_of(id) == "sending");
    const std::string reports = "SELECT count(*) FROM statuses WHERE message_id = 'wamid.X'";
    CHECK(test::count(o.path, reports) == 1);  // waits for the send's answer
    o.with_store([&](store::OutboxStore& s) {
      CHECK(s.record({id, store::SendResult::Outcome::kSent, 1, "wamid.X", "", 6000}).ok());
    });
    CHECK(o.status_of(id) == "delivered");
    CHECK(test::count(o.path, reports) == 0);  // applied: the line holds it
    CHECK(o.transcript_of(id) == "delivered");
    CHECK(test::count(o.path, "SELECT count(*) FROM outbox WHERE id = " + std::to_string(id)) ==
          0);  // Meta has it: out of the outbox, body and all
    o.status_webhook("wamid.X", core::DeliveryState::kRead);
    o.status_webhook("wamid.X", core::DeliveryState::kSent);  // late: ignored
    o.status_webhook("wamid.X", core::DeliveryState::kDelivered);
    CHECK(o.status_of(id) == "read");
    CHECK(o.transcript_of(id) == "read");
    CHECK(test::count(o.path, "SELECT count(*) FROM transcript WHERE message_id = 'wamid.X'") == 1);
    CHECK(test::count(o.path, reports) == 0);  // late and repeated reports are not kept either
  }

  TEST_CASE(
      "Meta's failed after sent is kept with its reason; a result for an unclaimed row is "
      "ignored") {
    Outboxed o;
    const auto id = o.queue("916", "hello");
    const auto other = o.queue("917", "other");
    o.with_store([&](store::OutboxStore& s) {
      REQUIRE(s.claim(5000, 1)->size() == 1);
      CHECK(s.record({id, store::SendResult::Outcome::kSent, 1, "wamid.F", "", 6000}).ok());
      CHECK(s.apply_status("wamid.F", "failed", "131026 Message undeliverable").ok());
      CHECK(s.apply_status("wamid.unknown", "read", "").ok());
      // `other` was never claimed: a stray result changes nothing.
      CHECK(s.record({other, store::SendResult::Outcome::kFailed, 1, "", "nope", 6000}).ok());
    });
    CHECK(o.status_of(id) == "failed");
    CHECK(o.transcript_of(id) == "failed: 131026 Message undeliverable");
    CHECK(o.status_of(other) == "queued");
    CHECK(test::count(o.path, "SELECT count(*) FROM outbox") == 1);  // only `other`: unsent
  }

  TEST_CASE("a status report is kept only while its reply is unknown") {
    Outboxed o;
    const auto id = o.queue("918", "hello");
    o.with_store([&](store::OutboxStore& s) { REQUIRE(s.claim(5000, 1)->size() == 1); });
    o.status_webhook("wamid.Y", core::DeliveryState::kRead);            // before Meta's answer
    o.status_webhook("wamid.NOBODY", core::DeliveryState::kDelivered);  // no reply of ours
    CHECK(test::count(o.path, "SELECT count(*) FROM statuses") == 2);
    o.with_store([&](store::OutboxStore& s) {
      CHECK(s.record({id, store::SendResult::Outcome::kSent, 1, "wamid.Y", "", 6000}).ok());
    });
    CHECK(o.status_of(id) == "read");
    CHECK(test::count(o.path, "SELECT count(*) FROM statuses WHERE message_id = 'wamid.Y'") == 0);
    CHECK(test::count(o.path, "SELECT count(*) FROM statuses WHERE message_id = 'wamid.NOBODY'") ==
          1);
    // A report for a reply already at that state changes nothing and is not kept.
    o.status_webhook("wamid.Y", core::DeliveryState::kDelivered);
    CHECK(o.status_of(id) == "read");
    CHECK(test::count(o.path, "SELECT count(*) FROM statuses WHERE message_id = 'wamid.Y'") == 0);
  }

  TEST_CASE("a report whose reply never becomes known is deleted once older than the cut") {
    Outboxed o;
    o.status_webhook("wamid.NOBODY", core::DeliveryState::kDelivered);
    o.status_webhook("wamid.NOBODY", core::DeliveryState::kRead);
    const std::int64_t first = test::count(o.path, "SELECT min(received_at) FROM statuses");
    const std::int64_t last = test::count(o.path, "SELECT max(received_at) FROM statuses");
    o.with_store([&](store::OutboxStore& s) {
      auto kept = s.forget_statuses_before(first);  // none older than the cut
      REQUIRE(kept.ok());
      CHECK(*kept == 0);
      auto gone = s.forget_statuses_before(last + 1);
      REQUIRE(gone.ok());
      CHECK(*gone == 2);
    });
    CHECK(test::count(o.path, "SELECT count(*) FROM statuses") == 0);
  }
}

TEST_SUITE("store checkpointer") {
  TEST_CASE(
      "under writes without pause the WAL stays bounded: the writer empties it past the limit") {
    {
      test::TempDir dir;
      core::Registry metrics;
      core::SystemClock clock;
      store::DatabaseOptions o;
      o.path = dir.file("w.db");
      o.checkpoint_on_commit = false;
      auto db = store::Database::open(o);
      REQUIRE(db.ok());
      store::Writer writer(std::move(*db), clock, metrics);
      auto checkpointer = store::Checkpointer::start(
          o, 5ms, [&writer] { writer.request_wal_truncate(); }, 256 << 10);
      REQUIRE(checkpointer.ok());
      // Four submitters keep the writer busy, so no commit ever starts on an empty WAL.
      std::atomic<std::uintmax_t> largest{0};
      std::vector<std::thread> threads;
      for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
          for (int i = 0; i < 400; ++i) {
            std::vector<core::Event> events;
            for (int k = 0; k < 8; ++k) {
              events.push_back(text(
                  "wamid.W" + std::to_string(t) + "." + std::to_string(i) + "." + std::to_string(k),
                  std::string(400, 'x')));
            }
            REQUIRE(writer.submit(std::move(events), 10s).ok());
            std::error_code ec;
            const auto wal = std::filesystem::file_size(o.path + "-wal", ec);
            if (!ec && wal > largest) largest = wal;
          }
        });
      }
      for (auto& t : threads) t.join();
      // 12,800 messages of ~0.5 KB go through the WAL. Without the writer's
      // truncation (passive checkpoints only) it reached 27 MB here; with it, under 1 MB.
      CHECK(largest.load() < (8u << 20));
      (*checkpointer)->stop();
    }
  }
}
