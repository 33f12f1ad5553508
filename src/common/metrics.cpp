#include "common/metrics.h"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cassert>
#include <cmath>
#include <limits>

namespace roentgen {
namespace {

// Label values escape backslash, double quote and newline (text format 0.0.4).
void AppendEscapedLabelValue(std::string& out, std::string_view v) {
  for (char c : v) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out += c;
    }
  }
}

// HELP text escapes backslash and newline only.
std::string EscapeHelp(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

// `a="1",b="2"` with labels sorted by name, so the same set in any order names
// the same metric. The braces are added when rendering.
std::string RenderLabels(const Labels& labels) {
  Labels sorted = labels;
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string out;
  for (const auto& [name, value] : sorted) {
    if (!out.empty()) out += ',';
    out += name;
    out += "=\"";
    AppendEscapedLabelValue(out, value);
    out += '"';
  }
  return out;
}

std::string FormatDouble(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  return fmt::format("{}", v);
}

std::string Braced(const std::string& inner) {
  return inner.empty() ? std::string() : "{" + inner + "}";
}

}  // namespace

Histogram::Histogram(std::vector<double> bounds) : bounds_(std::move(bounds)) {
  std::sort(bounds_.begin(), bounds_.end());
  bounds_.erase(std::unique(bounds_.begin(), bounds_.end()), bounds_.end());
  buckets_ = std::make_unique<std::atomic<uint64_t>[]>(bounds_.size() + 1);
  for (size_t i = 0; i <= bounds_.size(); ++i) buckets_[i].store(0, std::memory_order_relaxed);
  sum_bits_.store(std::bit_cast<uint64_t>(0.0), std::memory_order_relaxed);
}

void Histogram::Observe(double v) {
  // Bucket i counts values <= bounds_[i] (and > bounds_[i-1]); the last is +Inf.
  size_t i = std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin();
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  uint64_t old_bits = sum_bits_.load(std::memory_order_relaxed);
  while (!sum_bits_.compare_exchange_weak(
      old_bits, std::bit_cast<uint64_t>(std::bit_cast<double>(old_bits) + v),
      std::memory_order_relaxed)) {
  }
}

std::vector<uint64_t> Histogram::BucketCounts() const {
  std::vector<uint64_t> out(bounds_.size() + 1);
  for (size_t i = 0; i < out.size(); ++i) out[i] = buckets_[i].load(std::memory_order_relaxed);
  return out;
}

double Histogram::Sum() const {
  return std::bit_cast<double>(sum_bits_.load(std::memory_order_relaxed));
}

Counter& MetricsRegistry::GetCounter(std::string_view name, std::string_view help,
                                     const Labels& labels) {
  MutexLock lock(mu_);
  auto it = families_.find(name);
  if (it == families_.end()) {
    it = families_.emplace(std::string(name), Family{Kind::kCounter, std::string(help), {}, {}, {}})
             .first;
  }
  // A name reused with another kind is a programmer bug: the metric still works
  // but is not exported under the family's kind.
  assert(it->second.kind == Kind::kCounter && "metric name registered with another kind");
  auto& slot = it->second.counters[RenderLabels(labels)];
  if (!slot) slot = std::make_unique<Counter>();
  return *slot;
}

Gauge& MetricsRegistry::GetGauge(std::string_view name, std::string_view help,
                                 const Labels& labels) {
  MutexLock lock(mu_);
  auto it = families_.find(name);
  if (it == families_.end()) {
    it = families_.emplace(std::string(name), Family{Kind::kGauge, std::string(help), {}, {}, {}})
             .first;
  }
  assert(it->second.kind == Kind::kGauge && "metric name registered with another kind");
  auto& slot = it->second.gauges[RenderLabels(labels)];
  if (!slot) slot = std::make_unique<Gauge>();
  return *slot;
}

Histogram& MetricsRegistry::GetHistogram(std::string_view name, std::string_view help,
                                         const std::vector<double>& bounds, const Labels& labels) {
  MutexLock lock(mu_);
  auto it = families_.find(name);
  if (it == families_.end()) {
    it = families_
             .emplace(std::string(name), Family{Kind::kHistogram, std::string(help), {}, {}, {}})
             .first;
  }
  assert(it->second.kind == Kind::kHistogram && "metric name registered with another kind");
  auto& slot = it->second.histograms[RenderLabels(labels)];
  if (!slot) slot = std::make_unique<Histogram>(bounds);
  return *slot;
}

std::string MetricsRegistry::RenderText() const {
  MutexLock lock(mu_);
  std::string out;
  for (const auto& [name, family] : families_) {
    out += fmt::format("# HELP {} {}\n", name, EscapeHelp(family.help));
    switch (family.kind) {
      case Kind::kCounter:
        out += fmt::format("# TYPE {} counter\n", name);
        for (const auto& [labels, counter] : family.counters) {
          out += fmt::format("{}{} {}\n", name, Braced(labels), counter->Value());
        }
        break;
      case Kind::kGauge:
        out += fmt::format("# TYPE {} gauge\n", name);
        for (const auto& [labels, gauge] : family.gauges) {
          out += fmt::format("{}{} {}\n", name, Braced(labels), gauge->Value());
        }
        break;
      case Kind::kHistogram:
        out += fmt::format("# TYPE {} histogram\n", name);
        for (const auto& [labels, histogram] : family.histograms) {
          // _count is the +Inf bucket, so the two always agree even while
          // observations race with rendering.
          std::vector<uint64_t> counts = histogram->BucketCounts();
          const std::string prefix = labels.empty() ? std::string() : labels + ",";
          uint64_t cumulative = 0;
          for (size_t i = 0; i < counts.size(); ++i) {
            cumulative += counts[i];
            double le = i < histogram->bounds().size() ? histogram->bounds()[i]
                                                       : std::numeric_limits<double>::infinity();
            out += fmt::format("{}_bucket{{{}le=\"{}\"}} {}\n", name, prefix, FormatDouble(le),
                               cumulative);
          }
          out += fmt::format("{}_sum{} {}\n", name, Braced(labels), FormatDouble(histogram->Sum()));
          out += fmt::format("{}_count{} {}\n", name, Braced(labels), cumulative);
        }
        break;
    }
  }
  return out;
}

std::vector<double> MetricsRegistry::LatencyBuckets() {
  return {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
          0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,    10};
}

}  // namespace roentgen
