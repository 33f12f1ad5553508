#include "common/periodic_thread.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace roentgen {
namespace {

using namespace std::chrono_literals;

// Waits (up to a generous bound: this checks behaviour, not timing) until
// `done` holds.
template <typename Pred>
bool EventuallyTrue(Pred done) {
  const auto give_up = std::chrono::steady_clock::now() + 30s;
  while (!done()) {
    if (std::chrono::steady_clock::now() > give_up) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

TEST(PeriodicThreadTest, RunsTheTaskEveryInterval) {
  std::atomic<int> runs{0};
  PeriodicThread thread("rg-test-tick", 1ms, [&runs] { ++runs; });
  EXPECT_TRUE(EventuallyTrue([&runs] { return runs.load() >= 3; }));
}

TEST(PeriodicThreadTest, TheFirstRunWaitsOneInterval) {
  std::atomic<int> runs{0};
  {
    PeriodicThread thread("rg-test-tick", std::chrono::hours(1), [&runs] { ++runs; });
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(runs.load(), 0);
}

TEST(PeriodicThreadTest, RunNowDoesNotWaitForTheInterval) {
  std::atomic<int> runs{0};
  PeriodicThread thread("rg-test-tick", std::chrono::hours(1), [&runs] { ++runs; });
  thread.RunNow();
  EXPECT_TRUE(EventuallyTrue([&runs] { return runs.load() == 1; }));
  thread.RunNow();
  EXPECT_TRUE(EventuallyTrue([&runs] { return runs.load() == 2; }));
}

TEST(PeriodicThreadTest, DestructionWaitsForARunInProgressAndStopsTheRuns) {
  std::atomic<bool> started{false};
  std::atomic<bool> finished{false};
  std::atomic<int> runs{0};
  {
    PeriodicThread thread("rg-test-tick", std::chrono::hours(1), [&] {
      ++runs;
      started = true;
      std::this_thread::sleep_for(50ms);
      finished = true;
    });
    thread.RunNow();
    ASSERT_TRUE(EventuallyTrue([&started] { return started.load(); }));
  }
  EXPECT_TRUE(finished.load());  // the destructor waited for it
  EXPECT_EQ(runs.load(), 1);
}

}  // namespace
}  // namespace roentgen
