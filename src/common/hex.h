// Lowercase hexadecimal encoding and decoding of byte strings.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace roentgen {

// Appends the lowercase, zero-padded hex form of `bytes` to `out`.
void AppendHex(std::span<const uint8_t> bytes, std::string& out);
// Writes the same to out[0, 2 * bytes.size()), without a terminator.
void WriteHex(std::span<const uint8_t> bytes, char* out);
std::string ToHex(std::span<const uint8_t> bytes);

// Decodes exactly out.size()*2 hex digits (either case) into `out`.
// Returns false (and leaves `out` unspecified) on a wrong length or non-hex digit.
bool DecodeHex(std::string_view hex, std::span<uint8_t> out);

inline bool IsHexDigit(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

}  // namespace roentgen
