#include "cli/args.h"

#include <charconv>

namespace vaxbot::cli {

core::Result<Args> Args::parse(const std::vector<std::string>& argv,
                               const std::vector<OptionSpec>& specs) {
  Args out;
  for (std::size_t i = 0; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (!a.starts_with("--")) {
      out.positional_.push_back(a);
      continue;
    }
    std::string name = a.substr(2);
    std::string value;
    bool has_inline = false;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      has_inline = true;
    }
    const OptionSpec* spec = nullptr;
    for (const auto& s : specs) {
      if (s.name == name) spec = &s;
    }
    if (spec == nullptr) {
      return core::make_error(core::ErrorCode::kInvalidInput, "unknown option --" + name);
    }
    if (spec->takes_value && !has_inline) {
      if (i + 1 >= argv.size()) {
        return core::make_error(core::ErrorCode::kInvalidInput, "--" + name + " needs a value");
      }
      value = argv[++i];
    } else if (!spec->takes_value && has_inline) {
      return core::make_error(core::ErrorCode::kInvalidInput, "--" + name + " takes no value");
    }
    out.values_[name] = value;
  }
  return out;
}

std::string Args::get(const std::string& name, const std::string& fallback) const {
  auto it = values_.find(name);
  return it == values_.end() ? fallback : it->second;
}

core::Result<long> Args::get_int(const std::string& name, long fallback, long min, long max) const {
  auto it = values_.find(name);
  if (it == values_.end()) return fallback;
  long v = 0;
  const std::string& s = it->second;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v < min || v > max) {
    return core::make_error(core::ErrorCode::kInvalidInput,
                            "--" + name + " must be a whole number from " + std::to_string(min) +
                                " to " + std::to_string(max) + ", not '" + s + "'");
  }
  return v;
}

std::string usage(const std::string& synopsis, const std::vector<OptionSpec>& specs) {
  std::string out = "usage: " + synopsis + "\n\noptions:\n";
  for (const auto& s : specs) {
    std::string left = "  --" + s.name + (s.takes_value ? " VALUE" : "");
    if (left.size() < 28) left.resize(28, ' ');
    out += left + " " + s.help;
    if (!s.default_value.empty()) out += " (default: " + s.default_value + ")";
    out += "\n";
  }
  return out;
}

}  // namespace vaxbot::cli
