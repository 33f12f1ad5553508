#include "insights/fault_rate_model.h"

#include <algorithm>
#include <cmath>

namespace roentgen::insights {

double BinomialUpperTail(int64_t x, int64_t n, double p) {
  if (x <= 0) return 1.0;
  if (x > n) return 0.0;
  if (p <= 0) return 0.0;
  if (p >= 1) return 1.0;
  const double log_p = std::log(p);
  const double log_q = std::log1p(-p);
  const double log_n_fact = std::lgamma(static_cast<double>(n) + 1);
  auto log_pmf = [&](int64_t k) {
    return log_n_fact - std::lgamma(static_cast<double>(k) + 1) -
           std::lgamma(static_cast<double>(n - k) + 1) + static_cast<double>(k) * log_p +
           static_cast<double>(n - k) * log_q;
  };
  // Below the mean the tail is at least about one half: sum the complement,
  // which then has the fewer terms that matter.
  const double mean = static_cast<double>(n) * p;
  if (static_cast<double>(x) <= mean) {
    double below = 0;
    for (int64_t k = x - 1; k >= 0; --k) {
      const double term = std::exp(log_pmf(k));
      below += term;
      if (term < below * 1e-17 && static_cast<double>(k) < mean) break;
    }
    return std::clamp(1.0 - below, 0.0, 1.0);
  }
  // Above the mode the terms fall geometrically: stop once they no longer count.
  double sum = 0;
  for (int64_t k = x; k <= n; ++k) {
    const double term = std::exp(log_pmf(k));
    sum += term;
    if (term <= sum * 1e-17) break;
  }
  return std::clamp(sum, 0.0, 1.0);
}

FaultRateVerdict TestFaultRate(const FaultRateSample& baseline, const FaultRateSample& window,
                               const FaultRateThresholds& t) {
  FaultRateVerdict v;
  v.has_baseline = baseline.total >= t.min_baseline_requests;
  v.baseline_rate = (static_cast<double>(baseline.faults) + 1.0) /
                    (static_cast<double>(std::max<int64_t>(baseline.total, 0)) + 2.0);
  v.window_rate =
      window.total > 0 ? static_cast<double>(window.faults) / static_cast<double>(window.total) : 0;
  if (!v.has_baseline || window.total <= 0) return v;
  const double excess = v.window_rate - v.baseline_rate;
  if (excess <= 0) return v;
  v.p_value = BinomialUpperTail(window.faults, window.total, v.baseline_rate);
  v.opens = window.faults >= t.min_faults && excess >= t.min_excess && v.p_value < t.open_alpha;
  v.continues = window.faults >= t.continue_min_faults && excess >= t.continue_min_excess &&
                v.p_value < t.continue_alpha;
  return v;
}

}  // namespace roentgen::insights
