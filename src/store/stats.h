// Stats: counts for /metrics read from the database (bookings, the replies
// still in the outbox by status), on a reader's connection. Reading them scans indexes, so callers
// cache them (see StatsCache) rather than query on every gauge.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>

#include "core/result.h"
#include "store/database.h"

namespace vaxbot::store {

struct Stats {
  std::int64_t bookings_active = 0;
  std::int64_t bookings_cancelled = 0;
  std::map<std::pair<std::string, int>, std::int64_t> outbox;  // (queued|sending, priority) -> rows
};

core::Result<Stats> read_stats(Database& db);

// Thread-safe; refreshes at most once per max_age.
class StatsCache {
 public:
  StatsCache(Database& db, std::mutex& db_mutex, std::chrono::milliseconds max_age)
      : db_(db), db_mutex_(db_mutex), max_age_(max_age) {}
  Stats get();

 private:
  Database& db_;
  std::mutex& db_mutex_;
  std::chrono::milliseconds max_age_;
  std::mutex mutex_;
  Stats stats_;
  std::chrono::steady_clock::time_point read_at_{};
};

}  // namespace vaxbot::store
