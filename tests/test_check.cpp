// cli/ check: the real binary, run from the repository root as staff run it.
// The shipped content passes; a copy of templates/ with mistakes fails with
// one "<path>:<line>:<col>: message" line per problem on stdout.
#include <doctest/doctest.h>

#include <algorithm>
#include <fstream>
#include <regex>
#include <sstream>

#include "support.h"

using namespace vaxbot;
namespace fs = std::filesystem;

namespace {

struct Located {
  std::string file;
  int line = 0;
  int col = 0;
  std::string message;
};

// The "<path>:<line>:<col>: message" lines of `vaxbot check`'s output.
std::vector<Located> diagnostics_in(const std::string& out) {
  static const std::regex kLine(R"(^(.+):(\d+):(\d+): (.+)$)");
  std::vector<Located> found;
  std::istringstream in(out);
  std::string line;
  std::smatch m;
  while (std::getline(in, line)) {
    if (std::regex_match(line, m, kLine))
      found.push_back({m[1], std::stoi(m[2]), std::stoi(m[3]), m[4]});
  }
  return found;
}

// Where `needle` starts in `text`, as a 1-based line and byte column.
std::pair<int, int> position_of(const std::string& text, const std::string& needle) {
  const auto pos = text.find(needle);
  REQUIRE(pos != std::string::npos);
  const auto line_start = text.rfind('\n', pos);
  const int line = 1 + static_cast<int>(std::count(
                           text.begin(), text.begin() + static_cast<std::ptrdiff_t>(pos), '\n'));
  const int col = static_cast<int>(line_start == std::string::npos ? pos + 1 : pos - line_start);
  return {line, col};
}

void write(const fs::path& file, const std::string& text) {
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out << text;
  REQUIRE(out.good());
}

// Replaces the first `from` in the file with `to`.
void edit(const fs::path& file, const std::string& from, const std::string& to) {
  std::string text = test::read_file(file);
  const auto pos = text.find(from);
  REQUIRE_MESSAGE(pos != std::string::npos, from);
  write(file, text.replace(pos, from.size(), to));
}

// Removes the line that defines `key` from a template file.
void remove_key(const fs::path& file, const std::string& key) {
  std::string text = test::read_file(file);
  const auto pos = text.find("\n  \"" + key + "\":");
  REQUIRE_MESSAGE(pos != std::string::npos, key);
  write(file, text.erase(pos, text.find('\n', pos + 1) - pos));
}

// A copy of the shipped templates/ to break.
fs::path copy_templates(const test::TempDir& dir) {
  const fs::path copy = dir.path() / "templates";
  fs::copy(fs::path(VAXBOT_SOURCE_DIR) / "templates", copy);
  return copy;
}

const std::string kLongButton = "Confirm this booking now";  // 24 characters; a button takes 20
const std::string kLongButtonLine = "\"btn_confirm\": \"" + kLongButton + "\"";

struct Run {
  int code;
  std::string out;
};

Run check(const std::string& templates_dir) {
  test::ChildProcess child(
      {"check", "--flows", "flows", "--templates", templates_dir, "--data", "data"}, {}, false);
  const int code = child.wait();
  return {code, child.stdout_text()};
}

}  // namespace

TEST_SUITE("check") {
  TEST_CASE("the shipped flow, templates and data pass") {
    const Run r = check("templates");
    INFO(r.out);
    CHECK(r.code == 0);
    CHECK(r.out.starts_with("ok: 10 steps, "));
    CHECK(diagnostics_in(r.out).empty());
  }

  TEST_CASE("a button text over 20 characters is named with its file, line and column") {
    test::TempDir dir;
    const fs::path templates = copy_templates(dir);
    edit(templates / "en.json", "\"btn_confirm\": \"Confirm\"", kLongButtonLine);
    const Run r = check(templates.string());
    INFO(r.out);
    CHECK(r.code == 1);
    const auto found = diagnostics_in(r.out);
    REQUIRE(found.size() == 1);
    const auto [line, col] = position_of(test::read_file(templates / "en.json"), "\"btn_confirm\"");
    CHECK(found[0].file == (templates / "en.json").string());
    CHECK(found[0].line == line);
    CHECK(found[0].col == col);
    CHECK(found[0].message ==
          "\"btn_confirm\" is 24 characters with its placeholders filled; a button title "
          "takes at most 20");
    CHECK(r.out.find("1 problem(s)") != std::string::npos);
  }

  TEST_CASE("a key missing from hi.json is named with hi.json and where else it is") {
    test::TempDir dir;
    const fs::path templates = copy_templates(dir);
    remove_key(templates / "hi.json", "cancel_kept");
    const Run r = check(templates.string());
    INFO(r.out);
    CHECK(r.code == 1);
    const auto found = diagnostics_in(r.out);
    REQUIRE(found.size() == 1);
    CHECK(found[0].file == (templates / "hi.json").string());
    CHECK(found[0].line == 1);
    CHECK(found[0].col == 1);
    CHECK(found[0].message == "missing \"cancel_kept\" (present in en.json)");
  }

  TEST_CASE("a template the flow uses but no language has is named") {
    test::TempDir dir;
    const fs::path templates = copy_templates(dir);
    for (const char* code : {"en", "bn", "hi"})
      remove_key(templates / (std::string(code) + ".json"), "btn_change_slot");
    const Run r = check(templates.string());
    INFO(r.out);
    CHECK(r.code == 1);
    const auto found = diagnostics_in(r.out);
    REQUIRE(found.size() == 1);
    CHECK(found[0].file == "flows/second_dose.json");
    CHECK(found[0].message ==
          "template \"btn_change_slot\" (step \"confirm\") is not in templates/");
  }

  TEST_CASE("a broken flow is named with its file, line and column") {
    test::TempDir dir;
    fs::create_directories(dir.path() / "flows");
    fs::copy_file(fs::path(VAXBOT_SOURCE_DIR) / "flows" / "second_dose.json",
                  dir.path() / "flows" / "second_dose.json");
    edit(dir.path() / "flows" / "second_dose.json", "\"spec_version\": 1", "\"spec_version\": 2");
    test::ChildProcess child({"check", "--flows", (dir.path() / "flows").string()}, {}, false);
    CHECK(child.wait() == 1);
    const auto found = diagnostics_in(child.stdout_text());
    REQUIRE(found.size() == 1);
    CHECK(found[0].file == (dir.path() / "flows" / "second_dose.json").string());
    CHECK(found[0].line == 5);
    CHECK(found[0].col == 3);
    CHECK(found[0].message == "\"spec_version\" must be 1");
  }
}

TEST_SUITE("check") {
  TEST_CASE("a too-long button and a missing key are both named in one run") {
    test::TempDir dir;
    const fs::path templates = copy_templates(dir);
    edit(templates / "en.json", "\"btn_confirm\": \"Confirm\"", kLongButtonLine);
    remove_key(templates / "hi.json", "cancel_kept");
    const Run r = check(templates.string());
    INFO(r.out);
    CHECK(r.code == 1);
    const auto found = diagnostics_in(r.out);
    auto named = [&](const fs::path& file, const std::string& fragment) {
      return std::any_of(found.begin(), found.end(), [&](const Located& d) {
        return d.file == file.string() && d.line >= 1 && d.col >= 1 &&
               d.message.find(fragment) != std::string::npos;
      });
    };
    CHECK(named(templates / "hi.json", "missing \"cancel_kept\""));
    CHECK(named(templates / "en.json", "\"btn_confirm\" is 24 characters"));
  }
}
