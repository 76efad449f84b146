// Conversation: one inbound event end to end, inside the writer's transaction.
//
// handle() is the Writer's hook. For a resident's message it loads their
// session, runs the flow engine (pure) against a view of the store, applies
// the effects (book a seat with its capacity check, cancel), saves the
// session, appends the message and the replies to the transcript (ID numbers
// masked) and queues the replies in the outbox — all in the transaction the
// writer commits before Meta gets its 200. Nothing here is half-done: an
// error rolls the whole webhook back and Meta re-sends it.
//
// Content (flow, templates, catalog) is loaded once and validated: load()
// refuses content with any problem, as `vaxbot check` reports it.
// Not thread-safe: it runs on the writer thread only.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "booking/booking_reference.h"
#include "booking/catalog.h"
#include "core/clock.h"
#include "core/diagnostic.h"
#include "core/event.h"
#include "core/result.h"
#include "flow/flow.h"
#include "store/database.h"
#include "templates/templates.h"

namespace vaxbot::conversation {

struct Content {
  flow::Flow flow;
  templates::Templates texts;
  booking::Catalog catalog;
};

struct ContentPaths {
  std::filesystem::path flows = "flows";
  std::filesystem::path templates = "templates";
  std::filesystem::path data = "data";
  std::string flow_file = "second_dose.json";
};

// Loads and cross-checks everything staff edit: every template key the flow
// and the engine use exists in every language, every text fits WhatsApp's
// limits. Problems are appended to `problems` as file:line:col diagnostics.
core::Result<Content> load_content(const ContentPaths& paths,
                                   std::vector<core::Diagnostic>& problems);

class Conversation {
 public:
  // id_key: the server key under which ID numbers are hashed (HMAC-SHA256).
  Conversation(const Content& content, const core::Clock& clock, booking::RandomSource& random,
               std::string id_key);
  ~Conversation();
  Conversation(const Conversation&) = delete;
  Conversation& operator=(const Conversation&) = delete;

  core::Status handle(store::Database& db, const core::Event& event);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// HMAC-SHA256 of a normalised ID number under key, as lowercase hex.
std::string id_hash(const std::string& key, const std::string& normalised_id);

}  // namespace vaxbot::conversation
