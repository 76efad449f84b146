// App: what `serve` and `chat` both run — content loaded and checked, the
// database opened, migrated and seeded, the ID key, the conversation plugged
// into the writer, and (when configured) the outbox sending replies.
// Wiring only; every part is tested on its own.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "booking/openssl_random_source.h"
#include "cli/args.h"
#include "conversation/conversation.h"
#include "core/clock.h"
#include "core/metrics.h"
#include "outbox/outbox.h"
#include "store/checkpointer.h"
#include "store/database.h"
#include "store/writer.h"

namespace vaxbot::cli {

struct AppOptions {
  conversation::ContentPaths content;
  store::DatabaseOptions database;
  store::WriterOptions writer;
  std::string id_key_file;                      // empty: "<db>.idkey"
  std::optional<outbox::OutboxOptions> outbox;  // unset: replies wait in the outbox unsent
};

class App {
 public:
  // Prints what is wrong (file:line:col for content) to stderr and returns an error.
  static core::Result<std::unique_ptr<App>> open(const AppOptions& options,
                                                 const core::Clock& clock, core::Registry& metrics);
  store::Writer& writer() { return *writer_; }
  outbox::Outbox* outbox() { return outbox_.get(); }
  // In order: the outbox finishes its sends, the writer commits what is queued, the checkpointer
  // stops.
  void stop();
  ~App();  // stops

 private:
  App() = default;
  conversation::Content content_;
  booking::OpenSslRandomSource random_;
  // The writer owns the database, so it is declared first and destroyed last:
  // the conversation's prepared statements must go before the connection.
  std::unique_ptr<store::Writer> writer_;
  std::unique_ptr<conversation::Conversation> conversation_;
  std::unique_ptr<outbox::Outbox> outbox_;
  std::unique_ptr<store::Checkpointer> checkpointer_;
};

// The --flows, --templates and --data options every content-reading command takes.
std::vector<OptionSpec> with_content_options(std::vector<OptionSpec> specs);
conversation::ContentPaths content_paths(const Args& args);

// The key under which ID numbers are hashed: $VAXBOT_ID_KEY, or the key file,
// created with a new random key (mode 0600) the first time.
core::Result<std::string> id_key(const std::string& file);

}  // namespace vaxbot::cli
