// An iterator over an array of pointers that yields what they point at, so
// that a list of addresses reads like a container of values
// (xray::EntityList, the block engine's PointedRecords). Random access; a
// view of the array, which must outlive it.
#pragma once

#include <compare>
#include <cstddef>
#include <iterator>

namespace roentgen {

template <typename T>
class PointeeIterator {
 public:
  using iterator_category = std::random_access_iterator_tag;
  using value_type = T;
  using difference_type = std::ptrdiff_t;
  using pointer = const T*;
  using reference = const T&;

  PointeeIterator() = default;
  explicit PointeeIterator(const T* const* at) : at_(at) {}
  // The element of the pointer array it is at.
  const T* const* base() const { return at_; }

  const T& operator*() const { return **at_; }
  const T* operator->() const { return *at_; }
  const T& operator[](difference_type n) const { return *at_[n]; }
  PointeeIterator& operator++() {
    ++at_;
    return *this;
  }
  PointeeIterator operator++(int) { return PointeeIterator(at_++); }
  PointeeIterator& operator--() {
    --at_;
    return *this;
  }
  PointeeIterator operator--(int) { return PointeeIterator(at_--); }
  PointeeIterator& operator+=(difference_type n) {
    at_ += n;
    return *this;
  }
  PointeeIterator& operator-=(difference_type n) {
    at_ -= n;
    return *this;
  }
  friend PointeeIterator operator+(PointeeIterator it, difference_type n) { return it += n; }
  friend PointeeIterator operator+(difference_type n, PointeeIterator it) { return it += n; }
  friend PointeeIterator operator-(PointeeIterator it, difference_type n) { return it -= n; }
  friend difference_type operator-(PointeeIterator a, PointeeIterator b) { return a.at_ - b.at_; }
  friend auto operator<=>(PointeeIterator a, PointeeIterator b) = default;

 private:
  const T* const* at_ = nullptr;
};

}  // namespace roentgen
