// vaxbot: a WhatsApp booking bot for second-dose vaccination slots.
// This file only dispatches to the subcommands in cli/.
#include <iostream>
#include <string>
#include <vector>

#include "cli/commands.h"

namespace {

constexpr const char* kUsage =
    "usage: vaxbot COMMAND [options]\n"
    "\n"
    "commands:\n"
    "  serve     run the webhook server (vaxbot serve --help)\n"
    "  import-slots  add/update centres and slots from a CSV file (vaxbot import-slots --help)\n"
    "\n"
    "  vaxbot --version    print the version\n"
    "  vaxbot --help       print this help\n";

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    std::cerr << kUsage;
    return 2;
  }
  const std::string command = args.front();
  args.erase(args.begin());
  if (command == "--help" || command == "-h" || command == "help") {
    std::cout << kUsage;
    return 0;
  }
  if (command == "--version") {
    std::cout << "vaxbot " << VAXBOT_VERSION << "\n";
    return 0;
  }
  if (command == "serve") return vaxbot::cli::serve(args);
  if (command == "import-slots") return vaxbot::cli::import_slots(args);
  std::cerr << "vaxbot: unknown command '" << command << "'\n" << kUsage;
  return 2;
}
