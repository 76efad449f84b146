#include "store/stats.h"

#include <SQLiteCpp/SQLiteCpp.h>

namespace vaxbot::store {

core::Result<Stats> read_stats(Database& db) {
  try {
    SQLite::Database& c = db.handle();
    Stats s;
    SQLite::Statement bookings(c, "SELECT status, count(*) FROM bookings GROUP BY status");
    while (bookings.executeStep()) {
      const std::string status = bookings.getColumn(0).getString();
      if (status == "booked") s.bookings_active = bookings.getColumn(1).getInt64();
      if (status == "cancelled") s.bookings_cancelled = bookings.getColumn(1).getInt64();
    }
    SQLite::Statement outbox(
        c, "SELECT status, priority, count(*) FROM outbox GROUP BY status, priority");
    while (outbox.executeStep()) {
      s.outbox[{outbox.getColumn(0).getString(), outbox.getColumn(1).getInt()}] =
          outbox.getColumn(2).getInt64();
    }
    return s;
  } catch (const std::exception& e) {
    return core::make_error(core::ErrorCode::kUnavailable, std::string("read stats: ") + e.what());
  }
}

Stats StatsCache::get() {
  std::lock_guard lock(mutex_);
  const auto now = std::chrono::steady_clock::now();
  if (read_at_ == std::chrono::steady_clock::time_point{} || now - read_at_ >= max_age_) {
    std::lock_guard db_lock(db_mutex_);
    if (auto s = read_stats(db_); s.ok()) stats_ = std::move(*s);
    read_at_ = now;
  }
  return stats_;
}

}  // namespace vaxbot::store
