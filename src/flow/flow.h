// Flow: the definition of a conversation, loaded from flows/*.json.
//
// A flow is a set of named steps. A step says what to send (a template key),
// what input it waits for, where to keep the answer and where to go next:
//
//   { "spec_version": 1, "id": "second_dose", "start": "first_dose_date",
//     "welcome": "welcome", "utc_offset_minutes": 330,
//     "steps": {
//       "first_dose_date": { "prompt": "ask_first_dose_date", "input": "date",
//                            "save_as": "first_dose_date", "next": "vaccine" },
//       "vaccine": { "prompt": "ask_vaccine", "input": "choice", "options_from": "vaccines",
//                    "save_as": "vaccine",
//                    "next": [ { "when": "eligible", "goto": "id_number" },
//                              { "goto": "not_yet_eligible" } ] },
//       ... } }
//
// The vocabulary (input kinds, data sources, conditions, actions) is built
// into the engine and listed in docs/flows.md; everything else is data.
// load_flow() accepts // and /* */ comments and reports every problem as a
// file:line:col diagnostic; a Flow that loaded is internally consistent
// (every goto names a step, every word is known). Immutable, thread-safe.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/diagnostic.h"
#include "core/result.h"

namespace vaxbot::flow {

inline constexpr int kSpecVersion = 1;

enum class InputKind { kNone, kDate, kChoice, kIdNumber };

// A fixed option of a choice step: a reply id and the template key of its title.
struct StaticOption {
  std::string id;
  std::string title;  // template key
};

// One branch of "next": taken when `when` holds (empty: always); `action`
// (empty, or "book") runs first.
struct Route {
  std::string when;
  std::string action;
  std::string go_to;
};

struct Step {
  std::string name;
  std::string prompt;  // template key
  InputKind input = InputKind::kNone;
  std::string options_from;  // data source of a choice: vaccines, centres, slots, id_types
  std::vector<StaticOption> options;
  std::string button;   // template key of the list button label (lists only)
  std::string save_as;  // variable that keeps the answer
  std::vector<Route> next;
  bool end = false;  // the conversation ends after sending the prompt
};

struct Flow {
  int spec_version = kSpecVersion;
  std::string id;
  std::string start;
  std::string welcome;  // template key of the first message (asks the start step's question)
  int utc_offset_minutes = 330;
  std::map<std::string, Step, std::less<>> steps;

  const Step* step(std::string_view name) const;
  // Every template key the flow refers to, with the step that uses it.
  std::vector<std::pair<std::string, std::string>> template_keys() const;
};

// The words of the vocabulary, for validation and docs.
const std::vector<std::string>& input_kinds();
const std::vector<std::string>& data_sources();
const std::vector<std::string>& conditions();  // "answer:<id>" is also accepted
const std::vector<std::string>& actions();

core::Result<Flow> load_flow(const std::filesystem::path& file,
                             std::vector<core::Diagnostic>& problems);
// The same from text (the fuzzer and tests use it); `name` is used in diagnostics.
core::Result<Flow> parse_flow(std::string_view text, const std::string& name,
                              std::vector<core::Diagnostic>& problems);

}  // namespace vaxbot::flow
