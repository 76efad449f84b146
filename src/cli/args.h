// Args: the small command-line parser every subcommand shares.
//
// Accepts "--name value", "--name=value" and boolean "--flag". Each command
// declares its options; anything undeclared is an error naming the option.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/result.h"

namespace vaxbot::cli {

struct OptionSpec {
  std::string name;  // without "--"
  bool takes_value = true;
  std::string help;
  std::string default_value;  // shown in --help
};

class Args {
 public:
  static core::Result<Args> parse(const std::vector<std::string>& argv,
                                  const std::vector<OptionSpec>& specs);

  bool has(const std::string& name) const { return values_.count(name) > 0; }
  std::string get(const std::string& name, const std::string& fallback = "") const;
  // Integer value within [min, max]; an error names the option.
  core::Result<long> get_int(const std::string& name, long fallback, long min, long max) const;
  const std::vector<std::string>& positional() const { return positional_; }

 private:
  std::map<std::string, std::string> values_;
  std::vector<std::string> positional_;
};

std::string usage(const std::string& synopsis, const std::vector<OptionSpec>& specs);

}  // namespace vaxbot::cli
