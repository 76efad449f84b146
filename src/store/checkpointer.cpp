#include "store/checkpointer.h"

#include "core/log.h"

namespace vaxbot::store {

core::Result<std::unique_ptr<Checkpointer>> Checkpointer::start(const DatabaseOptions& options,
                                                                std::chrono::milliseconds interval) {
  DatabaseOptions o = options;
  o.checkpoint_on_commit = true;  // this connection never commits; keep SQLite's default
  auto db = Database::open(o);
  if (!db.ok()) return db.error();
  std::unique_ptr<Checkpointer> c(new Checkpointer());
  c->db_ = std::move(*db);
  c->interval_ = interval;
  c->thread_ = std::thread([p = c.get()] { p->run(); });
  return c;
}

Checkpointer::~Checkpointer() { stop(); }

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
  }
}

}  // namespace vaxbot::store
