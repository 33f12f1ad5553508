// Byte encodings shared by everything Roentgen writes: the spools' records,
// the store's keys and values, and the API's page tokens. One place for each
// number format, so a writer and its reader cannot drift apart.
//
// - Fixed-width little-endian (EncodeFixed32/64, PutFixed32/64): numbers read
//   back by position, such as a spool record's length and checksum.
// - Fixed-width big-endian (EncodeBigEndian32/64, PutBigEndian32/64): numbers
//   whose bytes must sort as the numbers do (store keys, page cursors).
// - Varints (PutVarint, 7 bits a byte, least significant first) and zigzag
//   varints for signed values (PutSigned); length-prefixed strings.
// - Bitmaps (PutBitmap): bit i in byte i/8, least significant bit first, the
//   bits past the last one zero (the block files' presence maps and bools).
// - Reader: a bounds-checked cursor that never reads past its input and keeps
//   the first failure with its byte offset.
//
// Writers append to an `Out` with push_back(char) and append(const char*,
// size_t): a std::string, or any sink with those two members.
#pragma once

#include <fmt/format.h>

#include <bit>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

namespace roentgen::coding {

inline constexpr size_t kMaxVarint32Bytes = 5;
inline constexpr size_t kMaxVarint64Bytes = 10;

inline void EncodeFixed32(char* dst, uint32_t v) {
  for (int i = 0; i < 4; ++i) dst[i] = static_cast<char>(v >> (8 * i));
}
inline void EncodeFixed64(char* dst, uint64_t v) {
  for (int i = 0; i < 8; ++i) dst[i] = static_cast<char>(v >> (8 * i));
}
inline uint32_t DecodeFixed32(const char* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}
inline uint64_t DecodeFixed64(const char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

inline void EncodeBigEndian32(char* dst, uint32_t v) {
  for (int i = 0; i < 4; ++i) dst[i] = static_cast<char>(v >> (24 - 8 * i));
}
inline void EncodeBigEndian64(char* dst, uint64_t v) {
  for (int i = 0; i < 8; ++i) dst[i] = static_cast<char>(v >> (56 - 8 * i));
}
inline uint32_t DecodeBigEndian32(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}
inline uint64_t DecodeBigEndian64(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

// The Put functions fill a small buffer and append it once: one capacity
// check per number instead of one per byte.
template <typename Out>
void PutFixed32(uint32_t v, Out& out) {
  char bytes[4];
  EncodeFixed32(bytes, v);
  out.append(bytes, sizeof bytes);
}
template <typename Out>
void PutFixed64(uint64_t v, Out& out) {
  char bytes[8];
  EncodeFixed64(bytes, v);
  out.append(bytes, sizeof bytes);
}
template <typename Out>
void PutBigEndian32(uint32_t v, Out& out) {
  char bytes[4];
  EncodeBigEndian32(bytes, v);
  out.append(bytes, sizeof bytes);
}
template <typename Out>
void PutBigEndian64(uint64_t v, Out& out) {
  char bytes[8];
  EncodeBigEndian64(bytes, v);
  out.append(bytes, sizeof bytes);
}

// Writes `v` as a varint at `dst` (room for kMaxVarint64Bytes); returns the
// byte after it.
inline char* EncodeVarint(char* dst, uint64_t v) {
  while (v >= 0x80) {
    *dst++ = static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  *dst++ = static_cast<char>(v);
  return dst;
}

template <typename Out>
void PutVarint(uint64_t v, Out& out) {
  if (v < 0x80) {  // most varints (lengths, counts, flags) are one byte
    out.push_back(static_cast<char>(v));
    return;
  }
  char bytes[kMaxVarint64Bytes];
  out.append(bytes, static_cast<size_t>(EncodeVarint(bytes, v) - bytes));
}

// Appends the varints of value(0), ..., value(n - 1) to `out` through room
// made once (a column's codes, lengths, deltas: thousands of varints) rather
// than a push_back per byte.
template <typename Value>
void PutVarintRun(size_t n, Value value, std::string& out) {
  const size_t at = out.size();
  out.resize(at + n * kMaxVarint64Bytes);
  char* const begin = out.data();
  char* p = begin + at;
  for (size_t i = 0; i < n; ++i) p = EncodeVarint(p, value(i));
  out.resize(static_cast<size_t>(p - begin));
}

// Zigzag: small magnitudes of either sign take few bytes.
inline uint64_t ZigZag(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
inline int64_t UnZigZag(uint64_t u) { return static_cast<int64_t>((u >> 1) ^ (~(u & 1) + 1)); }

template <typename Out>
void PutSigned(int64_t v, Out& out) {
  PutVarint(ZigZag(v), out);
}

template <typename Out>
void PutDouble(double v, Out& out) {
  PutFixed64(std::bit_cast<uint64_t>(v), out);
}

template <typename Out>
void PutLengthPrefixed(std::string_view s, Out& out) {
  PutVarint(s.size(), out);
  out.append(s.data(), s.size());
}

inline constexpr size_t BitmapBytes(size_t bits) { return (bits + 7) / 8; }

template <typename Out>
void PutBitmap(const std::vector<bool>& bits, Out& out) {
  uint8_t byte = 0;
  for (size_t i = 0; i < bits.size(); ++i) {
    if (bits[i]) byte = static_cast<uint8_t>(byte | (1u << (i % 8)));
    if (i % 8 == 7) {
      out.push_back(static_cast<char>(byte));
      byte = 0;
    }
  }
  if (bits.size() % 8 != 0) out.push_back(static_cast<char>(byte));
}

// Bit i of a bitmap's bytes (i < 8 × bytes.size()).
inline bool BitmapGet(std::string_view bytes, size_t i) {
  return (static_cast<uint8_t>(bytes[i / 8]) >> (i % 8)) & 1;
}

// Reads from a byte range; the first failure sticks and records what failed
// and where. Every read checks what remains first.
class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  size_t remaining() const { return in_.size() - pos_; }
  size_t position() const { return pos_; }
  std::string_view input() const { return in_; }
  bool Fail(std::string_view what) {
    if (error_.empty()) error_ = fmt::format("{} at byte {}", what, pos_);
    return false;
  }

  bool Varint(uint64_t& v) {
    if (pos_ < in_.size() && !(static_cast<uint8_t>(in_[pos_]) & 0x80)) {
      v = static_cast<uint8_t>(in_[pos_++]);
      return true;
    }
    v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= in_.size()) return Fail("truncated varint");
      const uint8_t b = static_cast<uint8_t>(in_[pos_++]);
      if (shift == 63 && b > 1) return Fail("varint overflows 64 bits");
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) return true;
    }
    return Fail("varint longer than 10 bytes");
  }
  bool Signed(int64_t& v) {
    uint64_t u = 0;
    if (!Varint(u)) return false;
    v = UnZigZag(u);
    return true;
  }
  bool Fixed32(uint32_t& v) {
    if (remaining() < 4) return Fail("truncated fixed32");
    v = DecodeFixed32(in_.data() + pos_);
    pos_ += 4;
    return true;
  }
  bool Fixed64(uint64_t& v) {
    if (remaining() < 8) return Fail("truncated fixed64");
    v = DecodeFixed64(in_.data() + pos_);
    pos_ += 8;
    return true;
  }
  bool BigEndian64(uint64_t& v) {
    if (remaining() < 8) return Fail("truncated big-endian64");
    v = DecodeBigEndian64(in_.data() + pos_);
    pos_ += 8;
    return true;
  }
  bool Double(double& v) {
    uint64_t bits = 0;
    if (remaining() < 8) return Fail("truncated double");
    bits = DecodeFixed64(in_.data() + pos_);
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
  // `n` bytes as a view into the input.
  bool View(size_t n, std::string_view& out) {
    if (remaining() < n) return Fail("truncated bytes");
    out = in_.substr(pos_, n);
    pos_ += n;
    return true;
  }
  // A bitmap of `bits` bits as a view of its bytes (read with BitmapGet);
  // fails if a bit past the last one is set.
  bool Bitmap(size_t bits, std::string_view& out) {
    if (!View(BitmapBytes(bits), out)) return false;
    if (bits % 8 != 0 && (static_cast<uint8_t>(out.back()) >> (bits % 8)) != 0) {
      return Fail("bitmap has bits set past its end");
    }
    return true;
  }
  bool LengthPrefixed(std::string_view& out) {
    uint64_t n = 0;
    if (!Varint(n)) return false;
    if (n > remaining()) return Fail("string length exceeds the input");
    return View(static_cast<size_t>(n), out);
  }

 protected:
  std::string_view in_;
  size_t pos_ = 0;
  std::string error_;
};

}  // namespace roentgen::coding
