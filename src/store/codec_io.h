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

// Writers append to an Out: a std::string, a SizeCounter (counts what would be
// written, to size a buffer first) or a RawWriter (writes into memory sized by
// a SizeCounter, with no capacity check per byte).
class SizeCounter {
 public:
  void push_back(char) { ++size_; }
  void append(const char*, size_t n) { size_ += n; }
  size_t size() const { return size_; }

 private:
  size_t size_ = 0;
};

class RawWriter {
 public:
  explicit RawWriter(char* at) : at_(at) {}
  void push_back(char c) { *at_++ = c; }
  void append(const char* data, size_t n) {
    // Most strings of a record are short: copied inline, not through a call.
    if (n <= 16) {
      if (n >= 8) {
        Copy<8>(at_, data);
        Copy<8>(at_ + n - 8, data + n - 8);
      } else if (n >= 4) {
        Copy<4>(at_, data);
        Copy<4>(at_ + n - 4, data + n - 4);
      } else {
        for (size_t i = 0; i < n; ++i) at_[i] = data[i];
      }
    } else {
      std::memcpy(at_, data, n);
    }
    at_ += n;
  }
  const char* at() const { return at_; }

 private:
  template <size_t N>
  static void Copy(char* to, const char* from) {
    char bytes[N];
    std::memcpy(bytes, from, N);
    std::memcpy(to, bytes, N);
  }

  char* at_;
};

template <typename Out>
void PutVarint(uint64_t v, Out& out) {
  // Byte by byte: through a local buffer and Out::append, GCC's -Warray-bounds
  // (at -O1, the sanitizer build) mistakes RawWriter's chunked short copies for
  // reads past the buffer.
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

inline void PutVarint(uint64_t v, SizeCounter& out) {
  size_t n = 1;
  while (v >= 0x80) {
    ++n;
    v >>= 7;
  }
  out.append(nullptr, n);
}

template <typename Out>
void PutSigned(int64_t v, Out& out) {
  PutVarint((static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63), out);
}

template <typename Out>
void PutFixed64(uint64_t v, Out& out) {
  char bytes[8];
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>(v >> (8 * i));
  out.append(bytes, sizeof bytes);
}

template <typename Out>
void PutDouble(double v, Out& out) {
  PutFixed64(std::bit_cast<uint64_t>(v), out);
}

template <typename Out>
void PutString(std::string_view s, Out& out) {
  PutVarint(s.size(), out);
  out.append(s.data(), s.size());
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
