#include "flow/flow.h"

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace vaxbot::flow {
namespace {

using nlohmann::json;

bool contains(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

std::optional<InputKind> input_kind(std::string_view s) {
  if (s == "none") return InputKind::kNone;
  if (s == "date") return InputKind::kDate;
  if (s == "choice") return InputKind::kChoice;
  if (s == "id_number") return InputKind::kIdNumber;
  return std::nullopt;
}

class Reader {
 public:
  Reader(std::string_view text, std::string name, std::vector<core::Diagnostic>& problems)
      : text_(text), name_(std::move(name)), problems_(problems) {}

  // Problems inside a step are located at the step's definition ("name": {),
  // not at the first mention of its name (often an earlier "goto").
  void in_step(std::string name) { step_ = std::move(name); }

  void fail(std::string_view key, std::string message) {
    if (!step_.empty() && key == step_) {
      problems_.push_back(core::at_definition(name_, text_, key, std::move(message)));
    } else {
      problems_.push_back(core::at_key(name_, text_, key, std::move(message)));
    }
  }

  std::string str(const json& j, const char* key, std::string_view where, bool required) {
    auto it = j.find(key);
    if (it == j.end()) {
      if (required) fail(where, std::string(where) + ": \"" + key + "\" is required");
      return {};
    }
    if (!it->is_string()) {
      fail(where, std::string(where) + ": \"" + key + "\" must be a string");
      return {};
    }
    return it->get<std::string>();
  }

 private:
  std::string_view text_;
  std::string name_;
  std::vector<core::Diagnostic>& problems_;
  std::string step_;
};

}  // namespace

const std::vector<std::string>& input_kinds() {
  static const std::vector<std::string> v = {"none", "date", "choice", "id_number"};
  return v;
}
const std::vector<std::string>& data_sources() {
  static const std::vector<std::string> v = {"vaccines", "centres", "slots", "id_types"};
  return v;
}
const std::vector<std::string>& conditions() {
  static const std::vector<std::string> v = {"eligible", "id_type_known", "has_active_booking"};
  return v;
}
const std::vector<std::string>& actions() {
  static const std::vector<std::string> v = {"book"};
  return v;
}

const Step* Flow::step(std::string_view name) const {
  auto it = steps.find(name);
  return it == steps.end() ? nullptr : &it->second;
}

std::vector<std::pair<std::string, std::string>> Flow::template_keys() const {
  std::vector<std::pair<std::string, std::string>> out;
  if (!welcome.empty()) out.emplace_back(welcome, "welcome");
  for (const auto& [name, s] : steps) {
    if (!s.prompt.empty()) out.emplace_back(s.prompt, name);
    if (!s.button.empty()) out.emplace_back(s.button, name);
    for (const auto& o : s.options) out.emplace_back(o.title, name);
  }
  return out;
}

core::Result<Flow> parse_flow(std::string_view text, const std::string& name,
                              std::vector<core::Diagnostic>& problems) {
  const std::size_t before = problems.size();
  auto invalid = [] {
    return core::make_error(core::ErrorCode::kInvalidInput, "flow has problems");
  };
  json root;
  try {
    root = json::parse(text, nullptr, true, /*ignore_comments=*/true);
  } catch (const json::parse_error& e) {
    core::Diagnostic d{name, 1, 1, std::string("not valid JSON: ") + e.what()};
    core::locate(text, e.byte > 0 ? e.byte - 1 : 0, d.line, d.col);
    problems.push_back(d);
    return invalid();
  } catch (const json::exception& e) {  // e.g. a number too large for a double
    problems.push_back({name, 1, 1, std::string("not usable JSON: ") + e.what()});
    return invalid();
  }
  Reader r(text, name, problems);
  if (!root.is_object()) {
    problems.push_back({name, 1, 1, "a flow must be a JSON object"});
    return invalid();
  }
  Flow flow;
  auto version = root.find("spec_version");
  if (version == root.end() || !version->is_number_integer() ||
      version->get<std::int64_t>() != kSpecVersion) {
    r.fail("spec_version", "\"spec_version\" must be " + std::to_string(kSpecVersion));
  }
  flow.id = r.str(root, "id", "id", true);
  flow.start = r.str(root, "start", "start", true);
  flow.welcome = r.str(root, "welcome", "welcome", false);
  if (auto off = root.find("utc_offset_minutes"); off != root.end()) {
    const std::int64_t minutes = off->is_number_integer() ? off->get<std::int64_t>() : 1'000'000;
    if (minutes < -14 * 60 || minutes > 14 * 60) {
      r.fail("utc_offset_minutes", "\"utc_offset_minutes\" must be whole minutes from -840 to 840");
    } else {
      flow.utc_offset_minutes = static_cast<int>(minutes);
    }
  }
  auto steps = root.find("steps");
  if (steps == root.end() || !steps->is_object() || steps->empty()) {
    r.fail("steps", "\"steps\" must be an object of named steps");
    return invalid();
  }
  for (const auto& item : steps->items()) {
    const std::string& step_name = item.key();
    const json& j = item.value();
    r.in_step(step_name);
    if (step_name.empty()) r.fail(step_name, "a step needs a name");
    if (!j.is_object()) {
      r.fail(step_name, "step \"" + step_name + "\" must be an object");
      continue;
    }
    static const std::vector<std::string> kKeys = {"prompt", "input",   "options_from", "options",
                                                   "button", "save_as", "next",         "end"};
    for (const auto& [k, v] : j.items()) {
      if (!contains(kKeys, k))
        r.fail(step_name, "step \"" + step_name + "\": unknown key \"" + k + "\"");
    }
    Step s;
    s.name = step_name;
    s.prompt = r.str(j, "prompt", step_name, true);
    const std::string input = r.str(j, "input", step_name, false);
    const bool input_known = input.empty() || input_kind(input).has_value();
    if (!input.empty()) {
      if (auto kind = input_kind(input)) {
        s.input = *kind;
      } else {
        r.fail(step_name, "step \"" + step_name + "\": unknown input \"" + input + "\"");
      }
    }
    s.options_from = r.str(j, "options_from", step_name, false);
    if (!s.options_from.empty() && !contains(data_sources(), s.options_from)) {
      r.fail(step_name,
             "step \"" + step_name + "\": unknown data source \"" + s.options_from + "\"");
    }
    if (auto opts = j.find("options"); opts != j.end()) {
      if (!opts->is_array()) {
        r.fail(step_name, "step \"" + step_name + "\": \"options\" must be an array");
      } else {
        for (const auto& o : *opts) {
          if (!o.is_object()) {
            r.fail(step_name, "step \"" + step_name + "\": each option needs an id and a title");
            continue;
          }
          StaticOption so{r.str(o, "id", step_name, true), r.str(o, "title", step_name, true)};
          s.options.push_back(so);
        }
        if (s.options.size() > 3) {
          r.fail(step_name,
                 "step \"" + step_name + "\": at most 3 fixed options (WhatsApp reply buttons)");
        }
      }
    }
    if (s.input == InputKind::kChoice && s.options_from.empty() && s.options.empty()) {
      r.fail(step_name,
             "step \"" + step_name + "\": a choice needs \"options\" or \"options_from\"");
    }
    s.button = r.str(j, "button", step_name, false);
    s.save_as = r.str(j, "save_as", step_name, false);
    if (auto end = j.find("end"); end != j.end()) {
      if (end->is_boolean()) {
        s.end = end->get<bool>();
      } else {
        r.fail(step_name, "step \"" + step_name + "\": \"end\" must be true or false");
      }
    }
    if (auto next = j.find("next"); next != j.end()) {
      if (next->is_string()) {
        s.next.push_back({"", "", next->get<std::string>()});
      } else if (next->is_array()) {
        for (const auto& route : *next) {
          if (!route.is_object()) {
            r.fail(step_name, "step \"" + step_name + "\": each route must be an object");
            continue;
          }
          Route rt{r.str(route, "when", step_name, false), r.str(route, "action", step_name, false),
                   r.str(route, "goto", step_name, true)};
          if (!rt.when.empty() && !rt.when.starts_with("answer:") &&
              !contains(conditions(), rt.when)) {
            r.fail(step_name, "step \"" + step_name + "\": unknown condition \"" + rt.when + "\"");
          }
          if (!rt.action.empty() && !contains(actions(), rt.action)) {
            r.fail(step_name, "step \"" + step_name + "\": unknown action \"" + rt.action + "\"");
          }
          s.next.push_back(rt);
        }
      } else {
        r.fail(step_name,
               "step \"" + step_name + "\": \"next\" must be a step name or a list of routes");
      }
    }
    if (s.end && s.input != InputKind::kNone) {
      r.fail(step_name, "step \"" + step_name + "\": an end step cannot wait for input");
    }
    if (!s.end && s.input == InputKind::kNone && input_known) {
      r.fail(step_name, "step \"" + step_name + "\": needs an \"input\" or \"end\": true");
    }
    if (!s.end && s.next.empty()) r.fail(step_name, "step \"" + step_name + "\": needs \"next\"");
    if (!s.next.empty() && !s.next.back().when.empty()) {
      r.fail(step_name,
             "step \"" + step_name + "\": the last route must have no \"when\" (the default)");
    }
    flow.steps.emplace(step_name, std::move(s));
  }
  r.in_step({});
  if (root.contains("start") && flow.step(flow.start) == nullptr) {
    r.fail("start", "\"start\" names no step: \"" + flow.start + "\"");
  }
  for (const auto& [n, s] : flow.steps) {
    for (const auto& rt : s.next) {
      if (flow.step(rt.go_to) == nullptr) {
        r.in_step(n);
        r.fail(n, "step \"" + n + "\": goto names no step: \"" + rt.go_to + "\"");
      }
    }
  }
  if (problems.size() > before) return invalid();
  return flow;
}

core::Result<Flow> load_flow(const std::filesystem::path& file,
                             std::vector<core::Diagnostic>& problems) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    problems.push_back({file.string(), 1, 1, "cannot read the file"});
    return core::make_error(core::ErrorCode::kNotFound, "cannot read " + file.string());
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return parse_flow(ss.str(), file.string(), problems);
}

}  // namespace vaxbot::flow
