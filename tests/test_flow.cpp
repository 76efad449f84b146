// flow/ loader: the shipped flow loads; each mistake staff could make in a
// flow file is refused with file:line:col and a message that says what to fix.
//
// Broken flows live in tests/fixtures/flows_invalid/, one mistake per file;
// the table below says what each must produce. A problem inside a step is
// located at the step's definition ("name": {), wherever else its name appears.
#include <doctest/doctest.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "flow/engine.h"
#include "flow/flow.h"
#include "support.h"

using namespace vaxbot;
namespace fs = std::filesystem;

namespace {

const fs::path kRoot = VAXBOT_SOURCE_DIR;

// The smallest useful flow, for tests that change one thing.
constexpr const char* kTinyFlow = R"({
  "spec_version": 1,
  "id": "tiny",
  "start": "date",
  "steps": {
    "date": { "prompt": "ask_date", "input": "date", "save_as": "first_dose_date", "next": "done" },
    "done": { "prompt": "done", "end": true }
  }
})";

struct InvalidCase {
  const char* file;
  int line;
  int col;
  const char* message;    // the whole message, or its start when it ends with "..."
  std::size_t count = 1;  // diagnostics in all
};

const InvalidCase kInvalid[] = {
    // JSON errors point at the end of the token the parser choked on: "start"'s closing quote.
    {"not_json.json", 5, 9, "not valid JSON: ..."},
    {"wrong_spec_version.json", 3, 3, "\"spec_version\" must be 1"},
    {"start_names_no_step.json", 5, 3, "\"start\" names no step: \"first_dose\""},
    {"goto_names_no_step.json", 7, 5, "step \"vaccine\": goto names no step: \"dnoe\""},
    {"unknown_input.json", 7, 5, "step \"id_number\": unknown input \"voice\""},
    {"unknown_data_source.json", 7, 5, "step \"doctor\": unknown data source \"doctors\""},
    {"unknown_condition.json", 7, 5, "step \"vaccine\": unknown condition \"is_weekend\""},
    {"unknown_action.json", 7, 5, "step \"confirm\": unknown action \"send_email\""},
    {"choice_without_options.json", 7, 5,
     "step \"vaccine\": a choice needs \"options\" or \"options_from\""},
    {"too_many_options.json", 7, 5,
     "step \"time_of_day\": at most 3 fixed options (WhatsApp reply buttons)"},
    {"end_step_with_input.json", 7, 5, "step \"done\": an end step cannot wait for input"},
    {"step_without_next.json", 7, 5, "step \"vaccine\": needs \"next\""},
    {"last_route_with_when.json", 7, 5,
     "step \"vaccine\": the last route must have no \"when\" (the default)"},
    {"unknown_step_key.json", 7, 5, "step \"vaccine\": unknown key \"timeout\""},
};

core::Result<flow::Flow> parse(const std::string& text, std::vector<core::Diagnostic>& problems) {
  return flow::parse_flow(text, "test.json", problems);
}

std::string replaced(std::string text, const std::string& from, const std::string& to) {
  const auto pos = text.find(from);
  REQUIRE(pos != std::string::npos);
  return text.replace(pos, from.size(), to);
}

}  // namespace

TEST_SUITE("flow loader") {
  TEST_CASE("the shipped flow loads and reads as written") {
    std::vector<core::Diagnostic> problems;
    auto f = flow::load_flow(kRoot / "flows" / "second_dose.json", problems);
    REQUIRE_MESSAGE(f.ok(), (problems.empty() ? "" : core::to_string(problems.front())));
    CHECK(problems.empty());
    CHECK(f->id == "second_dose");
    CHECK(f->start == "first_dose_date");
    CHECK(f->welcome == "welcome");
    CHECK(f->utc_offset_minutes == 330);
    CHECK(f->steps.size() == 10);

    const flow::Step* date = f->step("first_dose_date");
    REQUIRE(date != nullptr);
    CHECK(date->input == flow::InputKind::kDate);
    CHECK(date->save_as == "first_dose_date");
    REQUIRE(date->next.size() == 1);  // "next": "vaccine" is one route without a condition
    CHECK(date->next[0].when.empty());
    CHECK(date->next[0].go_to == "vaccine");

    const flow::Step* id = f->step("id_number");
    REQUIRE(id != nullptr);
    CHECK(id->input == flow::InputKind::kIdNumber);
    REQUIRE(id->next.size() == 3);
    CHECK(id->next[0].when == "has_active_booking");
    CHECK(id->next[1].when == "id_type_known");

    const flow::Step* confirm = f->step("confirm");
    REQUIRE(confirm != nullptr);
    CHECK(confirm->input == flow::InputKind::kChoice);
    REQUIRE(confirm->options.size() == 2);
    CHECK(confirm->options[1].id == "change_slot");
    CHECK(confirm->options[1].title == "btn_change_slot");
    REQUIRE(confirm->next.size() == 2);
    CHECK(confirm->next[0].when == "answer:change_slot");
    CHECK(confirm->next[1].action == "book");
    CHECK(confirm->next[1].go_to == "booked");

    const flow::Step* booked = f->step("booked");
    REQUIRE(booked != nullptr);
    CHECK(booked->end);
    CHECK(booked->input == flow::InputKind::kNone);
    CHECK(f->step("no_such_step") == nullptr);
  }

  TEST_CASE("every broken flow is refused with file:line:col and what is wrong") {
    for (const InvalidCase& c : kInvalid) {
      const fs::path file = test::fixture_dir("flows_invalid") / c.file;
      std::vector<core::Diagnostic> problems;
      auto f = flow::load_flow(file, problems);
      INFO(std::string(c.file));
      CHECK_FALSE(f.ok());
      REQUIRE(problems.size() == c.count);
      const core::Diagnostic& d = problems.front();
      CHECK(d.file == file.string());
      CHECK(d.line == c.line);
      CHECK(d.col == c.col);
      const std::string expected = c.message;
      if (expected.ends_with("...")) {
        CHECK(d.message.starts_with(expected.substr(0, expected.size() - 3)));
      } else {
        CHECK(d.message == expected);
      }
      CHECK(core::to_string(d) == file.string() + ":" + std::to_string(c.line) + ":" +
                                      std::to_string(c.col) + ": " + d.message);
    }
  }

  TEST_CASE("every file in flows_invalid has a row in the table, and every row a file") {
    std::set<std::string> files, rows;
    for (const auto& e : fs::directory_iterator(test::fixture_dir("flows_invalid"))) {
      files.insert(e.path().filename().string());
    }
    for (const InvalidCase& c : kInvalid) rows.insert(c.file);
    CHECK(files == rows);
  }

  TEST_CASE("the tiny flow the variants start from is valid") {
    std::vector<core::Diagnostic> problems;
    auto f = parse(kTinyFlow, problems);
    CHECK(f.ok());
    CHECK(problems.empty());
    CHECK(f->utc_offset_minutes == 330);  // the default: India Standard Time
    CHECK(f->welcome.empty());
  }

  TEST_CASE("comments and a $schema key are accepted") {
    const std::string text = std::string("// Who edits this: the helpline team.\n") +
                             replaced(replaced(kTinyFlow, "\"spec_version\"",
                                               "\"$schema\": \"../docs/flow.schema.json\",\n"
                                               "  /* bumped only by engineers */ \"spec_version\""),
                                      "\"done\": {", "// the goodbye\n    \"done\": {");
    std::vector<core::Diagnostic> problems;
    auto f = parse(text, problems);
    CHECK_MESSAGE(f.ok(), (problems.empty() ? "" : core::to_string(problems.front())));
    CHECK(f->steps.size() == 2);
  }

  TEST_CASE("several mistakes in one file are all reported at once") {
    std::string text = replaced(kTinyFlow, "\"input\": \"date\"", "\"input\": \"voice\"");
    text = replaced(text, "\"start\": \"date\"", "\"start\": \"begin\"");
    text = replaced(text, "\"end\": true", "\"end\": true, \"colour\": \"red\"");
    std::vector<core::Diagnostic> problems;
    CHECK_FALSE(parse(text, problems).ok());
    std::set<std::string> messages;
    for (const auto& d : problems) messages.insert(d.message);
    CHECK(messages == std::set<std::string>{"step \"date\": unknown input \"voice\"",
                                            "\"start\" names no step: \"begin\"",
                                            "step \"done\": unknown key \"colour\""});
  }

  TEST_CASE("top-level values of the wrong type or range are refused") {
    struct Variant {
      const char* from;
      const char* to;
      const char* message;
    };
    const Variant variants[] = {
        {"\"spec_version\": 1", "\"spec_version\": \"1\"", "\"spec_version\" must be 1"},
        {"\"id\": \"tiny\"", "\"id\": 7", "id: \"id\" must be a string"},
        {"\"id\": \"tiny\",", "", "id: \"id\" is required"},
        {"\"start\": \"date\",", "\"start\": \"date\", \"utc_offset_minutes\": 900,",
         "\"utc_offset_minutes\" must be whole minutes from -840 to 840"},
        {"\"start\": \"date\",", "\"start\": \"date\", \"utc_offset_minutes\": 5.5,",
         "\"utc_offset_minutes\" must be whole minutes from -840 to 840"},
        {"\"steps\": {", "\"steps\": {}, \"unused\": {",
         "\"steps\" must be an object of named steps"},
    };
    for (const Variant& v : variants) {
      std::vector<core::Diagnostic> problems;
      INFO(std::string(v.to));
      CHECK_FALSE(parse(replaced(kTinyFlow, v.from, v.to), problems).ok());
      REQUIRE(problems.size() == 1);
      CHECK(problems.front().message == v.message);
    }
  }

  TEST_CASE("a utc_offset_minutes within a day's range is kept") {
    std::vector<core::Diagnostic> problems;
    auto f = parse(replaced(kTinyFlow, "\"start\"", "\"utc_offset_minutes\": -300, \"start\""),
                   problems);
    REQUIRE(f.ok());
    CHECK(f->utc_offset_minutes == -300);
  }

  TEST_CASE("template_keys names every key the flow uses, with its step") {
    std::vector<core::Diagnostic> problems;
    auto f = flow::load_flow(kRoot / "flows" / "second_dose.json", problems);
    REQUIRE(f.ok());
    const auto keys = f->template_keys();
    auto has = [&](const std::string& key, const std::string& step) {
      return std::find(keys.begin(), keys.end(), std::pair{key, step}) != keys.end();
    };
    CHECK(has("welcome", "welcome"));
    CHECK(has("ask_first_dose_date", "first_dose_date"));
    CHECK(has("vaccines_button", "vaccine"));
    CHECK(has("btn_change_slot", "confirm"));
    CHECK(has("booked", "booked"));
    CHECK_FALSE(has("help", ""));  // the engine's own keys are not the flow's
  }

  TEST_CASE("docs/flow.schema.json lists exactly the engine's vocabulary") {
    auto schema = nlohmann::json::parse(test::read_file(kRoot / "docs" / "flow.schema.json"));
    auto as_set = [](const nlohmann::json& j) { return j.get<std::set<std::string>>(); };
    auto of = [](const std::vector<std::string>& v) {
      return std::set<std::string>(v.begin(), v.end());
    };
    const auto& defs = schema.at("$defs");
    CHECK(as_set(defs.at("input_kind").at("enum")) == of(flow::input_kinds()));
    CHECK(as_set(defs.at("data_source").at("enum")) == of(flow::data_sources()));
    CHECK(as_set(defs.at("action").at("enum")) == of(flow::actions()));
    CHECK(as_set(defs.at("condition").at("anyOf").at(0).at("enum")) == of(flow::conditions()));
    CHECK(defs.at("condition").at("anyOf").at(1).at("pattern") == "^answer:");
    CHECK(schema.at("properties").at("spec_version").at("const") == flow::kSpecVersion);
  }

  TEST_CASE("docs/flows.md names every word, engine template key and placeholder") {
    const std::string doc = test::read_file(kRoot / "docs" / "flows.md");
    auto documented = [&](const std::string& word) {
      return doc.find("`" + word) != std::string::npos;
    };
    for (const auto* list : {&flow::input_kinds(), &flow::data_sources(), &flow::conditions(),
                             &flow::actions(), &flow::engine_template_keys()}) {
      for (const auto& w : *list) CHECK_MESSAGE(documented(w), w);
    }
    for (const auto& p : flow::known_placeholders()) CHECK_MESSAGE(documented("{{" + p + "}}"), p);
    CHECK(documented("answer:"));
  }
}

TEST_SUITE("flow loader") {
  TEST_CASE("a step named earlier in the file is located at its own definition") {
    // As in the shipped flow: "vaccine" appears as first_dose_date's "next"
    // before the step itself; the problem is in the step (line 5).
    const std::string text =
        "{ \"spec_version\": 1, \"id\": \"t\", \"start\": \"date\", \"steps\": {\n"
        "  \"date\": { \"prompt\": \"ask_date\", \"input\": \"date\", \"save_as\": \"d\",\n"
        "            \"next\": \"vaccine\" },\n"
        "  \"done\": { \"prompt\": \"done\", \"end\": true },\n"
        "  \"vaccine\": { \"prompt\": \"ask_vaccine\", \"input\": \"date\", \"next\": \"done\", "
        "\"colour\": 1 } } }";
    std::vector<core::Diagnostic> problems;
    CHECK_FALSE(parse(text, problems).ok());
    REQUIRE(problems.size() == 1);
    CHECK(problems.front().line == 5);
    CHECK(problems.front().col == 3);
  }

  TEST_CASE("an empty start or goto is refused") {
    for (const std::pair<const char*, const char*>& v :
         {std::pair{"\"start\": \"date\"", "\"start\": \"\""},
          std::pair{"\"next\": \"done\"", "\"next\": \"\""},
          std::pair{"\"next\": \"done\"", "\"next\": [ { \"goto\": \"\" } ]"}}) {
      std::vector<core::Diagnostic> problems;
      INFO(std::string(v.second));
      CHECK_FALSE(parse(replaced(kTinyFlow, v.first, v.second), problems).ok());
    }
  }

  TEST_CASE("numbers outside int are refused, not wrapped") {
    // 4294967297 = 2^32 + 1 and 4294967626 = 2^32 + 330 would wrap to 1 and 330 in an int;
    // -2147483648 would slip under a +-840 check done with std::abs.
    for (const std::pair<const char*, const char*>& v :
         {std::pair{"\"spec_version\": 1", "\"spec_version\": 4294967297"},
          std::pair{"\"start\"", "\"utc_offset_minutes\": 4294967626, \"start\""},
          std::pair{"\"start\"", "\"utc_offset_minutes\": -2147483648, \"start\""}}) {
      std::vector<core::Diagnostic> problems;
      INFO(std::string(v.second));
      CHECK_FALSE(parse(replaced(kTinyFlow, v.first, v.second), problems).ok());
    }
  }
}
