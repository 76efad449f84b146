#include "cli/app.h"

#include <openssl/rand.h>
#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <iostream>

#include "booking/id_proof.h"
#include "core/hex.h"
#include "core/log.h"
#include "store/slot_store.h"

namespace vaxbot::cli {

std::vector<OptionSpec> with_content_options(std::vector<OptionSpec> specs) {
  specs.insert(specs.begin(), {{"flows", true, "directory of conversation flows", "flows"},
                               {"templates", true, "directory of message templates", "templates"},
                               {"data", true, "directory of centres, slots and vaccines", "data"}});
  return specs;
}

conversation::ContentPaths content_paths(const Args& args) {
  conversation::ContentPaths paths;
  paths.flows = args.get("flows", "flows");
  paths.templates = args.get("templates", "templates");
  paths.data = args.get("data", "data");
  return paths;
}

core::Result<std::string> id_key(const std::string& file) {
  if (const char* env = std::getenv("VAXBOT_ID_KEY"); env != nullptr && *env != '\0') {
    if (std::string(env).size() < 32) {
      return core::make_error(core::ErrorCode::kInvalidInput,
                              "VAXBOT_ID_KEY must be at least 32 characters");
    }
    return std::string(env);
  }
  std::ifstream in(file);
  std::string key;
  if (in && std::getline(in, key) && key.size() >= 32) return key;
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof bytes) != 1) {
    return core::make_error(core::ErrorCode::kInternal, "no random bytes for a new ID key");
  }
  key = core::to_hex(bytes, sizeof bytes);
  const mode_t old = umask(077);
  std::ofstream out(file, std::ios::trunc);
  out << key << "\n";
  out.close();
  umask(old);
  if (!out)
    return core::make_error(core::ErrorCode::kUnavailable, "cannot write the ID key to " + file);
  core::logger("main")->warn(
      "created a new ID key in {}: keep it with the database; without it existing "
      "bookings cannot be matched to residents' ID numbers",
      file);
  return key;
}

App::~App() {
  stop();
}

void App::stop() {
  if (outbox_) outbox_->stop();
  if (writer_) writer_->stop();
  if (checkpointer_) checkpointer_->stop();
}

core::Result<std::unique_ptr<App>> App::open(const AppOptions& options, const core::Clock& clock,
                                             core::Registry& metrics) {
  auto log = core::logger("main");
  std::unique_ptr<App> app(new App());
  std::vector<core::Diagnostic> problems;
  auto content = conversation::load_content(options.content, problems);
  if (!content.ok()) {
    for (const auto& d : problems) std::cerr << core::to_string(d) << "\n";
    return core::make_error(
        core::ErrorCode::kInvalidInput,
        std::to_string(problems.size()) + " problem(s) in flows/, templates/ or data/");
  }
  app->content_ = std::move(*content);
  auto key =
      id_key(options.id_key_file.empty() ? options.database.path + ".idkey" : options.id_key_file);
  if (!key.ok()) return key.error();

  store::DatabaseOptions db_options = options.database;
  db_options.redact = [](std::string_view text) { return booking::mask_id_numbers_in_text(text); };
  db_options.checkpoint_on_commit = false;  // the checkpointer thread does it
  auto db = store::Database::open(db_options);
  if (!db.ok()) return db.error();
  {
    // Demo centres and slots go only into a database without venues.
    store::SlotStore slots(**db);
    const booking::CivilDate today =
        booking::local_date(clock.now_ms(), app->content_.flow.utc_offset_minutes);
    if (auto st = (*db)->begin(); !st.ok()) return st.error();
    auto seeded = slots.seed_if_empty(app->content_.catalog, today);
    // The weekly schedule keeps the next 14 days of slots in place across restarts.
    auto added =
        seeded.ok() ? slots.add_missing_slots(app->content_.catalog, today) : core::Result<int>(0);
    if (!seeded.ok() || !added.ok() || !(*db)->commit().ok()) {
      (*db)->rollback();
      if (!seeded.ok()) return seeded.error();
      return added.ok() ? core::make_error(core::ErrorCode::kUnavailable, "seeding failed")
                        : added.error();
    }
    if (*seeded)
      log->info("seeded the demo centres and slots from {}", options.content.data.string());
    if (*added > 0) log->info("added {} slots from the weekly schedule", *added);
  }
  app->conversation_ = std::make_unique<conversation::Conversation>(app->content_, clock,
                                                                    app->random_, std::move(*key));
  conversation::Conversation* conv = app->conversation_.get();
  app->writer_ = std::make_unique<store::Writer>(
      std::move(*db), clock, metrics, options.writer,
      [conv](store::Database& d, const core::Event& e) { return conv->handle(d, e); });
  store::Writer* writer = app->writer_.get();
  auto checkpointer = store::Checkpointer::start(options.database, std::chrono::milliseconds(200),
                                                 [writer] { writer->request_wal_truncate(); });
  if (!checkpointer.ok()) return checkpointer.error();
  app->checkpointer_ = std::move(*checkpointer);
  if (options.outbox) {
    app->outbox_ = std::make_unique<outbox::Outbox>(*app->writer_, clock, metrics, *options.outbox);
    outbox::Outbox* out = app->outbox_.get();
    app->writer_->set_commit_listener(
        [out](const std::vector<std::string>& ids) { out->committed(ids); });
    if (auto st = app->outbox_->start(); !st.ok()) return st.error();
  }
  return app;
}

}  // namespace vaxbot::cli
