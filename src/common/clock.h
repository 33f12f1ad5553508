// The one seam for wall-clock time, so tests and the store can run on a fake clock.
#pragma once

#include <atomic>
#include <cstdint>

namespace roentgen {

// Microseconds since the Unix epoch. Thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual int64_t NowMicros() const = 0;
  // The process-wide system clock.
  static const Clock& System();
};

// A clock that only moves when told to. Thread-safe.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(int64_t now_us) : now_us_(now_us) {}
  int64_t NowMicros() const override { return now_us_.load(); }
  void Set(int64_t now_us) { now_us_.store(now_us); }
  void Advance(int64_t delta_us) { now_us_.fetch_add(delta_us); }

 private:
  std::atomic<int64_t> now_us_;
};

}  // namespace roentgen
