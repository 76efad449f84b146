#include "store/checkpointer.h"

#include <filesystem>

#include "core/log.h"

namespace vaxbot::store {

core::Result<std::unique_ptr<Checkpointer>> Checkpointer::start(const DatabaseOptions& options,
                                                                std::chrono::milliseconds interval,
                                                                std::function<void()> wal_too_large,
                                                                std::uintmax_t wal_limit_bytes) {
  DatabaseOptions o = options;
  o.checkpoint_on_commit = true;  // this connection never commits; keep SQLite's default
  auto db = Database::open(o);
  if (!db.ok()) return db.error();
  std::unique_ptr<Checkpointer> c(new Checkpointer());
  c->db_ = std::move(*db);
  c->interval_ = interval;
  c->wal_path_ = options.path + "-wal";
  c->wal_too_large_ = std::move(wal_too_large);
  c->wal_limit_bytes_ = wal_limit_bytes;
  c->thread_ = std::thread([p = c.get()] { p->run(); });
  return c;
}

Checkpointer::~Checkpointer() {
  stop();
}

void Checkpointer::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Checkpointer::run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    wake_.wait_for(lock, interval_, [this] { return stopping_; });
    if (auto st = db_->checkpoint(); !st.ok()) {
      core::logger("store")->warn("checkpoint failed: {}", st.error().message);
    }
    std::error_code ec;
    const auto wal = std::filesystem::file_size(wal_path_, ec);
    if (!ec && wal > wal_limit_bytes_ && wal_too_large_) wal_too_large_();
  }
}

}  // namespace vaxbot::store
