#include "core/metrics.h"

#include <cmath>
#include <cstdio>

namespace vaxbot::core {

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)),
      buckets_(std::make_unique<std::atomic<std::uint64_t>[]>(bounds_.size() + 1)) {}

void Histogram::observe(double v) {
  std::size_t i = 0;
  while (i < bounds_.size() && v > bounds_[i]) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_micro_.fetch_add(std::llround(v * 1e6), std::memory_order_relaxed);
}

double Histogram::sum() const {
  return static_cast<double>(sum_micro_.load(std::memory_order_relaxed)) / 1e6;
}

std::size_t Registry::family(const std::string& name, const std::string& help,
                             const std::string& type) {
  for (std::size_t i = 0; i < families_.size(); ++i) {
    if (families_[i].name == name) return i;
  }
  families_.push_back({name, help, type});
  return families_.size() - 1;
}

Counter& Registry::counter(const std::string& name, const std::string& help,
                           const std::string& labels) {
  std::lock_guard lock(mutex_);
  for (const Series& s : series_) {
    if (s.counter != nullptr && families_[s.family].name == name && s.labels == labels) {
      return *s.counter;
    }
  }
  Counter& c = counters_.emplace_back();
  series_.push_back({family(name, help, "counter"), labels, &c, nullptr, {}});
  return c;
}

Histogram& Registry::histogram(const std::string& name, const std::string& help,
                               std::vector<double> bounds, const std::string& labels) {
  std::lock_guard lock(mutex_);
  Histogram& h = histograms_.emplace_back(std::move(bounds));
  series_.push_back({family(name, help, "histogram"), labels, nullptr, &h, {}});
  return h;
}

void Registry::gauge(const std::string& name, const std::string& help, std::function<double()> read,
                     const std::string& labels) {
  std::lock_guard lock(mutex_);
  series_.push_back({family(name, help, "gauge"), labels, nullptr, nullptr, std::move(read)});
}

namespace {

std::string number(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

std::string braces(const std::string& labels, const std::string& extra = "") {
  std::string inner = labels;
  if (!extra.empty()) inner += (inner.empty() ? "" : ",") + extra;
  return inner.empty() ? "" : "{" + inner + "}";
}

}  // namespace

std::string Registry::render() const {
  std::lock_guard lock(mutex_);
  std::string out;
  for (std::size_t f = 0; f < families_.size(); ++f) {
    const Family& fam = families_[f];
    out += "# HELP " + fam.name + " " + fam.help + "\n# TYPE " + fam.name + " " + fam.type + "\n";
    for (const Series& s : series_) {
      if (s.family != f) continue;
      if (s.counter != nullptr) {
        out += fam.name + braces(s.labels) + " " + std::to_string(s.counter->value()) + "\n";
      } else if (s.histogram != nullptr) {
        const Histogram& h = *s.histogram;
        std::uint64_t cumulative = 0;
        for (std::size_t i = 0; i <= h.bounds().size(); ++i) {
          cumulative += h.bucket(i);
          double le = i < h.bounds().size() ? h.bounds()[i] : INFINITY;
          out += fam.name + "_bucket" + braces(s.labels, "le=\"" + number(le) + "\"") + " " +
                 std::to_string(cumulative) + "\n";
        }
        out += fam.name + "_sum" + braces(s.labels) + " " + number(h.sum()) + "\n";
        out += fam.name + "_count" + braces(s.labels) + " " + std::to_string(cumulative) + "\n";
      } else if (s.gauge) {
        out += fam.name + braces(s.labels) + " " + number(s.gauge()) + "\n";
      }
    }
  }
  return out;
}

}  // namespace vaxbot::core
