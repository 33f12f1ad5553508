#include "common/periodic_thread.h"

#include <utility>

#include "common/thread_name.h"

namespace roentgen {

PeriodicThread::PeriodicThread(std::string name, std::chrono::microseconds interval,
                               std::function<void()> task)
    : name_(std::move(name)),
      interval_(interval),
      task_(std::move(task)),
      thread_([this] { Loop(); }) {}

PeriodicThread::~PeriodicThread() {
  {
    MutexLock lock(mu_);
    stopping_ = true;
  }
  wake_.SignalAll();
  thread_.join();
}

void PeriodicThread::RunNow() {
  {
    MutexLock lock(mu_);
    run_now_ = true;
  }
  wake_.SignalAll();
}

void PeriodicThread::Loop() {
  SetCurrentThreadName(name_);
  while (true) {
    {
      MutexLock lock(mu_);
      const auto due = std::chrono::steady_clock::now() + interval_;
      while (!stopping_ && !run_now_ && std::chrono::steady_clock::now() < due) {
        wake_.WaitUntil(mu_, due);
      }
      if (stopping_) return;
      run_now_ = false;
    }
    task_();
  }
}

}  // namespace roentgen
