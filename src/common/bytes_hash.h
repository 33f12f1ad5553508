// Inline hashing and comparison of short byte strings, for the hash tables
// of the block writer's dictionaries and the record codec's string table:
// their keys are mostly under 40 bytes (names, types, accounts, methods,
// addresses), where a call into a hash library or memcmp costs more than the
// work. The hash is for tables in memory only: it is not stable across
// releases and must never be stored.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace roentgen::bytes {

namespace internal {

inline uint64_t Load64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}
inline uint64_t Load32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}
inline uint64_t Mix(uint64_t a, uint64_t b) {
  uint64_t x = a * 0x9e3779b97f4a7c15ull ^ std::rotl(b * 0xc2b2ae3d27d4eb4full, 31);
  x ^= x >> 32;
  x *= 0xd6e8feb86659fd93ull;
  return x ^ (x >> 29);
}

}  // namespace internal

// Cheaper than Hash for long strings: only the first and last 8 bytes and
// the length count. For small tables (a record's strings), where strings
// that differ only in their middle are rare and are told apart by Equal.
inline uint64_t HashEnds(std::string_view s) {
  using internal::Load32;
  using internal::Load64;
  using internal::Mix;
  const char* p = s.data();
  const size_t n = s.size();
  uint64_t a = 0;
  uint64_t b = 0;
  if (n >= 8) {
    a = Load64(p);
    b = Load64(p + n - 8);
  } else if (n >= 4) {
    a = Load32(p);
    b = Load32(p + n - 4);
  } else if (n > 0) {
    a = uint64_t{static_cast<uint8_t>(p[0])} << 16 |
        uint64_t{static_cast<uint8_t>(p[n >> 1])} << 8 | static_cast<uint8_t>(p[n - 1]);
  }
  return Mix(a ^ n, b);
}

// Every byte counts (unlike HashEnds), so strings that differ in the middle
// (URLs, addresses) spread as well as any others.
inline uint64_t Hash(std::string_view s) {
  using internal::Load64;
  using internal::Mix;
  const char* p = s.data();
  const size_t n = s.size();
  if (n <= 16) return HashEnds(s);  // every byte of a string of 16 or fewer
  const char* end = p + n;
  uint64_t h = n;
  do {
    h = Mix(Load64(p) ^ h, Load64(p + 8));
    p += 16;
  } while (end - p > 16);
  return Mix(Load64(end - 16) ^ h, Load64(end - 8) ^ (h >> 7));
}

// a == b, the bytes compared with word loads (memcmp only past 16 bytes).
inline bool Equal(std::string_view a, std::string_view b) {
  using internal::Load32;
  using internal::Load64;
  const size_t n = a.size();
  if (n != b.size()) return false;
  const char* p = a.data();
  const char* q = b.data();
  if (n >= 8) {
    if (Load64(p) != Load64(q) || Load64(p + n - 8) != Load64(q + n - 8)) return false;
    return n <= 16 || std::memcmp(p + 8, q + 8, n - 16) == 0;
  }
  if (n >= 4) return Load32(p) == Load32(q) && Load32(p + n - 4) == Load32(q + n - 4);
  for (size_t i = 0; i < n; ++i) {
    if (p[i] != q[i]) return false;
  }
  return true;
}

}  // namespace roentgen::bytes
