#include "api/page_token.h"

#include <openssl/evp.h>

#include <algorithm>
#include <array>

#include "common/coding.h"

namespace roentgen::api {
namespace {

constexpr uint8_t kVersion = 1;
constexpr size_t kTokenBytes = 1 + 8 + 16 + 8;
constexpr size_t kTokenChars = 4 * ((kTokenBytes + 2) / 3);

}  // namespace

std::string EncodePageToken(const PageToken& token) {
  std::array<uint8_t, kTokenBytes> raw{};
  raw[0] = kVersion;
  coding::EncodeBigEndian64(reinterpret_cast<char*>(raw.data() + 1),
                            static_cast<uint64_t>(token.cursor.time_us));
  std::copy(token.cursor.trace_id.bytes.begin(), token.cursor.trace_id.bytes.end(),
            raw.begin() + 9);
  coding::EncodeBigEndian64(reinterpret_cast<char*>(raw.data() + 25), token.fingerprint);
  std::array<unsigned char, kTokenChars + 1> text{};
  const int n = EVP_EncodeBlock(text.data(), raw.data(), static_cast<int>(raw.size()));
  return std::string(reinterpret_cast<const char*>(text.data()), static_cast<size_t>(n));
}

Result<PageToken> DecodePageToken(std::string_view text) {
  const Status bad = Status::InvalidArgument(
      "NextToken: not a token this server issued for this query; start again without it");
  if (text.size() != kTokenChars) return bad;
  std::array<unsigned char, kTokenChars> raw{};
  const int n = EVP_DecodeBlock(raw.data(), reinterpret_cast<const unsigned char*>(text.data()),
                                static_cast<int>(text.size()));
  if (n != static_cast<int>(kTokenChars / 4 * 3) || raw[0] != kVersion) return bad;
  PageToken token;
  token.cursor.time_us = static_cast<int64_t>(
      coding::DecodeBigEndian64(reinterpret_cast<const char*>(raw.data() + 1)));
  token.cursor.trace_id = xray::TraceId::FromBinary(raw.data() + 9);
  token.fingerprint = coding::DecodeBigEndian64(reinterpret_cast<const char*>(raw.data() + 25));
  return token;
}

}  // namespace roentgen::api
