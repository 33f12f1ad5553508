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
  // Strings in the table.
  size_t size() const { return count_; }
  struct Entry {
    uint32_t index;  // kNoIndex: not in the table, nor added (no room)
    bool found;      // written before (index is valid)
  };
  static constexpr uint32_t kNoIndex = ~uint32_t{0};
  // The index of an equal string written before (found); otherwise records
  // `s` under the next index while there is room (not found). `s` must stay
  // valid until the next Clear.
  Entry Lookup(std::string_view s) {
    const uint32_t current = uint32_t{generation_} << 16;
    size_t slot = bytes::HashEnds(s) & (kSlots - 1);
    for (; (slots_[slot] & 0xffff0000u) == current; slot = (slot + 1) & (kSlots - 1)) {
      const uint32_t index = (slots_[slot] & 0xffffu) - 1u;
      if (bytes::Equal(std::string_view(strings_[index].data, strings_[index].size), s)) {
        return {index, true};
      }
    }
    if (count_ < kMaxTableStrings) {
      strings_[count_] = {s.data(), s.size()};
      slots_[slot] = current | static_cast<uint32_t>(++count_);
      return {static_cast<uint32_t>(count_ - 1), false};
    }
    return {kNoIndex, false};
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

// A summary repeats its services: a service id (name, aliases, account,
// type) is written for each annotation value and user it served, in the
// service list and the entry point; a `segment_gen` record's summary
// writes ~9, of 3 or 4 distinct services. Once every string of one is in
// the record's StringTable, each later copy encodes to the same few bytes
// (references), which this keeps by its strings: a repeat is then a few
// compares, not a table look-up per string. Cleared with the table, per
// record; the views point into the record's strings, as the table's do.
class ServiceRepeats {
 public:
  static constexpr size_t kMaxNames = 2;  // services with more aliases are not kept
  // Two bytes a reference (an index under 256), one for the alias count.
  static constexpr size_t kMaxBytes = 2 + 1 + 2 * kMaxNames + 2 + 2;
  // The strings in the order they are written: name, aliases, account, type.
  struct Key {
    std::string_view name;
    const std::vector<std::string>& names;
    std::string_view account;
    std::string_view type;
  };

  ServiceRepeats() { slots_.fill(Slot{}); }
  void Clear() {
    if (++generation_ == 0) {  // wrapped: a slot of 2^32 records ago would read as current
      slots_.fill(Slot{});
      generation_ = 1;
    }
  }
  // The bytes kept for `key`'s strings, or an empty view (then Keep may
  // fill `slot`).
  std::string_view Find(const Key& key, size_t& slot) {
    slot = bytes::HashEnds(key.name) & (kSlots - 1);
    const Slot& s = slots_[slot];
    if (s.generation != generation_ || s.names != key.names.size() ||
        !bytes::Equal(s.name, key.name) || !bytes::Equal(s.account, key.account) ||
        !bytes::Equal(s.type, key.type)) {
      return {};
    }
    for (size_t i = 0; i < s.names; ++i) {
      if (!bytes::Equal(s.aliases[i], key.names[i])) return {};
    }
    return {s.bytes, s.size};
  }
  // Keeps what a copy of `key` encodes to from now on (the key has at most
  // kMaxNames aliases; `encoded` at most kMaxBytes).
  void Keep(size_t slot, const Key& key, std::string_view encoded) {
    Slot& s = slots_[slot];
    s.generation = generation_;
    s.names = static_cast<uint8_t>(key.names.size());
    s.size = static_cast<uint8_t>(encoded.size());
    s.name = key.name;
    s.account = key.account;
    s.type = key.type;
    for (size_t i = 0; i < key.names.size(); ++i) s.aliases[i] = key.names[i];
    std::memcpy(s.bytes, encoded.data(), encoded.size());
  }

 private:
  struct Slot {
    uint32_t generation = 0;
    uint8_t names = 0;
    uint8_t size = 0;
    char bytes[kMaxBytes] = {};
    std::string_view name, account, type;
    std::string_view aliases[kMaxNames];
  };
  static constexpr size_t kSlots = 16;  // a power of two
  std::array<Slot, kSlots> slots_;
  uint32_t generation_ = 1;
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
    services_.Clear();
  }
  std::string_view bytes() const { return {buffer_.get(), pos_}; }
  StringTable& strings() { return strings_; }
  ServiceRepeats& services() { return services_; }

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
  ServiceRepeats services_;
};

// Inlined: most varints (counts, references, flags) are one byte, which is
// a bounds check and a store where a call cost more than that.
[[gnu::always_inline]] inline void PutVarint(uint64_t v, RecordWriter& out) {
  if (v < 0x80) {
    out.push_back(static_cast<char>(v));
    return;
  }
  char* p = out.Room(coding::kMaxVarint64Bytes);
  out.Advance(static_cast<size_t>(coding::EncodeVarint(p, v) - p));
}

// A string: a reference to an equal string written before, else its tag and
// bytes (empty strings are never in the table). Returns the string's index
// in the table (found or added), StringTable::kNoIndex for an empty string
// or one the full table left out.
inline uint32_t PutStringIndexed(std::string_view s, RecordWriter& out) {
  StringTable::Entry e{StringTable::kNoIndex, false};
  if (!s.empty()) {
    e = out.strings().Lookup(s);
    if (e.found) {
      PutVarint((uint64_t{e.index} << 1) | 1, out);
      return e.index;
    }
  }
  char* p = out.Room(coding::kMaxVarint64Bytes + s.size());
  char* bytes = coding::EncodeVarint(p, uint64_t{s.size()} << 1);
  if (!s.empty()) std::memcpy(bytes, s.data(), s.size());
  out.Advance(static_cast<size_t>(bytes - p) + s.size());
  return e.index;
}
inline void PutString(std::string_view s, RecordWriter& out) { PutStringIndexed(s, out); }

// A service's strings (ServiceRepeats::Key's, in its order) as PutString and
// PutStrings write them: a repeat from ServiceRepeats, the first copy
// written out and kept for the repeats when it fits.
inline void PutServiceStrings(const ServiceRepeats::Key& key, RecordWriter& out) {
  size_t slot = 0;
  if (const std::string_view kept = out.services().Find(key, slot); !kept.empty()) {
    out.append(kept.data(), kept.size());
    return;
  }
  char repeat[ServiceRepeats::kMaxBytes];
  char* r = repeat;
  bool keep = key.names.size() <= ServiceRepeats::kMaxNames;
  auto put = [&](std::string_view s) {
    const uint32_t index = PutStringIndexed(s, out);
    if (!keep) return;
    if (s.empty()) {
      *r++ = 0;  // an empty string's tag
    } else if (index == StringTable::kNoIndex) {
      keep = false;  // written out again in each copy
    } else {
      r = coding::EncodeVarint(r, (uint64_t{index} << 1) | 1);
    }
  };
  put(key.name);
  PutVarint(key.names.size(), out);
  if (keep) r = coding::EncodeVarint(r, key.names.size());
  for (const std::string& alias : key.names) put(alias);
  put(key.account);
  put(key.type);
  if (keep) {
    out.services().Keep(slot, key, std::string_view(repeat, static_cast<size_t>(r - repeat)));
  }
}

// Inlined, so that the loop over the list folds into the byte's bits.
template <typename Out>
[[gnu::always_inline]] inline void PutFlags(std::initializer_list<bool> flags, Out& out) {
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
