// Pacing for the sender: the business number's rate, and each resident's share.
//
// Both use the generic cell rate algorithm: a "theoretical arrival time" per
// bucket says when the bucket is next empty, so a check is O(1) and a
// recipient who is not being paced costs nothing to remember.
//
// RateLimiter: the business number's limit (Meta: 80 messages/s by default,
// up to 1,000 after its upgrade). reserve() hands out send times spaced
// exactly 1/rate apart, so the rate is never exceeded over any interval, with
// any number of sender threads. When Meta still says the number is over its
// limit (130429: e.g. configured for 1,000/s before Meta's upgrade came
// through), slow_down() halves the rate (at most once a second, so one burst
// of refusals counts once, and never below 1/s); each accepted send then wins
// back 0.2 % of the configured rate, never going above it. Thread-safe.
//
// RecipientPacer: Meta's pair limit, about one message per 6 s to the same
// person, with bursts borrowed from future quota. A resident may get `burst`
// messages at once (a whole booking conversation fits), after which further
// messages are spread one per `interval` instead of failing with 131056.
// Not thread-safe: the outbox calls it under its scheduler's lock.
#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <unordered_map>

namespace vaxbot::outbox {

using SteadyTime = std::chrono::steady_clock::time_point;

class RateLimiter {
 public:
  explicit RateLimiter(double per_second);
  // The time at or after `now` at which the caller may send; the slot is taken.
  SteadyTime reserve(SteadyTime now);
  void slow_down(SteadyTime now);
  void speed_up();
  double rate() const;

 private:
  void set_rate(double per_second);  // under mutex_
  mutable std::mutex mutex_;
  double configured_;
  double rate_;
  std::chrono::nanoseconds spacing_{};
  SteadyTime next_{};
  SteadyTime last_slow_down_{};
};

class RecipientPacer {
 public:
  RecipientPacer(int burst, std::chrono::milliseconds interval);
  // The earliest time at or after `now` a message to `recipient` may go.
  SteadyTime allowed_at(const std::string& recipient, SteadyTime now) const;
  // Counts a message to `recipient` sent at `now`.
  void take(const std::string& recipient, SteadyTime now);
  // Un-counts one: the send was refused or never arrived, so it reached nobody.
  void give_back(const std::string& recipient);
  // Forgets recipients whose allowance is whole again (keeps memory bounded).
  void forget_rested(SteadyTime now);
  std::size_t remembered() const { return tat_.size(); }

 private:
  std::chrono::nanoseconds interval_;
  std::chrono::nanoseconds tolerance_;  // (burst - 1) intervals
  std::unordered_map<std::string, SteadyTime> tat_;
};

}  // namespace vaxbot::outbox
