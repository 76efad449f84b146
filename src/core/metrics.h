// Metrics: counters, gauges and histograms rendered as Prometheus text.
//
// A Registry owns every metric. Register once at start-up (counter(),
// histogram(), ...; these lock and allocate) and keep the returned reference:
// updating a metric is a relaxed atomic add, safe from any thread, no lock.
// References stay valid for the Registry's lifetime. render() produces the
// text exposition format for GET /metrics.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace vaxbot::core {

class Counter {
 public:
  void inc(std::uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  std::uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

class Histogram {
 public:
  // bounds: ascending upper bounds of the buckets; +Inf is implicit.
  explicit Histogram(std::vector<double> bounds);
  void observe(double v);
  std::uint64_t count() const { return count_.load(std::memory_order_relaxed); }
  const std::vector<double>& bounds() const { return bounds_; }
  std::uint64_t bucket(std::size_t i) const { return buckets_[i].load(std::memory_order_relaxed); }
  double sum() const;

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_;  // non-cumulative, one per bound
  std::atomic<std::uint64_t> count_{0};
  std::atomic<std::int64_t> sum_micro_{0};  // sum in millionths, to stay lock-free
};

class Registry {
 public:
  // labels: Prometheus label text without braces, e.g. `outcome="ok"`; may be empty.
  Counter& counter(const std::string& name, const std::string& help,
                   const std::string& labels = "");
  Histogram& histogram(const std::string& name, const std::string& help, std::vector<double> bounds,
                       const std::string& labels = "");
  // A gauge whose value is read when rendering (queue depth, ...).
  void gauge(const std::string& name, const std::string& help, std::function<double()> read,
             const std::string& labels = "");

  std::string render() const;

 private:
  struct Family {
    std::string name, help, type;
  };
  struct Series {
    std::size_t family;
    std::string labels;
    Counter* counter = nullptr;
    Histogram* histogram = nullptr;
    std::function<double()> gauge;
  };
  std::size_t family(const std::string& name, const std::string& help, const std::string& type);

  mutable std::mutex mutex_;
  std::vector<Family> families_;
  std::vector<Series> series_;
  std::deque<Counter> counters_;
  std::deque<Histogram> histograms_;
};

}  // namespace vaxbot::core
