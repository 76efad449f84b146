// The subcommands of the vaxbot binary. Each takes the arguments after its
// name and returns the process exit code: 0 success, 1 failure, 2 bad usage.
#pragma once

#include <string>
#include <vector>

namespace vaxbot::cli {

int serve(const std::vector<std::string>& args);
int import_slots(const std::vector<std::string>& args);
int chat(const std::vector<std::string>& args);
int check(const std::vector<std::string>& args);

}  // namespace vaxbot::cli
