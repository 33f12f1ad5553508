#include "insights/scheduler.h"

namespace roentgen::insights {

Result<std::unique_ptr<Scheduler>> Scheduler::Start(Detector& detector, const Clock& clock,
                                                    std::chrono::milliseconds interval) {
  if (interval.count() <= 0) return Status::InvalidArgument("insights: the interval must be > 0");
  return std::unique_ptr<Scheduler>(new Scheduler(detector, clock, interval));
}

// Errors are logged and counted by the detector; the next tick retries.
Scheduler::Scheduler(Detector& detector, const Clock& clock, std::chrono::milliseconds interval)
    : ticks_("insights", interval,
             [&detector, &clock] { (void)detector.EvaluateAt(clock.NowMicros()); }) {}

}  // namespace roentgen::insights
