// Database: vaxbot's one SQLite file, its schema, and the statements the writer runs.
//
// store/ is the only module that touches SQLite. A Database is one connection:
// open() applies the pragmas (WAL; synchronous FULL unless told otherwise),
// creates or migrates the schema (PRAGMA user_version), and prepares the
// statements it will reuse. Not thread-safe: the writer thread owns the
// read-write connection; readers (health checks, metrics, admin pages) open
// their own read-only Database, which WAL lets them use while the writer writes.
//
// Every method that can fail returns a Result; SQLite exceptions never escape.
// record() must run inside a transaction begun with begin() on the writer's
// connection.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "core/event.h"
#include "core/result.h"

namespace SQLite {
class Database;
}

namespace vaxbot::store {

enum class Synchronous { kFull, kNormal };

struct DatabaseOptions {
  std::string path = "vaxbot.db";
  Synchronous synchronous = Synchronous::kFull;
  bool read_only = false;
  int busy_timeout_ms = 5000;
  // For fault tests: cap the file at this many pages so writes fail with
  // "database or disk is full". 0 = no cap.
  std::int64_t max_page_count = 0;
  // Applied to the words of every message before it is stored (the caller
  // masks ID numbers with it). Unset: stored as received.
  std::function<std::string(std::string_view)> redact;
  // false: no automatic WAL checkpoint in COMMIT (a Checkpointer thread does it).
  bool checkpoint_on_commit = true;
};

// What became of one event offered to the store.
enum class Recorded { kNew, kDuplicate };

class Database {
 public:
  static core::Result<std::unique_ptr<Database>> open(const DatabaseOptions& options);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // Transactions on this connection. commit()/rollback() end the one begin() started.
  core::Status begin();
  core::Status commit();
  void rollback();  // never fails; safe when no transaction is open

  // Records an event: a message once per message id (a row of `messages`,
  // its words redacted; ids are kept for good, so a re-delivery is recognised
  // whenever it comes), a status once per (message id, state), an unusable
  // part always. received_at: Unix ms.
  core::Result<Recorded> record(const core::Event& event, std::int64_t received_at_ms);

  // A cheap query that proves the file is readable.
  core::Status ping();

  // kPassive copies what it can of the WAL into the database without waiting
  // for anyone. kTruncate copies all of it, waiting (up to the busy timeout)
  // for readers, and empties the WAL file: only the writer's thread should ask
  // for it, between transactions, since a log that is always being appended to
  // is never rewound by passive checkpoints alone.
  enum class Checkpoint { kPassive, kTruncate };
  core::Status checkpoint(Checkpoint mode = Checkpoint::kPassive);

  int schema_version() const;

  // The connection itself, for the repositories in store/ (nothing outside
  // store/ includes SQLiteCpp). SQLite exceptions must be caught in store/.
  SQLite::Database& handle();

 private:
  struct Impl;
  explicit Database(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace vaxbot::store
