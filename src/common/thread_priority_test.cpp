#include "common/thread_priority.h"

#include <gtest/gtest.h>
#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

#include <thread>

namespace roentgen {
namespace {

int CurrentThreadNice() {
  errno = 0;
  return ::getpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()));
}

TEST(ThreadPriorityTest, LowersTheCallingThreadOnly) {
  const int before = CurrentThreadNice();
  int inside = 0;
  std::thread t([&] {
    ASSERT_TRUE(LowerCurrentThreadPriority().ok());
    inside = CurrentThreadNice();
  });
  t.join();
  EXPECT_EQ(inside, 19);
  EXPECT_EQ(CurrentThreadNice(), before);
}

TEST(ThreadPriorityTest, IdlesTheCallingThreadOnly) {
  const int before = ::sched_getscheduler(static_cast<pid_t>(::gettid()));
  int inside = -1;
  std::thread t([&] {
    ASSERT_TRUE(IdleCurrentThreadPriority().ok());
    inside = ::sched_getscheduler(static_cast<pid_t>(::gettid()));
  });
  t.join();
  EXPECT_EQ(inside, SCHED_IDLE);
  EXPECT_EQ(::sched_getscheduler(static_cast<pid_t>(::gettid())), before);
  EXPECT_NE(before, SCHED_IDLE);
}

}  // namespace
}  // namespace roentgen
