#include "ingest/bounded_queue.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace roentgen::ingest {
namespace {

TEST(BoundedQueueTest, TryPushFailsWhenFullAndAfterClose) {
  BoundedQueue<int> q(2);
  EXPECT_EQ(q.TryPush(1), PushResult::kOk);
  EXPECT_EQ(q.TryPush(2), PushResult::kOk);
  EXPECT_EQ(q.TryPush(3), PushResult::kFull);
  EXPECT_EQ(q.Size(), 2u);
  q.Close();
  EXPECT_EQ(q.TryPush(4), PushResult::kClosed);
}

TEST(BoundedQueueTest, PopBatchTakesAtMostMaxInOrder) {
  BoundedQueue<int> q(10);
  for (int i = 0; i < 5; ++i) ASSERT_EQ(q.TryPush(int{i}), PushResult::kOk);
  std::vector<int> out;
  ASSERT_TRUE(q.PopBatch(3, out));
  EXPECT_EQ(out, (std::vector<int>{0, 1, 2}));
  ASSERT_TRUE(q.PopBatch(3, out));
  EXPECT_EQ(out, (std::vector<int>{0, 1, 2, 3, 4}));
}

TEST(BoundedQueueTest, TryPushAllIsAllOrNothing) {
  BoundedQueue<int> q(3);
  ASSERT_EQ(q.TryPush(0), PushResult::kOk);
  std::vector<int> three{1, 2, 3};
  EXPECT_EQ(q.TryPushAll(three), PushResult::kFull);
  EXPECT_EQ(three.size(), 3u);
  EXPECT_EQ(q.Size(), 1u);
  std::vector<int> two{1, 2};
  EXPECT_EQ(q.TryPushAll(two), PushResult::kOk);
  EXPECT_TRUE(two.empty());
  EXPECT_EQ(q.Size(), 3u);
}

TEST(BoundedQueueTest, CloseDrainsRemainingItemsThenEnds) {
  BoundedQueue<int> q(4);
  ASSERT_EQ(q.TryPush(7), PushResult::kOk);
  q.Close();
  std::vector<int> out;
  ASSERT_TRUE(q.PopBatch(10, out));
  EXPECT_EQ(out, (std::vector<int>{7}));
  EXPECT_FALSE(q.PopBatch(10, out));
}

TEST(BoundedQueueTest, PushAllWaitsForRoomAndDeliversEverything) {
  BoundedQueue<int> q(2);
  std::vector<int> items{0, 1, 2, 3, 4, 5, 6};
  std::thread producer([&] {
    EXPECT_EQ(q.PushAll(items), PushResult::kOk);
    q.Close();
  });
  std::vector<int> out;
  while (q.PopBatch(1, out)) {
  }
  producer.join();
  EXPECT_EQ(out, (std::vector<int>{0, 1, 2, 3, 4, 5, 6}));
  EXPECT_TRUE(items.empty());
}

TEST(BoundedQueueTest, CloseWakesABlockedPusher) {
  BoundedQueue<int> q(1);
  ASSERT_EQ(q.TryPush(0), PushResult::kOk);
  std::atomic<int> result{-1};
  std::thread pusher([&] { result = static_cast<int>(q.Push(1)); });
  q.Close();
  pusher.join();
  EXPECT_EQ(result.load(), static_cast<int>(PushResult::kClosed));
}

}  // namespace
}  // namespace roentgen::ingest
