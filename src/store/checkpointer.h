// Checkpointer: copies the WAL back into the database file on its own thread.
//
// SQLite's automatic checkpoint runs inside whichever COMMIT crosses the
// threshold, i.e. on the writer thread, where it cost ~11% of the writer's
// time under load. The writer's connection turns it off (wal_autocheckpoint
// = 0) and this thread, on its own connection, runs a PASSIVE checkpoint
// (which never blocks the writer) every interval. Start after the writer's
// connection is open; stop() (also the destructor) joins.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "core/result.h"
#include "store/database.h"

namespace vaxbot::store {

class Checkpointer {
 public:
  static core::Result<std::unique_ptr<Checkpointer>> start(const DatabaseOptions& options,
                                                           std::chrono::milliseconds interval);
  ~Checkpointer();
  void stop();

 private:
  Checkpointer() = default;
  void run();

  std::unique_ptr<Database> db_;
  std::chrono::milliseconds interval_{};
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace vaxbot::store
