// The record encodings' additions to src/common/coding.h: the string table
// of record format 2, optional values, vectors and flag bytes, and a Reader
// for them. Private to src/store (record_codec.cpp).
#pragma once

#include <fmt/format.h>

#include <array>
#include <bit>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

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
class StringTable {
 public:
  StringTable() { slots_.fill(0); }
  // The index of an equal string written before; otherwise records `s` under
  // the next index (while there is room) and returns nothing.
  std::optional<uint32_t> FindOrAdd(std::string_view s) {
    size_t slot = Hash(s) & (kSlots - 1);
    for (; slots_[slot] != 0; slot = (slot + 1) & (kSlots - 1)) {
      const uint32_t index = slots_[slot] - 1u;
      if (std::string_view(strings_[index].data, strings_[index].size) == s) return index;
    }
    if (count_ < kMaxTableStrings) {
      strings_[count_] = {s.data(), s.size()};
      slots_[slot] = static_cast<uint16_t>(++count_);
    }
    return std::nullopt;
  }

 private:
  // Cheap and good enough for a table this small: the length and the first
  // and last (up to) 8 bytes; equal hashes are told apart by comparing.
  static size_t Hash(std::string_view s) {
    uint64_t head = 0;
    uint64_t tail = 0;
    if (s.size() >= 8) {
      std::memcpy(&head, s.data(), 8);
      std::memcpy(&tail, s.data() + s.size() - 8, 8);
    } else {
      std::memcpy(&head, s.data(), s.size());
    }
    uint64_t h = (head * 0x9e3779b97f4a7c15ull) ^ (tail * 0xc2b2ae3d27d4eb4full) ^ s.size();
    return static_cast<size_t>(h ^ (h >> 29));
  }

  // Trivial, so the array is left uninitialized: only the first count_ are read.
  struct Written {
    const char* data;
    size_t size;
  };
  static constexpr size_t kSlots = 2 * kMaxTableStrings;  // a power of two, half full at most
  std::array<uint16_t, kSlots> slots_;                    // index + 1; 0 = empty
  std::array<Written, kMaxTableStrings> strings_;
  size_t count_ = 0;
};

// An Out that writes strings through a StringTable (format 2) into `Inner`.
template <typename Inner>
class Interning {
 public:
  explicit Interning(Inner& inner) : inner_(inner) {}
  void push_back(char c) { inner_.push_back(c); }
  void append(const char* data, size_t n) { inner_.append(data, n); }
  Inner& inner() { return inner_; }
  StringTable& strings() { return strings_; }

 private:
  Inner& inner_;
  StringTable strings_;
};

template <typename Inner>
void PutVarint(uint64_t v, Interning<Inner>& out) {
  PutVarint(v, out.inner());
}

template <typename Inner>
void PutString(std::string_view s, Interning<Inner>& out) {
  if (!s.empty()) {
    if (std::optional<uint32_t> index = out.strings().FindOrAdd(s)) {
      PutVarint((uint64_t{*index} << 1) | 1, out.inner());
      return;
    }
  }
  PutVarint(uint64_t{s.size()} << 1, out.inner());
  out.inner().append(s.data(), s.size());
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
        s.assign(in_.data() + table_[index].offset, table_[index].size);
        return true;
      }
      n >>= 1;
    }
    if (n > remaining()) return Fail("string length exceeds the record");
    s.assign(in_.data() + pos_, n);
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
