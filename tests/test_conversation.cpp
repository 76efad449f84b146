// conversation/: whole conversations as data. Each tests/flows/*.json file
// lists what residents send and what vaxbot must answer; the runner plays it
// through the real writer, conversation, flow engine and a real SQLite file,
// with a fixed clock and seeded booking references.
//
// VAXBOT_REGENERATE=1 rewrites every file's expectations from what vaxbot
// answers now: review the diff, then commit it.
//
// File format:
//   { "description": "...", "now": <Unix ms>,
//     "turns": [ { "from": "9198...", "name": "...",          (default: the previous turn's)
//                  "send": "text" | "tap": "reply id" | "kind": "image",
//                  "advance_ms": 0, "sql": "setup statement run before the turn",
//                  "expect": [ { "key": ..., "body": ..., "button": ..., "options": ["id | title |
//                  description"] } ] } ],
//     "final": { "bookings_active": n, "step": "..." } }
#include <doctest/doctest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "booking/catalog.h"
#include "conversation/conversation.h"
#include "store/conversation_store.h"
#include "store/slot_store.h"
#include "support.h"

using namespace vaxbot;
using nlohmann::ordered_json;

namespace {

// Deterministic "random" bytes so references are stable in the files.
class SeededRandom final : public booking::RandomSource {
 public:
  bool fill(std::span<std::byte> out) override {
    for (auto& b : out) {
      state_ = state_ * 6364136223846793005ULL + 1442695040888963407ULL;
      b = static_cast<std::byte>(state_ >> 56);
    }
    return true;
  }

 private:
  std::uint64_t state_ = 42;
};

ordered_json describe(const std::string& body_json, const std::string& key) {
  auto j = ordered_json::parse(body_json);
  ordered_json out;
  out["key"] = key;
  if (j["type"] == "text") {
    out["body"] = j["text"]["body"];
    return out;
  }
  const auto& inter = j["interactive"];
  out["body"] = inter["body"]["text"];
  ordered_json options = ordered_json::array();
  if (inter["type"] == "button") {
    for (const auto& b : inter["action"]["buttons"]) {
      options.push_back(b["reply"]["id"].get<std::string>() + " | " +
                        b["reply"]["title"].get<std::string>());
    }
  } else {
    out["button"] = inter["action"]["button"];
    for (const auto& r : inter["action"]["sections"][0]["rows"]) {
      std::string row = r["id"].get<std::string>() + " | " + r["title"].get<std::string>();
      if (r.contains("description")) row += " | " + r["description"].get<std::string>();
      options.push_back(row);
    }
  }
  out["options"] = options;
  return out;
}

// What the transcript shows of a reply: its body, then its options numbered.
std::string shown(const std::string& body_json) {
  auto j = ordered_json::parse(body_json);
  if (j["type"] == "text") return j["text"]["body"];
  const auto& inter = j["interactive"];
  std::string out = inter["body"]["text"];
  std::vector<std::string> titles;
  if (inter["type"] == "button") {
    for (const auto& b : inter["action"]["buttons"]) titles.push_back(b["reply"]["title"]);
  } else {
    for (const auto& r : inter["action"]["sections"][0]["rows"]) titles.push_back(r["title"]);
  }
  for (std::size_t i = 0; i < titles.size(); ++i) {
    out += "\n[" + std::to_string(i + 1) + "] " + titles[i];
  }
  return out;
}

void play(const std::filesystem::path& file, bool regenerate) {
  ordered_json script = ordered_json::parse(test::read_file(file), nullptr, true, true);
  test::TempDir dir;
  const std::string db_path = dir.file("c.db");
  std::vector<core::Diagnostic> problems;
  conversation::ContentPaths paths;
  const std::filesystem::path root = VAXBOT_SOURCE_DIR;
  paths.flows = root / "flows";
  paths.templates = root / "templates";
  paths.data = root / "data";
  auto content = conversation::load_content(paths, problems);
  REQUIRE_MESSAGE(content.ok(), (problems.empty() ? "" : core::to_string(problems.front())));

  core::ManualClock clock(script.at("now").get<std::int64_t>());
  store::DatabaseOptions o;
  o.path = db_path;
  o.redact = [](std::string_view t) { return booking::mask_id_numbers_in_text(t); };
  auto db = store::Database::open(o);
  REQUIRE(db.ok());
  {
    store::SlotStore slots(**db);
    const booking::CivilDate today =
        booking::local_date(clock.now_ms(), content->flow.utc_offset_minutes);
    REQUIRE((*db)->begin().ok());
    REQUIRE(*slots.seed_if_empty(content->catalog, today));
    REQUIRE((*db)->commit().ok());
  }
  SeededRandom random;
  core::Registry metrics;
  // The conversation holds statements on the writer's connection, so it is
  // made after the writer and destroyed before it.
  std::optional<conversation::Conversation> conv;
  store::Writer writer(
      std::move(*db), clock, metrics, {},
      [&](store::Database& d, const core::Event& e) { return conv->handle(d, e); });
  conv.emplace(*content, clock, random, "test-id-key-0123456789abcdef0123456789");
  store::DatabaseOptions ro = o;
  ro.read_only = true;
  auto reader = store::Database::open(ro);
  REQUIRE(reader.ok());
  store::ConversationStore outbox(**reader);

  std::string from = "919800000001", name = "Ananya Sen";
  std::int64_t seen = 0;
  int n = 0;
  for (auto& turn : script.at("turns")) {
    from = turn.value("from", from);
    name = turn.value("name", name);
    clock.advance_ms(turn.value("advance_ms", std::int64_t{1000}));
    if (turn.contains("sql")) {
      SQLite::Database raw(db_path, SQLite::OPEN_READWRITE);
      raw.exec(turn["sql"].get<std::string>());
    }
    core::InboundMessage m;
    m.id = "wamid.FLOW" + std::to_string(++n);
    m.from = from;
    m.profile_name = name;
    m.timestamp = clock.now_ms() / 1000;
    if (turn.contains("tap")) {
      m.kind = core::MessageKind::kListReply;
      m.reply_id = turn["tap"].get<std::string>();
    } else if (turn.contains("kind")) {
      m.kind = *core::message_kind_from_string(turn["kind"].get<std::string>());
    } else {
      m.kind = core::MessageKind::kText;
      m.text = turn.at("send").get<std::string>();
    }
    auto r = writer.submit({m}, std::chrono::seconds(30));
    REQUIRE_MESSAGE(r.ok(), "turn ", n, ": ", (r.ok() ? "" : r.error().message));
    auto rows = outbox.outbox_after(seen);
    REQUIRE(rows.ok());
    ordered_json actual = ordered_json::array();
    for (const auto& row : *rows) {
      SQLite::Database raw(db_path, SQLite::OPEN_READONLY);
      SQLite::Statement q(raw,
                          "SELECT kind, text, direction, status FROM transcript WHERE seq = ?");
      q.bind(1, row.id);
      REQUIRE(q.executeStep());
      actual.push_back(describe(row.body, q.getColumn(0).getString()));
      // The transcript renders from its shared pieces exactly what was sent.
      CHECK(q.getColumn(1).getString() == shown(row.body));
      CHECK(q.getColumn(2).getString() == "out");
      CHECK(q.getColumn(3).getString() == "queued");
      seen = row.id;
    }
    if (regenerate) {
      turn["expect"] = actual;
    } else {
      INFO(file.filename().string(), " turn ", n, ": ", turn.dump());
      CHECK(actual.dump(2) == turn.at("expect").dump(2));
    }
  }
  writer.stop();
  conv.reset();
  SQLite::Database raw(db_path, SQLite::OPEN_READONLY);
  ordered_json final_state;
  final_state["bookings_active"] =
      raw.execAndGet("SELECT count(*) FROM bookings WHERE status='booked'").getInt();
  SQLite::Statement step(raw, "SELECT step FROM sessions WHERE resident = ?");
  step.bind(1, from);
  final_state["step"] = step.executeStep() ? step.getColumn(0).getString() : "";
  // Invariants that hold after every conversation, whatever it was.
  CHECK(raw.execAndGet("SELECT count(*) FROM slots WHERE booked > capacity").getInt() == 0);
  CHECK(raw.execAndGet(
               "SELECT count(*) FROM slots s WHERE booked <> (SELECT count(*) FROM bookings b "
               "WHERE b.slot_id = s.id AND b.status = 'booked')")
            .getInt() == 0);
  if (regenerate) {
    script["final"] = final_state;
    std::ofstream out(file);
    out << script.dump(2, ' ', false) << "\n";
  } else {
    CHECK(final_state.dump() == script.at("final").dump());
  }
}

}  // namespace

TEST_SUITE("conversation flows") {
  TEST_CASE("every conversation in tests/flows plays as written") {
    const bool regenerate = std::getenv("VAXBOT_REGENERATE") != nullptr;
    int files = 0;
    for (const auto& entry : std::filesystem::directory_iterator(test::fixture_dir("../flows"))) {
      if (entry.path().extension() != ".json") continue;
      SUBCASE(entry.path().filename().string().c_str()) {
        play(entry.path(), regenerate);
      }
      ++files;
    }
    CHECK(files > 0);
  }
}
