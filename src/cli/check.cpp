// vaxbot check: validates what staff edit — the flow, every template in every
// language (keys, placeholders, WhatsApp's length limits) and data/ — and
// prints each problem as file:line:col: message. Exit 0 when all is well, 1
// otherwise. `serve` and `chat` refuse to start on the same problems.
#include <iostream>

#include "cli/app.h"
#include "cli/args.h"
#include "cli/commands.h"
#include "conversation/conversation.h"
#include "core/log.h"

namespace vaxbot::cli {
namespace {

const std::vector<OptionSpec> kCheckOptions = with_content_options({
    {"help", false, "show this help", ""},
});

}  // namespace

int check(const std::vector<std::string>& argv) {
  auto parsed = Args::parse(argv, kCheckOptions);
  if (!parsed.ok()) {
    std::cerr << "vaxbot check: " << parsed.error().message << "\n"
              << usage("vaxbot check [options]", kCheckOptions);
    return 2;
  }
  if (parsed->has("help")) {
    std::cout << usage("vaxbot check [options]", kCheckOptions);
    return 0;
  }
  core::set_log_level("warn");
  const conversation::ContentPaths paths = content_paths(*parsed);
  std::vector<core::Diagnostic> problems;
  auto content = conversation::load_content(paths, problems);
  for (const auto& d : problems) std::cout << core::to_string(d) << "\n";
  if (!content.ok() || !problems.empty()) {
    std::cout << problems.size() << " problem(s)\n";
    return 1;
  }
  std::cout << "ok: " << content->flow.steps.size() << " steps, " << content->texts.keys().size()
            << " templates in 3 languages, " << content->catalog.centres.size() << " centres\n";
  return 0;
}

}  // namespace vaxbot::cli
