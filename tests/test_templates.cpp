// templates/: the shipped texts load in all three languages; each mistake staff
// could make in a template file is refused with file:line:col; render fills
// placeholders; length counts characters as WhatsApp does.
//
// Broken sets live in tests/fixtures/templates_invalid/<case>/{en,bn,hi}.json:
// two texts per language with one mistake in one file.
#include <doctest/doctest.h>

#include <algorithm>
#include <set>

#include "flow/engine.h"
#include "support.h"
#include "templates/templates.h"

using namespace vaxbot;
using core::Language;
namespace fs = std::filesystem;

namespace {

const fs::path kRoot = VAXBOT_SOURCE_DIR;
const std::set<std::string, std::less<>> kFixturePlaceholders = {"name"};

struct InvalidCase {
  const char* dir;
  const char* file;  // the file the mistake is in
  int line;
  int col;
  const char* message;  // the whole message, or its start when it ends with "..."
};

const InvalidCase kInvalid[] = {
    {"missing_key", "hi.json", 1, 1, "missing \"bye\" (present in en.json)"},
    {"unknown_placeholder", "bn.json", 3, 3, "\"greet\" uses an unknown placeholder {{nmae}}"},
    {"malformed_placeholder", "en.json", 3, 3,
     "\"greet\" has a malformed placeholder (write {{name}})"},
    {"non_string_text", "hi.json", 4, 3, "the text of \"bye\" must be a string"},
    {"invalid_json", "bn.json", 5, 1, "not valid JSON: ..."},
};

templates::Templates shipped() {
  std::vector<core::Diagnostic> problems;
  auto t = templates::Templates::load(kRoot / "templates", flow::known_placeholders(), problems);
  REQUIRE_MESSAGE(t.ok(), (problems.empty() ? "" : core::to_string(problems.front())));
  return std::move(*t);
}

}  // namespace

TEST_SUITE("templates") {
  TEST_CASE("the shipped templates load, with every key in every language") {
    std::vector<core::Diagnostic> problems;
    auto t = templates::Templates::load(kRoot / "templates", flow::known_placeholders(), problems);
    REQUIRE_MESSAGE(t.ok(), (problems.empty() ? "" : core::to_string(problems.front())));
    CHECK(problems.empty());
    const auto keys = t->keys();
    CHECK(keys.size() >= 50);
    CHECK(std::find(keys.begin(), keys.end(), "_comment") == keys.end());  // "_" keys are comments
    for (const auto& k : keys) {
      for (Language l : core::kLanguages) {
        const std::string* text = t->raw(l, k);
        REQUIRE_MESSAGE(text != nullptr, k, " in ", core::code(l));
        CHECK_MESSAGE(!text->empty(), k, " in ", core::code(l));
      }
    }
    for (const auto& k : flow::engine_template_keys()) CHECK_MESSAGE(t->has(k), k);
  }

  TEST_CASE("every broken template set is refused with file:line:col and what is wrong") {
    for (const InvalidCase& c : kInvalid) {
      const fs::path dir = test::fixture_dir("templates_invalid") / c.dir;
      std::vector<core::Diagnostic> problems;
      auto t = templates::Templates::load(dir, kFixturePlaceholders, problems);
      INFO(std::string(c.dir));
      CHECK_FALSE(t.ok());
      REQUIRE_FALSE(problems.empty());
      const core::Diagnostic& d = problems.front();
      CHECK(d.file == (dir / c.file).string());
      CHECK(d.line == c.line);
      CHECK(d.col == c.col);
      const std::string expected = c.message;
      if (expected.ends_with("...")) {
        CHECK(d.message.starts_with(expected.substr(0, expected.size() - 3)));
      } else {
        CHECK(d.message == expected);
      }
      // Whatever else is said, it is about the broken file only.
      for (const auto& other : problems)
        CHECK_MESSAGE(other.file == d.file, core::to_string(other));
    }
  }

  TEST_CASE("every case directory in templates_invalid has a row in the table") {
    std::set<std::string> dirs, rows;
    for (const auto& e : fs::directory_iterator(test::fixture_dir("templates_invalid"))) {
      dirs.insert(e.path().filename().string());
      for (const char* code : {"en", "bn", "hi"})
        CHECK(fs::exists(e.path() / (std::string(code) + ".json")));
    }
    for (const InvalidCase& c : kInvalid) rows.insert(c.dir);
    CHECK(dirs == rows);
  }

  TEST_CASE("a fixture set without its mistake loads: the cases differ only by it") {
    // unknown_placeholder's mistake is {{nmae}}: with "nmae" allowed, it loads.
    std::vector<core::Diagnostic> problems;
    auto t = templates::Templates::load(test::fixture_dir("templates_invalid/unknown_placeholder"),
                                        {"name", "nmae"}, problems);
    CHECK(t.ok());
    CHECK(problems.empty());
  }

  TEST_CASE("a missing directory is a diagnostic per file, not a crash") {
    test::TempDir dir;
    std::vector<core::Diagnostic> problems;
    auto t = templates::Templates::load(dir.path() / "nowhere", kFixturePlaceholders, problems);
    CHECK_FALSE(t.ok());
    REQUIRE(problems.size() == 3);
    CHECK(problems[0].message == "cannot read the file");
    CHECK(problems[2].file == (dir.path() / "nowhere" / "hi.json").string());
  }

  TEST_CASE("render fills placeholders in each language") {
    const templates::Templates t = shipped();
    CHECK(t.render(Language::kEn, "cancelled", {{"reference", "KOL-7QX2-M"}}) ==
          "Your booking KOL-7QX2-M is cancelled and the seat is free for someone else. Type *hi* "
          "to book again.");
    CHECK(t.render(Language::kEn, "slot_row_title",
                   {{"date", "14/01/2026"}, {"time", "09:00-13:00"}}) == "14/01/2026 09:00-13:00");
    const std::string bn = t.render(Language::kBn, "welcome", {{"name", "অনন্যা"}});
    CHECK(bn.starts_with("নমস্কার অনন্যা!"));
    CHECK(bn.find("{{") == std::string::npos);
    const std::string hi = t.render(Language::kHi, "slot_row_description", {{"seats", "७"}});
    CHECK(hi.find("७") != std::string::npos);
    CHECK(hi.find("{{") == std::string::npos);
  }

  TEST_CASE("render leaves an unknown key visible and an unfilled placeholder empty") {
    const templates::Templates t = shipped();
    CHECK(t.render(Language::kEn, "no_such_key") == "no_such_key");
    CHECK(t.render(Language::kBn, "no_such_key", {{"name", "x"}}) == "no_such_key");
    CHECK(t.render(Language::kEn, "status_booking") == "Your booking:\n\n");
    // Values are inserted as they are: no second round of placeholders.
    CHECK(t.render(Language::kEn, "status_booking", {{"booking", "{{name}}"}}) ==
          "Your booking:\n\n{{name}}");
  }

  TEST_CASE("placeholders lists the names in order") {
    CHECK(templates::placeholders("{{a}} and {{b_2}}, {{a}}") ==
          std::vector<std::string>{"a", "b_2", "a"});
    CHECK(templates::placeholders("no braces, {single} ones").empty());
  }

  TEST_CASE("length counts code points, not bytes, in Bengali and Hindi") {
    CHECK(templates::length("") == 0);
    CHECK(templates::length("Confirm") == 7);
    CHECK(templates::length("More…") == 5);  // … is 3 bytes
    const std::string bangla = "বাংলা";      // ব া ং ল া
    CHECK(bangla.size() == 15);
    CHECK(templates::length(bangla) == 5);
    const std::string hindi = "हिन्दी";  // ह ि न ् द ी
    CHECK(hindi.size() == 18);
    CHECK(templates::length(hindi) == 6);
    CHECK(templates::length("হ্যাঁ, বাতিল করুন") == 17);
    CHECK(templates::length("✅") == 1);
  }
}

TEST_SUITE("templates") {
  TEST_CASE("a file that is not JSON is reported once, not once more per key") {
    std::vector<core::Diagnostic> problems;
    auto t = templates::Templates::load(test::fixture_dir("templates_invalid/invalid_json"),
                                        kFixturePlaceholders, problems);
    CHECK_FALSE(t.ok());
    CHECK(problems.size() == 1);
  }
}

TEST_SUITE("templates split") {
  TEST_CASE("split undoes render: pieces and values join back to the text") {
    const std::string raw = "Hello {{name}}, 100% at {{centre}}{{time}}!";
    auto cut = templates::split(raw, "Hello Ananya, 100% at UPHC, 12 09:00!");
    REQUIRE(cut.has_value());
    CHECK(cut->pieces == std::vector<std::string>{"Hello ", ", 100% at ", "", "!"});
    CHECK(cut->values ==
          std::vector<std::string>{"Ananya", "", "UPHC, 12 09:00"});  // first place wins
    std::string joined = cut->pieces[0];
    for (std::size_t i = 0; i < cut->values.size(); ++i)
      joined += cut->values[i] + cut->pieces[i + 1];
    CHECK(joined == "Hello Ananya, 100% at UPHC, 12 09:00!");
    CHECK(templates::split("No placeholders.", "No placeholders.")->values.empty());
    CHECK_FALSE(templates::split("No placeholders.", "Something else."));
    CHECK_FALSE(templates::split("Hi {{name}}!", "Hello Ananya!"));
    CHECK_FALSE(templates::split("Hi {{name}}!", "Hi Ananya"));
    CHECK_FALSE(templates::split("{{a}}xy{{b}}", "x"));
  }
}
