// The thread that runs the insights detector: every `interval` (60 s by
// default; `serve --insights-interval`), Detector::EvaluateAt(clock now).
// Started by Start(), stopped and joined by the destructor (an evaluation in
// progress finishes first).
#pragma once

#include <chrono>
#include <memory>
#include <thread>

#include "common/clock.h"
#include "common/mutex.h"
#include "common/status.h"
#include "insights/detector.h"

namespace roentgen::insights {

class Scheduler {
 public:
  static Result<std::unique_ptr<Scheduler>> Start(Detector& detector, const Clock& clock,
                                                  std::chrono::milliseconds interval);
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

 private:
  Scheduler(Detector& detector, const Clock& clock, std::chrono::milliseconds interval)
      : detector_(detector), clock_(clock), interval_(interval) {}
  void Run() EXCLUDES(mu_);

  Detector& detector_;
  const Clock& clock_;
  const std::chrono::milliseconds interval_;
  Mutex mu_;
  CondVar wake_;
  bool stop_ GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace roentgen::insights
