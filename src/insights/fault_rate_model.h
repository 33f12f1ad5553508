// The statistical test that decides whether a service's fault rate in the
// evaluation window is anomalous against its own baseline (docs/api.md,
// "Insights"). Pure functions, thread-safe.
//
// The baseline rate is smoothed, p0 = (F_b + 1) / (N_b + 2) (Laplace), so that
// a baseline without faults does not make a single fault infinitely unlikely.
// The window's fault count x of n completed requests is compared with p0 by the
// exact one-sided binomial test: p = P(X ≥ x | X ~ Binomial(n, p0)).
//
// Opening needs all of:
//   N_b ≥ min_baseline_requests   a baseline to compare with
//   x ≥ min_faults                 not a handful of faults
//   x/n − p0 ≥ min_excess          a rise an operator cares about
//   p < open_alpha                 unlikely as noise
// An insight stays open while the looser `continue` test holds (hysteresis, so
// it does not flap at the threshold): x ≥ continue_min_faults,
// x/n − p0 ≥ continue_min_excess, p < continue_alpha.
#pragma once

#include <cstdint>

namespace roentgen::insights {

struct FaultRateThresholds {
  int64_t min_baseline_requests = 30;
  int64_t min_faults = 5;
  double min_excess = 0.05;
  double open_alpha = 1e-4;
  int64_t continue_min_faults = 2;
  double continue_min_excess = 0.025;
  double continue_alpha = 1e-2;
};

struct FaultRateSample {
  int64_t faults = 0;
  int64_t total = 0;  // completed requests (faults included)
};

struct FaultRateVerdict {
  bool has_baseline = false;
  double baseline_rate = 0;  // p0, smoothed
  double window_rate = 0;    // x / n (0 when n = 0)
  double p_value = 1;
  bool opens = false;      // anomalous by the opening test
  bool continues = false;  // anomalous by the looser test that keeps an insight open
};

// P(X ≥ x) for X ~ Binomial(n, p), computed in log space (exact to rounding).
double BinomialUpperTail(int64_t x, int64_t n, double p);

FaultRateVerdict TestFaultRate(const FaultRateSample& baseline, const FaultRateSample& window,
                               const FaultRateThresholds& thresholds = {});

}  // namespace roentgen::insights
