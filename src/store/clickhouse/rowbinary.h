// ClickHouse's RowBinary format (https://clickhouse.com/docs/en/interfaces/formats#rowbinary)
// on top of the project's byte encoding (common/coding.h): the scale-out
// engine's rows travel this way in both directions, so that any bytes (trace
// ids, raw documents, encoded records) pass without escaping.
//
//   String / FixedString   varint length + bytes (FixedString: the bytes only)
//   (U)Int8..64            little-endian fixed width
//   Array(T)               varint count + elements
//
// RowBinaryWriter appends to a string; RowBinaryReader reads from a view and
// remembers the first failure (Corruption naming what and where). Pure,
// thread-compatible.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/coding.h"
#include "common/status.h"

namespace roentgen::store::clickhouse {

class RowBinaryWriter {
 public:
  explicit RowBinaryWriter(std::string& out) : out_(out) {}
  void String(std::string_view s) { coding::PutLengthPrefixed(s, out_); }
  void UInt8(uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void UInt32(uint32_t v) { coding::PutFixed32(v, out_); }
  void Int32(int32_t v) { coding::PutFixed32(static_cast<uint32_t>(v), out_); }
  void UInt64(uint64_t v) { coding::PutFixed64(v, out_); }
  void Int64(int64_t v) { coding::PutFixed64(static_cast<uint64_t>(v), out_); }
  void ArraySize(size_t n) { coding::PutVarint(n, out_); }

 private:
  std::string& out_;
};

class RowBinaryReader {
 public:
  explicit RowBinaryReader(std::string_view in) : in_(in) {}
  bool done() const { return in_.remaining() == 0; }
  bool ok() const { return in_.ok(); }
  bool String(std::string_view& s) { return in_.LengthPrefixed(s); }
  bool UInt8(uint8_t& v) { return in_.Byte(v); }
  bool UInt32(uint32_t& v) { return in_.Fixed32(v); }
  bool Int32(int32_t& v) {
    uint32_t u = 0;
    if (!in_.Fixed32(u)) return false;
    v = static_cast<int32_t>(u);
    return true;
  }
  bool UInt64(uint64_t& v) { return in_.Fixed64(v); }
  bool Int64(int64_t& v) {
    uint64_t u = 0;
    if (!in_.Fixed64(u)) return false;
    v = static_cast<int64_t>(u);
    return true;
  }
  bool ArraySize(uint64_t& n) {
    if (!in_.Varint(n)) return false;
    // Every element takes a byte at least: a count past the bytes left is damage.
    if (n > in_.remaining()) return in_.Fail("array count past the end");
    return true;
  }
  // Corruption naming `what` (the query) and the reader's first failure.
  Status Error(std::string_view what) const {
    return Status::Corruption(std::string(what) + ": bad RowBinary answer: " + in_.error());
  }

 private:
  coding::Reader in_;
};

}  // namespace roentgen::store::clickhouse
