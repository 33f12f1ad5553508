#include "common/thread_priority.h"

#include <gtest/gtest.h>
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

}  // namespace
}  // namespace roentgen
