// The cryptographic primitives the auth module needs, all from OpenSSL:
// SHA-256, HMAC-SHA-256, constant-time comparison, random bytes from the OS's
// CSPRNG, and base64 (standard and URL-safe) for secrets and session tokens.
//
// Stateless functions: thread-safe. RandomBytes aborts only if OpenSSL's CSPRNG
// cannot be seeded (no entropy source at all), as a key must never be weak.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace roentgen::auth {

using Digest = std::array<uint8_t, 32>;

Digest Sha256(std::string_view data);
std::string Sha256Hex(std::string_view data);  // lowercase, 64 characters
Digest HmacSha256(std::string_view key, std::string_view data);
inline std::string_view AsString(const Digest& d) {
  return {reinterpret_cast<const char*>(d.data()), d.size()};
}

// Compares in time that depends only on the lengths (which are not secret).
bool ConstantTimeEquals(std::string_view a, std::string_view b);

// `n` bytes from OpenSSL's CSPRNG (RAND_bytes).
std::string RandomBytes(size_t n);

// Standard base64 with padding ("+/="), and URL-safe base64 without padding
// ("-_"). The decoders reject anything that is not exactly that encoding.
std::string Base64Encode(std::string_view bytes);
std::string Base64UrlEncode(std::string_view bytes);
std::optional<std::string> Base64UrlDecode(std::string_view text);

}  // namespace roentgen::auth
