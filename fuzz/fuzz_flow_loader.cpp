// libFuzzer target for flow/flow.h: parse_flow on any bytes.
// Invariants checked on every input:
//  - it never crashes, throws or trips a sanitizer;
//  - it succeeds exactly when it reported no problem, and every problem is
//    located inside the input (1-based line and column) under the given name;
//  - a flow that loaded is internally consistent: the start step exists, every
//    route's goto names a step, the time zone is within +-14 h, and each step obeys the rules the
//    loader enforces (a choice has options, at most 3 fixed options, an end step waits for nothing,
//    any other step waits for input and has somewhere to go, the last route has no condition, every
//    word is in the vocabulary).
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "flow/flow.h"
#include "fuzz_check.h"

namespace {

const std::string kName = "fuzz.json";

bool known(const std::vector<std::string>& words, const std::string& w) {
  return std::find(words.begin(), words.end(), w) != words.end();
}

void check_consistent(const vaxbot::flow::Flow& f) {
  using vaxbot::flow::InputKind;
  FUZZ_CHECK(f.step(f.start) != nullptr);
  FUZZ_CHECK(f.utc_offset_minutes >= -14 * 60 && f.utc_offset_minutes <= 14 * 60);
  for (const auto& [name, s] : f.steps) {
    FUZZ_CHECK(s.name == name);
    for (const auto& r : s.next) {
      FUZZ_CHECK(f.step(r.go_to) != nullptr);
      FUZZ_CHECK(r.when.empty() || r.when.starts_with("answer:") ||
                 known(vaxbot::flow::conditions(), r.when));
      FUZZ_CHECK(r.action.empty() || known(vaxbot::flow::actions(), r.action));
    }
    FUZZ_CHECK(s.next.empty() || s.next.back().when.empty());
    FUZZ_CHECK(s.options_from.empty() || known(vaxbot::flow::data_sources(), s.options_from));
    FUZZ_CHECK(s.options.size() <= 3);
    if (s.input == InputKind::kChoice) FUZZ_CHECK(!s.options.empty() || !s.options_from.empty());
    if (s.end) FUZZ_CHECK(s.input == InputKind::kNone);
    if (!s.end) FUZZ_CHECK(s.input != InputKind::kNone && !s.next.empty());
  }
  for (const auto& [key, step] : f.template_keys())
    FUZZ_CHECK(step == "welcome" || f.step(step) != nullptr);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const int lines = 1 + static_cast<int>(std::count(text.begin(), text.end(), '\n'));
  std::vector<vaxbot::core::Diagnostic> problems;
  auto loaded = vaxbot::flow::parse_flow(text, kName, problems);
  FUZZ_CHECK(loaded.ok() == problems.empty());
  for (const auto& d : problems) {
    FUZZ_CHECK(d.file == kName);
    FUZZ_CHECK(d.line >= 1 && d.line <= lines);
    FUZZ_CHECK(d.col >= 1 && static_cast<std::size_t>(d.col) <= size + 1);
    FUZZ_CHECK(!d.message.empty());
  }
  if (loaded.ok()) check_consistent(*loaded);
  return 0;
}
