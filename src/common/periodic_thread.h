// A thread that runs one task every `interval` until it is destroyed: the
// shape of retention (both engines) and the insights detector's ticks. The
// first run is one interval after construction; runs never overlap, and the
// next one is timed from the end of the previous. The destructor wakes the
// thread, waits for a run in progress to finish, and joins it, so the task
// may use anything that outlives the PeriodicThread.
//
// Thread safety: the task runs on the thread alone; RunNow() may be called
// from any thread.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <thread>

#include "common/mutex.h"

namespace roentgen {

class PeriodicThread {
 public:
  // `name` is the thread's name (at most 15 characters show in ps / top).
  PeriodicThread(std::string name, std::chrono::microseconds interval, std::function<void()> task);
  ~PeriodicThread();
  PeriodicThread(const PeriodicThread&) = delete;
  PeriodicThread& operator=(const PeriodicThread&) = delete;

  // Starts a run now instead of at the end of the interval (tests, SIGHUP).
  void RunNow() EXCLUDES(mu_);

 private:
  void Loop() EXCLUDES(mu_);

  const std::string name_;
  const std::chrono::microseconds interval_;
  const std::function<void()> task_;
  Mutex mu_;
  CondVar wake_;
  bool stopping_ GUARDED_BY(mu_) = false;
  bool run_now_ GUARDED_BY(mu_) = false;
  std::thread thread_;  // last: started once the fields above exist
};

}  // namespace roentgen
