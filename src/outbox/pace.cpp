#include "outbox/pace.h"

#include <algorithm>

namespace vaxbot::outbox {

namespace {
constexpr double kFloor = 1.0;       // messages/s: never slower than this
constexpr double kDecrease = 0.5;    // on 130429
constexpr double kIncrease = 0.002;  // of the configured rate, per accepted send
}  // namespace

RateLimiter::RateLimiter(double per_second) : configured_(std::max(per_second, 0.001)), rate_(0) {
  set_rate(configured_);
}

void RateLimiter::set_rate(double per_second) {
  rate_ = per_second;
  spacing_ = std::chrono::nanoseconds(static_cast<std::int64_t>(1e9 / rate_));
}

SteadyTime RateLimiter::reserve(SteadyTime now) {
  std::lock_guard lock(mutex_);
  const SteadyTime at = std::max(now, next_);
  next_ = at + spacing_;
  return at;
}

void RateLimiter::slow_down(SteadyTime now) {
  std::lock_guard lock(mutex_);
  if (now - last_slow_down_ < std::chrono::seconds(1)) return;
  last_slow_down_ = now;
  set_rate(std::max(std::min(kFloor, configured_), rate_ * kDecrease));
}

void RateLimiter::speed_up() {
  std::lock_guard lock(mutex_);
  if (rate_ < configured_) set_rate(std::min(configured_, rate_ + configured_ * kIncrease));
}

double RateLimiter::rate() const {
  std::lock_guard lock(mutex_);
  return rate_;
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

void RecipientPacer::give_back(const std::string& recipient) {
  auto it = tat_.find(recipient);
  if (it != tat_.end()) it->second -= interval_;
}

void RecipientPacer::forget_rested(SteadyTime now) {
  std::erase_if(tat_, [now](const auto& entry) { return entry.second <= now; });
}

}  // namespace vaxbot::outbox
