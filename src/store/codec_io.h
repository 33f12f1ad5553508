// Primitive encoders and the bounds-checked Reader behind record_codec.cpp.
// Private to src/store. Writers append to a std::string; the Reader never
// reads past its input and reports the first failure with its byte offset.
#pragma once

#include <fmt/format.h>

#include <bit>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace roentgen::store::codec {

inline void PutVarint(uint64_t v, std::string& out) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

inline void PutSigned(int64_t v, std::string& out) {
  PutVarint((static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63), out);
}

inline void PutFixed64(uint64_t v, std::string& out) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>(v >> (8 * i)));
}

inline void PutDouble(double v, std::string& out) { PutFixed64(std::bit_cast<uint64_t>(v), out); }

inline void PutString(std::string_view s, std::string& out) {
  PutVarint(s.size(), out);
  out.append(s);
}

inline void PutFlags(std::initializer_list<bool> flags, std::string& out) {
  uint8_t byte = 0;
  int bit = 0;
  for (bool f : flags) byte |= static_cast<uint8_t>(f ? 1 : 0) << bit++;
  out.push_back(static_cast<char>(byte));
}

inline void PutStrings(const std::vector<std::string>& v, std::string& out) {
  PutVarint(v.size(), out);
  for (const auto& s : v) PutString(s, out);
}

template <typename T, typename F>
void PutVector(const std::vector<T>& v, F put, std::string& out) {
  PutVarint(v.size(), out);
  for (const auto& e : v) put(e, out);
}

template <typename T, typename F>
void PutOptional(const std::optional<T>& v, F put, std::string& out) {
  out.push_back(v ? 1 : 0);
  if (v) put(*v, out);
}

// Reads from a byte range; the first failure sticks and records what failed.
class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  size_t remaining() const { return in_.size() - pos_; }
  size_t position() const { return pos_; }
  bool Fail(std::string what) {
    if (error_.empty()) error_ = fmt::format("{} at byte {}", what, pos_);
    return false;
  }

  bool Varint(uint64_t& v) {
    // Fast path: most varints (lengths, counts, flags) are one byte.
    if (pos_ < in_.size() && !(static_cast<uint8_t>(in_[pos_]) & 0x80)) {
      v = static_cast<uint8_t>(in_[pos_++]);
      return true;
    }
    v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= in_.size()) return Fail("truncated varint");
      uint8_t b = static_cast<uint8_t>(in_[pos_++]);
      if (shift == 63 && b > 1) return Fail("varint overflows 64 bits");
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) return true;
    }
    return Fail("varint longer than 10 bytes");
  }
  bool Signed(int64_t& v) {
    uint64_t u = 0;
    if (!Varint(u)) return false;
    v = static_cast<int64_t>((u >> 1) ^ (~(u & 1) + 1));
    return true;
  }
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
  bool Double(double& v) {
    if (remaining() < 8) return Fail("truncated double");
    uint64_t bits = 0;
    for (int i = 0; i < 8; ++i)
      bits |= static_cast<uint64_t>(static_cast<uint8_t>(in_[pos_ + i])) << (8 * i);
    pos_ += 8;
    v = std::bit_cast<double>(bits);
    return true;
  }
  bool Byte(uint8_t& b) {
    if (remaining() < 1) return Fail("truncated");
    b = static_cast<uint8_t>(in_[pos_++]);
    return true;
  }
  bool Bytes(size_t n, uint8_t* out) {
    if (remaining() < n) return Fail("truncated bytes");
    std::memcpy(out, in_.data() + pos_, n);
    pos_ += n;
    return true;
  }
  bool String(std::string& s) {
    uint64_t n = 0;
    if (!Varint(n)) return false;
    if (n > remaining()) return Fail("string length exceeds the record");
    s.assign(in_.data() + pos_, n);
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
  std::string_view in_;
  size_t pos_ = 0;
  std::string error_;
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
