// A bounded multi-producer queue drained in batches by one consumer.
//
// Producers either TryPush (never waits: returns kFull when there is no room,
// which is how the UDP receive path stays non-blocking) or Push (waits for room;
// used between internal pipeline stages for back-pressure). The consumer takes
// everything available, up to a maximum, with PopBatch, so one lock round-trip
// moves a whole batch. Close() wakes everyone: pushes then fail with kClosed and
// PopBatch keeps returning the remaining items until the queue is empty.
//
// Thread safety: every method may be called from any thread. The critical
// sections are a few pointer moves; the consumer is only signalled when it is
// actually waiting, so an uncontended push costs one mutex round-trip.
#pragma once

#include <algorithm>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <utility>
#include <vector>

namespace roentgen::ingest {

enum class PushResult { kOk, kFull, kClosed };

template <typename T>
class BoundedQueue {
 public:
  explicit BoundedQueue(size_t capacity) : capacity_(capacity) {}
  BoundedQueue(const BoundedQueue&) = delete;
  BoundedQueue& operator=(const BoundedQueue&) = delete;

  // Never waits.
  PushResult TryPush(T&& item) {
    std::unique_lock lock(mu_);
    if (closed_) return PushResult::kClosed;
    if (items_.size() >= capacity_) return PushResult::kFull;
    items_.push_back(std::move(item));
    WakeConsumer(lock);
    return PushResult::kOk;
  }

  // All or nothing, never waits: either every item is queued (and `items` is
  // left empty) or none is (and `items` is untouched).
  PushResult TryPushAll(std::vector<T>& items) {
    std::unique_lock lock(mu_);
    if (closed_) return PushResult::kClosed;
    if (items.size() > capacity_ - items_.size()) return PushResult::kFull;
    for (T& item : items) items_.push_back(std::move(item));
    items.clear();
    WakeConsumer(lock);
    return PushResult::kOk;
  }

  // Waits for room; fails only when the queue is closed.
  PushResult Push(T&& item) {
    std::unique_lock lock(mu_);
    not_full_.wait(lock, [&] { return closed_ || items_.size() < capacity_; });
    if (closed_) return PushResult::kClosed;
    items_.push_back(std::move(item));
    WakeConsumer(lock);
    return PushResult::kOk;
  }

  // Pushes every item, waiting for room as needed (the items may be split
  // across several consumer batches). Fails only when the queue is closed; the
  // items not pushed are then left at the end of `items`. `items` is emptied on
  // success.
  PushResult PushAll(std::vector<T>& items) {
    size_t next = 0;
    std::unique_lock lock(mu_);
    while (next < items.size()) {
      not_full_.wait(lock, [&] { return closed_ || items_.size() < capacity_; });
      if (closed_) {
        items.erase(items.begin(), items.begin() + static_cast<std::ptrdiff_t>(next));
        return PushResult::kClosed;
      }
      while (next < items.size() && items_.size() < capacity_) {
        items_.push_back(std::move(items[next++]));
      }
      if (consumer_waiting_) not_empty_.notify_one();
    }
    items.clear();
    return PushResult::kOk;
  }

  // Waits until an item is available or the queue is closed, then moves up to
  // `max` items to `out` (appending). Returns false only when the queue is
  // closed and empty: the consumer is done.
  bool PopBatch(size_t max, std::vector<T>& out) {
    std::unique_lock lock(mu_);
    consumer_waiting_ = true;
    not_empty_.wait(lock, [&] { return closed_ || !items_.empty(); });
    consumer_waiting_ = false;
    if (items_.empty()) return false;
    const bool was_full = items_.size() >= capacity_;
    size_t n = std::min(max, items_.size());
    for (size_t i = 0; i < n; ++i) {
      out.push_back(std::move(items_.front()));
      items_.pop_front();
    }
    lock.unlock();
    if (was_full) not_full_.notify_all();
    return true;
  }

  void Close() {
    {
      std::lock_guard lock(mu_);
      closed_ = true;
    }
    not_empty_.notify_all();
    not_full_.notify_all();
  }

  size_t Size() const {
    std::lock_guard lock(mu_);
    return items_.size();
  }
  size_t capacity() const { return capacity_; }

 private:
  void WakeConsumer(std::unique_lock<std::mutex>& lock) {
    if (!consumer_waiting_) return;
    lock.unlock();
    not_empty_.notify_one();
  }

  const size_t capacity_;
  mutable std::mutex mu_;
  std::condition_variable not_empty_;
  std::condition_variable not_full_;
  std::deque<T> items_;
  bool closed_ = false;
  bool consumer_waiting_ = false;
};

}  // namespace roentgen::ingest
