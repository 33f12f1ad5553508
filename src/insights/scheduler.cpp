#include "insights/scheduler.h"

#include <spdlog/spdlog.h>

namespace roentgen::insights {

Result<bool> TickDetector(Detector& detector, LeaderLease* lease, int64_t now_us) {
  if (lease != nullptr) {
    Result<bool> leads = lease->Beat(now_us);
    if (!leads.ok()) return leads.status();
    if (!*leads) return false;
  }
  (void)detector.EvaluateAt(now_us);
  return true;
}

Result<std::unique_ptr<Scheduler>> Scheduler::Start(Detector& detector, const Clock& clock,
                                                    std::chrono::milliseconds interval,
                                                    LeaderLease* lease) {
  if (interval.count() <= 0) return Status::InvalidArgument("insights: the interval must be > 0");
  return std::unique_ptr<Scheduler>(new Scheduler(detector, clock, interval, lease));
}

Scheduler::Scheduler(Detector& detector, const Clock& clock, std::chrono::milliseconds interval,
                     LeaderLease* lease)
    : ticks_("insights", interval, [&detector, &clock, lease, leading = false]() mutable {
        Result<bool> evaluated = TickDetector(detector, lease, clock.NowMicros());
        if (!evaluated.ok()) {
          spdlog::warn("insights: the detector's lease could not be read or renewed: {}",
                       evaluated.status().message());
          return;
        }
        if (lease != nullptr && *evaluated && !leading) {
          spdlog::info("insights: this server ({}) now runs the detector", lease->process_id());
        } else if (lease != nullptr && !*evaluated && leading) {
          spdlog::info("insights: this server ({}) no longer runs the detector",
                       lease->process_id());
        }
        leading = *evaluated;
      }) {}

}  // namespace roentgen::insights
