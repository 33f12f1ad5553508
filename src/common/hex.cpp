#include "common/hex.h"

namespace roentgen {
namespace {
constexpr char kDigits[] = "0123456789abcdef";

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

// Room made once, not a push_back (a capacity check) per digit: the block
// writer formats every row's trace id.
void AppendHex(std::span<const uint8_t> bytes, std::string& out) {
  const size_t at = out.size();
  out.resize(at + 2 * bytes.size());
  WriteHex(bytes, out.data() + at);
}

void WriteHex(std::span<const uint8_t> bytes, char* out) {
  for (uint8_t b : bytes) {
    *out++ = kDigits[b >> 4];
    *out++ = kDigits[b & 0xf];
  }
}

std::string ToHex(std::span<const uint8_t> bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  AppendHex(bytes, out);
  return out;
}

bool DecodeHex(std::string_view hex, std::span<uint8_t> out) {
  if (hex.size() != out.size() * 2) return false;
  for (size_t i = 0; i < out.size(); ++i) {
    int hi = HexValue(hex[2 * i]);
    int lo = HexValue(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = static_cast<uint8_t>((hi << 4) | lo);
  }
  return true;
}

}  // namespace roentgen
