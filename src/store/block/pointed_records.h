// Records given by address, read like a std::span<const TraceRecord>: the
// rows of a head's cut, which stay where the head's writes put them (moving
// each into an array of rows for WriteBlock walked and rewrote ~700 bytes a
// record, cold, and then freed what the move left). Header-only; a view,
// thread-compatible.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "common/pointee_iterator.h"
#include "store/store.h"

namespace roentgen::store::block {

class PointedRecords {
 public:
  using Iterator = PointeeIterator<TraceRecord>;

  PointedRecords() = default;
  explicit PointedRecords(std::span<const TraceRecord* const> rows) : rows_(rows) {}
  size_t size() const { return rows_.size(); }
  bool empty() const { return rows_.empty(); }
  const TraceRecord& operator[](size_t i) const { return *rows_[i]; }
  const TraceRecord& front() const { return *rows_.front(); }
  const TraceRecord& back() const { return *rows_.back(); }
  Iterator begin() const { return Iterator(rows_.data()); }
  Iterator end() const { return Iterator(rows_.data() + rows_.size()); }

 private:
  std::span<const TraceRecord* const> rows_;
};

// The addresses of `rows`, in order: records in an array read as PointedRecords.
inline std::vector<const TraceRecord*> AddressesOf(std::span<const TraceRecord> rows) {
  std::vector<const TraceRecord*> addresses(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) addresses[i] = &rows[i];
  return addresses;
}

}  // namespace roentgen::store::block
