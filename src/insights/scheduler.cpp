#include "insights/scheduler.h"

#include "common/thread_name.h"

namespace roentgen::insights {

Result<std::unique_ptr<Scheduler>> Scheduler::Start(Detector& detector, const Clock& clock,
                                                    std::chrono::milliseconds interval) {
  if (interval.count() <= 0) return Status::InvalidArgument("insights: the interval must be > 0");
  std::unique_ptr<Scheduler> s(new Scheduler(detector, clock, interval));
  s->thread_ = std::thread([p = s.get()] { p->Run(); });
  return s;
}

Scheduler::~Scheduler() {
  {
    MutexLock lock(mu_);
    stop_ = true;
  }
  wake_.SignalAll();
  if (thread_.joinable()) thread_.join();
}

void Scheduler::Run() {
  SetCurrentThreadName("insights");
  while (true) {
    {
      MutexLock lock(mu_);
      const auto deadline = std::chrono::steady_clock::now() + interval_;
      while (!stop_ && std::chrono::steady_clock::now() < deadline) {
        wake_.WaitUntil(mu_, deadline);
      }
      if (stop_) return;
    }
    // Errors are logged and counted by the detector; the next tick retries.
    (void)detector_.EvaluateAt(clock_.NowMicros());
  }
}

}  // namespace roentgen::insights
