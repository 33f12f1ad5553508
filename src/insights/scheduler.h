// The thread that runs the insights detector: every `interval` (60 s by
// default; `serve --insights-interval`), Detector::EvaluateAt(clock now).
// Started by Start(), stopped and joined by the destructor (an evaluation in
// progress finishes first).
#pragma once

#include <chrono>
#include <memory>

#include "common/clock.h"
#include "common/periodic_thread.h"
#include "common/status.h"
#include "insights/detector.h"

namespace roentgen::insights {

class Scheduler {
 public:
  static Result<std::unique_ptr<Scheduler>> Start(Detector& detector, const Clock& clock,
                                                  std::chrono::milliseconds interval);
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

 private:
  Scheduler(Detector& detector, const Clock& clock, std::chrono::milliseconds interval);

  PeriodicThread ticks_;
};

}  // namespace roentgen::insights
