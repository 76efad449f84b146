#include "outbox/pace.h"

#include <algorithm>

namespace vaxbot::outbox {

RateLimiter::RateLimiter(double per_second)
    : spacing_(static_cast<std::int64_t>(1e9 / std::max(per_second, 0.001))) {}

SteadyTime RateLimiter::reserve(SteadyTime now) {
  std::lock_guard lock(mutex_);
  const SteadyTime at = std::max(now, next_);
  next_ = at + spacing_;
  return at;
}

RecipientPacer::RecipientPacer(int burst, std::chrono::milliseconds interval)
    : interval_(interval), tolerance_(interval_ * std::max(burst - 1, 0)) {}

SteadyTime RecipientPacer::allowed_at(const std::string& recipient, SteadyTime now) const {
  auto it = tat_.find(recipient);
  if (it == tat_.end()) return now;
  return std::max(now, it->second - tolerance_);
}

void RecipientPacer::take(const std::string& recipient, SteadyTime now) {
  auto [it, fresh] = tat_.try_emplace(recipient, now);
  it->second = std::max(it->second, now) + interval_;
}

void RecipientPacer::forget_rested(SteadyTime now) {
  std::erase_if(tat_, [now](const auto& entry) { return entry.second <= now; });
}

}  // namespace vaxbot::outbox
