// Checkpointer: copies the WAL back into the database file on its own thread.
//
// SQLite's automatic checkpoint runs inside whichever COMMIT crosses the
// threshold, i.e. on the writer thread, where it cost ~11% of the writer's
// time under load. The writer's connection turns it off (wal_autocheckpoint
// = 0) and this thread, on its own connection, runs a PASSIVE checkpoint
// (which never blocks the writer) every interval. Start after the writer's
// connection is open; stop() (also the destructor) joins.
//
// Passive checkpoints copy the WAL back but never rewind it while the writer
// commits without pause (SQLite rewinds the log only when a write begins with
// the WAL fully copied and unread): under a surge the WAL grew by ~60 MB/s.
// So when the WAL file passes wal_limit_bytes, this thread calls
// `wal_too_large` (the Writer's request_wal_truncate()), and the writer
// truncates it between two batches; most of it is already copied by then.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "core/result.h"
#include "store/database.h"

namespace vaxbot::store {

class Checkpointer {
 public:
  static core::Result<std::unique_ptr<Checkpointer>> start(const DatabaseOptions& options,
                                                           std::chrono::milliseconds interval,
                                                           std::function<void()> wal_too_large = {},
                                                           std::uintmax_t wal_limit_bytes = 64
                                                                                            << 20);
  ~Checkpointer();
  void stop();

 private:
  Checkpointer() = default;
  void run();

  std::unique_ptr<Database> db_;
  std::string wal_path_;
  std::chrono::milliseconds interval_{};
  std::function<void()> wal_too_large_;
  std::uintmax_t wal_limit_bytes_ = 0;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace vaxbot::store
