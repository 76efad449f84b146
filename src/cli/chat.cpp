// vaxbot chat: be a resident in the terminal. Each line typed goes through
// the same path as a WhatsApp message (writer, conversation, outbox); the
// replies are read back from the outbox and shown, interactive options as
// numbered lines (type the number, or the option's title, as on WhatsApp).
// "/photo", "/sticker" and "/location" send those kinds of message instead.
#include <atomic>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/app.h"
#include "cli/args.h"
#include "cli/commands.h"
#include "core/log.h"
#include "store/conversation_store.h"

namespace vaxbot::cli {
namespace {

const std::vector<OptionSpec> kChatOptions = with_content_options({
    {"db", true, "SQLite database file (a separate one keeps trials out of the real data)",
     "vaxbot-chat.db"},
    {"from", true, "the resident's WhatsApp number", "919800000000"},
    {"name", true, "the resident's profile name", "Chat tester"},
    {"help", false, "show this help", ""},
});

// Prints one Cloud API send body as the resident would see it.
void show(const std::string& body, std::ostream& out) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded()) return;
  out << "\n";
  if (j.value("type", "") == "text") {
    out << j["text"].value("body", "") << "\n";
    return;
  }
  const auto& inter = j["interactive"];
  out << inter["body"].value("text", "") << "\n";
  int n = 0;
  if (inter.value("type", "") == "button") {
    for (const auto& b : inter["action"]["buttons"])
      out << "  [" << ++n << "] " << b["reply"].value("title", "") << "\n";
  } else {
    out << "  (" << inter["action"].value("button", "") << ")\n";
    for (const auto& section : inter["action"]["sections"]) {
      for (const auto& row : section["rows"]) {
        out << "  [" << ++n << "] " << row.value("title", "");
        if (row.contains("description")) out << " - " << row.value("description", "");
        out << "\n";
      }
    }
  }
}

}  // namespace

int chat(const std::vector<std::string>& argv) {
  auto parsed = Args::parse(argv, kChatOptions);
  if (!parsed.ok()) {
    std::cerr << "vaxbot chat: " << parsed.error().message << "\n"
              << usage("vaxbot chat [options]", kChatOptions);
    return 2;
  }
  const Args& args = *parsed;
  if (args.has("help")) {
    std::cout
        << usage("vaxbot chat [options]", kChatOptions)
        << "\nType as a resident would; /photo, /sticker, /location send those; Ctrl-D ends.\n";
    return 0;
  }
  core::set_log_level("warn");
  core::SystemClock clock;
  core::Registry metrics;
  AppOptions options;
  options.content = content_paths(args);
  options.database.path = args.get("db", "vaxbot-chat.db");
  auto app = App::open(options, clock, metrics);
  if (!app.ok()) {
    std::cerr << "vaxbot chat: " << app.error().message << "\n";
    return 1;
  }
  store::DatabaseOptions reader_options = options.database;
  reader_options.read_only = true;
  auto reader = store::Database::open(reader_options);
  if (!reader.ok()) {
    std::cerr << "vaxbot chat: " << reader.error().message << "\n";
    return 1;
  }
  store::ConversationStore outbox(**reader);
  auto last = outbox.outbox_after(0);
  std::int64_t seen = last.ok() && !last->empty() ? last->back().id : 0;

  const std::string from = args.get("from", "919800000000");
  std::cout << "vaxbot chat as " << from << ": type a message (Ctrl-D to end)\n> " << std::flush;
  std::string line;
  for (int n = 0; std::getline(std::cin, line); ++n) {
    core::InboundMessage m;
    m.id = "chat." + std::to_string(clock.now_ms()) + "." + std::to_string(n);
    m.from = from;
    m.profile_name = args.get("name", "Chat tester");
    m.timestamp = clock.now_ms() / 1000;
    m.kind = core::MessageKind::kText;
    m.text = line;
    if (line == "/photo") m.kind = core::MessageKind::kImage;
    if (line == "/sticker") m.kind = core::MessageKind::kSticker;
    if (line == "/location") {
      m.kind = core::MessageKind::kLocation;
      m.latitude = 22.57;
      m.longitude = 88.36;
    }
    if (m.kind != core::MessageKind::kText) m.text.clear();
    auto r = (*app)->writer().submit({m}, std::chrono::seconds(30));
    if (!r.ok()) {
      std::cerr << "vaxbot chat: " << r.error().message << "\n";
      return 1;
    }
    auto rows = outbox.outbox_after(seen);
    if (!rows.ok()) {
      std::cerr << "vaxbot chat: " << rows.error().message << "\n";
      return 1;
    }
    for (const auto& row : *rows) {
      show(row.body, std::cout);
      seen = row.id;
    }
    std::cout << "\n> " << std::flush;
  }
  std::cout << "\n";
  return 0;
}

}  // namespace vaxbot::cli
