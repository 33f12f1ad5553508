// The record encodings' additions to src/common/coding.h: the string table
// of record format 2, optional values, vectors and flag bytes, and a Reader
// for them. Private to src/store (record_codec.cpp).
#pragma once

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/bytes_hash.h"
#include "common/coding.h"

namespace roentgen::store::codec {

// Numbers as src/common/coding.h writes them; strings below (PutString).
using coding::PutDouble;
using coding::PutFixed64;
using coding::PutSigned;
using coding::PutVarint;

template <typename Out>
void PutString(std::string_view s, Out& out) {
  coding::PutLengthPrefixed(s, out);
}

// From record format 2 the strings of a record form a table: a record repeats
// many of them (a service's name, account and type recur in its node, its
// edges and every annotation value and user it served), so each distinct
// non-empty string is written once and its later occurrences refer to it by
// its position. A string is a tag varint: (length << 1) followed by the bytes
// for a new string, (index << 1) | 1 for a reference. Only the first
// kMaxTableStrings distinct strings get an index; later ones are written out.
inline constexpr size_t kMaxTableStrings = 256;

// The encoder's side of the table: which strings were written, by index.
// Made once and cleared for each record (Clear): its slots carry the record's
// generation, so a clear is not a refill of them.
class StringTable {
 public:
  StringTable() { slots_.fill(0); }
  // Starts the table of another record, empty.
  void Clear() {
    count_ = 0;
    if (++generation_ == 0) {  // wrapped: slots of 65536 records ago would read as current
      slots_.fill(0);
      generation_ = 1;
    }
  }
  // The index of an equal string written before; otherwise records `s` under
  // the next index (while there is room) and returns nothing. `s` must stay
  // valid until the next Clear.
  std::optional<uint32_t> FindOrAdd(std::string_view s) {
    const uint32_t current = uint32_t{generation_} << 16;
    size_t slot = bytes::HashEnds(s) & (kSlots - 1);
    for (; (slots_[slot] & 0xffff0000u) == current; slot = (slot + 1) & (kSlots - 1)) {
      const uint32_t index = (slots_[slot] & 0xffffu) - 1u;
      if (bytes::Equal(std::string_view(strings_[index].data, strings_[index].size), s)) {
        return index;
      }
    }
    if (count_ < kMaxTableStrings) {
      strings_[count_] = {s.data(), s.size()};
      slots_[slot] = current | static_cast<uint32_t>(++count_);
    }
    return std::nullopt;
  }

 private:
  // Trivial, so the array is left uninitialized: only the first count_ are read.
  struct Written {
    const char* data;
    size_t size;
  };
  static constexpr size_t kSlots = 2 * kMaxTableStrings;  // a power of two, half full at most
  // generation << 16 | (index + 1); a slot of another generation is empty.
  std::array<uint32_t, kSlots> slots_;
  std::array<Written, kMaxTableStrings> strings_;
  size_t count_ = 0;
  uint16_t generation_ = 0;  // Clear makes it 1 before the first record
};

// The Out of the record encoders (format 2): the bytes go to a buffer
// through a cursor (a varint or a string is a bounds check and stores, not
// a push_back per byte), the strings through the StringTable. The buffer
// and the table are kept between records (a RecordWriter per thread, see
// record_codec.cpp): Start begins a record, bytes() is what it wrote.
class RecordWriter {
 public:
  void Start() {
    pos_ = 0;
    strings_.Clear();
  }
  std::string_view bytes() const { return {buffer_.get(), pos_}; }
  StringTable& strings() { return strings_; }

  // Room for `n` more bytes at the cursor (written, then Advance(n) or less).
  char* Room(size_t n) {
    if (n > capacity_ - pos_) Grow(n);
    return buffer_.get() + pos_;
  }
  void Advance(size_t n) { pos_ += n; }
  void push_back(char c) {
    *Room(1) = c;
    ++pos_;
  }
  void append(const char* data, size_t n) {
    if (n == 0) return;
    std::memcpy(Room(n), data, n);
    pos_ += n;
  }

 private:
  void Grow(size_t n) {
    const size_t capacity = std::max(2 * capacity_, std::max<size_t>(pos_ + n, 1024));
    auto grown = std::make_unique_for_overwrite<char[]>(capacity);
    if (pos_ > 0) std::memcpy(grown.get(), buffer_.get(), pos_);
    buffer_ = std::move(grown);
    capacity_ = capacity;
  }

  std::unique_ptr<char[]> buffer_;
  size_t capacity_ = 0;
  size_t pos_ = 0;
  StringTable strings_;
};

inline void PutVarint(uint64_t v, RecordWriter& out) {
  char* p = out.Room(coding::kMaxVarint64Bytes);
  out.Advance(static_cast<size_t>(coding::EncodeVarint(p, v) - p));
}

// A string: a reference to an equal string written before, else its tag and
// bytes (empty strings are never in the table).
inline void PutString(std::string_view s, RecordWriter& out) {
  if (!s.empty()) {
    if (std::optional<uint32_t> index = out.strings().FindOrAdd(s)) {
      PutVarint((uint64_t{*index} << 1) | 1, out);
      return;
    }
  }
  char* p = out.Room(coding::kMaxVarint64Bytes + s.size());
  char* bytes = coding::EncodeVarint(p, uint64_t{s.size()} << 1);
  if (!s.empty()) std::memcpy(bytes, s.data(), s.size());
  out.Advance(static_cast<size_t>(bytes - p) + s.size());
}

template <typename Out>
void PutFlags(std::initializer_list<bool> flags, Out& out) {
  uint8_t byte = 0;
  int bit = 0;
  for (bool f : flags) byte |= static_cast<uint8_t>(f ? 1 : 0) << bit++;
  out.push_back(static_cast<char>(byte));
}

template <typename Out>
void PutStrings(const std::vector<std::string>& v, Out& out) {
  PutVarint(v.size(), out);
  for (const auto& s : v) PutString(s, out);
}

template <typename T, typename F, typename Out>
void PutVector(const std::vector<T>& v, F put, Out& out) {
  PutVarint(v.size(), out);
  for (const auto& e : v) put(e, out);
}

template <typename T, typename F, typename Out>
void PutOptional(const std::optional<T>& v, F put, Out& out) {
  out.push_back(v ? 1 : 0);
  if (v) put(*v, out);
}

// coding::Reader, plus what records add: range-checked integers, element
// counts, flag bytes, and strings that may refer to the string table.
class Reader : public coding::Reader {
 public:
  // `string_table`: strings are tagged and may refer to earlier ones (format 2).
  explicit Reader(std::string_view in, bool string_table = false)
      : coding::Reader(in), string_table_(string_table) {}

  bool Int(int& v) {
    int64_t w = 0;
    if (!Signed(w)) return false;
    if (w < std::numeric_limits<int>::min() || w > std::numeric_limits<int>::max()) {
      return Fail("integer out of range");
    }
    v = static_cast<int>(w);
    return true;
  }
  bool Uint32(uint32_t& v) {
    uint64_t w = 0;
    if (!Varint(w)) return false;
    if (w > std::numeric_limits<uint32_t>::max()) return Fail("integer out of range");
    v = static_cast<uint32_t>(w);
    return true;
  }
  bool Size(size_t& v) {
    uint64_t w = 0;
    if (!Varint(w)) return false;
    v = static_cast<size_t>(w);
    return true;
  }
  bool String(std::string& s) {
    uint64_t n = 0;
    if (!Varint(n)) return false;
    if (string_table_) {
      if (n & 1) {
        const uint64_t index = n >> 1;
        if (index >= table_size_) return Fail("string reference out of range");
        SetString(s, in_.data() + table_[index].offset, table_[index].size);
        return true;
      }
      n >>= 1;
    }
    if (n > remaining()) return Fail("string length exceeds the record");
    SetString(s, in_.data() + pos_, n);
    if (string_table_ && n > 0 && table_size_ < kMaxTableStrings) {
      table_[table_size_++] = {static_cast<uint32_t>(pos_), static_cast<uint32_t>(n)};
    }
    pos_ += n;
    return true;
  }
  // A vector count; every element needs at least one byte.
  bool Count(size_t& n) {
    uint64_t w = 0;
    if (!Varint(w)) return false;
    if (w > remaining()) return Fail("element count exceeds the record");
    n = static_cast<size_t>(w);
    return true;
  }
  // Reads a flag byte holding `n` bools; other bits must be zero.
  bool Flags(std::initializer_list<bool*> flags) {
    uint8_t byte = 0;
    if (!Byte(byte)) return false;
    if (byte >> flags.size()) return Fail("unknown flag bits");
    int bit = 0;
    for (bool* f : flags) *f = (byte >> bit++) & 1;
    return true;
  }

 private:
  // s = [p, p + n). The input never lies inside s, so the copy needs no
  // overlap check (assign's general replace makes one on every call).
  static void SetString(std::string& s, const char* p, size_t n) {
    s.clear();
    s.append(p, n);
  }

  // Where a table string lies in the input. Left uninitialized: a Reader is
  // made per decoded record, and only the first table_size_ are read.
  struct TableString {
    uint32_t offset;
    uint32_t size;
  };

  const bool string_table_;
  size_t table_size_ = 0;
  std::array<TableString, kMaxTableStrings> table_;
};

inline bool GetStrings(Reader& r, std::vector<std::string>& v) {
  size_t n = 0;
  if (!r.Count(n)) return false;
  v.resize(n);
  for (auto& s : v)
    if (!r.String(s)) return false;
  return true;
}

template <typename T, typename F>
bool GetVector(Reader& r, std::vector<T>& v, F get) {
  size_t n = 0;
  if (!r.Count(n)) return false;
  v.resize(n);
  for (auto& e : v)
    if (!get(r, e)) return false;
  return true;
}

template <typename T, typename F>
bool GetOptional(Reader& r, std::optional<T>& v, F get) {
  uint8_t present = 0;
  if (!r.Byte(present)) return false;
  if (present > 1) return r.Fail("bad optional marker");
  if (!present) {
    v.reset();
    return true;
  }
  if (!v) v.emplace();  // a present value is overwritten in place (keeps its storage)
  return get(r, *v);
}

}  // namespace roentgen::store::codec
