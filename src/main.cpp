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
    "  serve         run the webhook server\n"
    "  chat          talk to the bot as a resident, in the terminal\n"
    "  check         validate flows/, templates/ and data/\n"
    "  import-slots  add or update centres and slots from a CSV file\n"
    "  (vaxbot COMMAND --help tells more)\n"
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
  if (command == "chat") return vaxbot::cli::chat(args);
  if (command == "check") return vaxbot::cli::check(args);
  std::cerr << "vaxbot: unknown command '" << command << "'\n" << kUsage;
  return 2;
}
