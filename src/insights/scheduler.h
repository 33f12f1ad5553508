// The thread that runs the insights detector: every `interval` (60 s by
// default; `serve --insights-interval`), Detector::EvaluateAt(clock now).
// Over a store shared by several servers it is given a LeaderLease, and each
// tick first beats the lease: only the leader evaluates (leader_lease.h).
// Started by Start(), stopped and joined by the destructor (an evaluation in
// progress finishes first).
#pragma once

#include <chrono>
#include <memory>

#include "common/clock.h"
#include "common/periodic_thread.h"
#include "common/status.h"
#include "insights/detector.h"
#include "insights/leader_lease.h"

namespace roentgen::insights {

// One tick at `now_us`: without a lease, evaluates; with one, beats it and
// evaluates only when this process leads. Returns whether it evaluated;
// errors: the lease's (nothing evaluated). The detector's own errors are
// logged and counted by it, and the next tick retries.
Result<bool> TickDetector(Detector& detector, LeaderLease* lease, int64_t now_us);

class Scheduler {
 public:
  // `lease`, when not null, must outlive the scheduler.
  static Result<std::unique_ptr<Scheduler>> Start(Detector& detector, const Clock& clock,
                                                  std::chrono::milliseconds interval,
                                                  LeaderLease* lease = nullptr);
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

 private:
  Scheduler(Detector& detector, const Clock& clock, std::chrono::milliseconds interval,
            LeaderLease* lease);

  PeriodicThread ticks_;
};

}  // namespace roentgen::insights
