// Distinct values in the order inserted, kept in place while there are at
// most N of them and in a vector past that: for the handful a caller adds
// per item on a hot path (a trace's entities written in a batch, the
// minutes its observations fall in), where a hash set or a vector would
// allocate for each. Look-ups are linear.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <vector>

namespace roentgen {

template <typename T, size_t N>
class SmallDistinctSet {
 public:
  bool empty() const { return size_ == 0; }
  size_t size() const { return size_; }
  const T* begin() const { return more_.empty() ? few_.data() : more_.data(); }
  const T* end() const { return begin() + size_; }
  bool contains(const T& value) const { return std::find(begin(), end(), value) != end(); }
  // Adds `value` unless it is there already.
  void insert(const T& value) {
    if (contains(value)) return;
    if (size_ < N) {
      few_[size_] = value;
    } else {
      if (more_.empty()) more_.assign(few_.begin(), few_.end());
      more_.push_back(value);
    }
    ++size_;
  }

 private:
  std::array<T, N> few_{};
  std::vector<T> more_;  // all of them, once past N
  size_t size_ = 0;
};

}  // namespace roentgen
