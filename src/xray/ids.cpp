#include "xray/ids.h"

#include <cstring>

#include <fmt/format.h>

#include "common/hex.h"
#include "common/random.h"

namespace roentgen::xray {

TraceId TraceId::Generate(uint32_t epoch_seconds) {
  TraceId id;
  id.bytes[0] = static_cast<uint8_t>(epoch_seconds >> 24);
  id.bytes[1] = static_cast<uint8_t>(epoch_seconds >> 16);
  id.bytes[2] = static_cast<uint8_t>(epoch_seconds >> 8);
  id.bytes[3] = static_cast<uint8_t>(epoch_seconds);
  FillRandom(std::span<uint8_t>(id.bytes.data() + 4, 12));
  return id;
}

Result<TraceId> TraceId::Parse(std::string_view text) {
  if (text.size() != kTextSize) {
    return Status::InvalidArgument(
        fmt::format("trace id must be {} characters (1-xxxxxxxx-xxxxxxxxxxxxxxxxxxxxxxxx), got {}",
                    kTextSize, text.size()));
  }
  if (text[0] != '1' || text[1] != '-' || text[10] != '-') {
    return Status::InvalidArgument(
        "trace id must have the form 1-xxxxxxxx-xxxxxxxxxxxxxxxxxxxxxxxx (version 1)");
  }
  TraceId id;
  if (!DecodeHex(text.substr(2, 8), std::span<uint8_t>(id.bytes.data(), 4)) ||
      !DecodeHex(text.substr(11, 24), std::span<uint8_t>(id.bytes.data() + 4, 12))) {
    return Status::InvalidArgument("trace id has a character that is not a hex digit");
  }
  return id;
}

Result<TraceId> TraceId::FromW3C(std::string_view hex32) {
  TraceId id;
  if (hex32.size() != 32 || !DecodeHex(hex32, id.bytes)) {
    return Status::InvalidArgument("W3C trace id must be 32 hex digits");
  }
  return id;
}

TraceId TraceId::FromBinary(const uint8_t* bytes16) {
  TraceId id;
  std::memcpy(id.bytes.data(), bytes16, 16);
  return id;
}

uint32_t TraceId::epoch_part() const {
  return (static_cast<uint32_t>(bytes[0]) << 24) | (static_cast<uint32_t>(bytes[1]) << 16) |
         (static_cast<uint32_t>(bytes[2]) << 8) | static_cast<uint32_t>(bytes[3]);
}

// Room made once (the block writer formats every row's trace id).
void TraceId::AppendTo(std::string& out) const {
  const size_t at = out.size();
  out.resize(at + kTextSize);
  char* p = out.data() + at;
  p[0] = '1';
  p[1] = '-';
  WriteHex(std::span<const uint8_t>(bytes.data(), 4), p + 2);
  p[10] = '-';
  WriteHex(std::span<const uint8_t>(bytes.data() + 4, 12), p + 11);
}

std::string TraceId::ToString() const {
  std::string s;
  s.reserve(kTextSize);
  AppendTo(s);
  return s;
}

std::string TraceId::ToW3C() const { return ToHex(bytes); }

bool TraceId::IsZero() const {
  for (uint8_t b : bytes)
    if (b != 0) return false;
  return true;
}

SegmentId SegmentId::Generate() {
  uint64_t v = 0;
  while (v == 0) v = RandomU64();
  return SegmentId{v};
}

Result<SegmentId> SegmentId::Parse(std::string_view text) {
  uint8_t raw[8];
  if (text.size() != kTextSize) {
    return Status::InvalidArgument(
        fmt::format("segment id must be 16 hex digits, got {} characters", text.size()));
  }
  if (!DecodeHex(text, raw)) {
    return Status::InvalidArgument("segment id has a character that is not a hex digit");
  }
  return FromBinary(raw);
}

SegmentId SegmentId::FromBinary(const uint8_t* bytes8) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | bytes8[i];
  return SegmentId{v};
}

void SegmentId::ToBinary(uint8_t* out8) const {
  for (int i = 7; i >= 0; --i) out8[7 - i] = static_cast<uint8_t>(value >> (8 * i));
}

void SegmentId::AppendTo(std::string& out) const {
  uint8_t raw[8];
  ToBinary(raw);
  AppendHex(raw, out);
}

void SegmentId::WriteText(char* out) const {
  uint8_t raw[8];
  ToBinary(raw);
  WriteHex(raw, out);
}

std::string SegmentId::ToString() const {
  std::string s;
  s.reserve(kTextSize);
  AppendTo(s);
  return s;
}

size_t TraceIdHash::operator()(const TraceId& id) const noexcept {
  // SDKs generate random ids, but nothing obliges a client to: sequential or
  // partly constant ids are common in hand-written code and load generators.
  // Mixing all 16 bytes (a murmur3-style finalizer) spreads any of them over
  // hash buckets and over the writer shards, which take the hash modulo a small
  // number and so depend on its low bits.
  uint64_t hi;
  uint64_t lo;
  std::memcpy(&hi, id.bytes.data(), 8);
  std::memcpy(&lo, id.bytes.data() + 8, 8);
  uint64_t v = hi * 0x9e3779b97f4a7c15ULL ^ lo;
  v ^= v >> 33;
  v *= 0xff51afd7ed558ccdULL;
  v ^= v >> 33;
  v *= 0xc4ceb9fe1a85ec53ULL;
  v ^= v >> 33;
  return static_cast<size_t>(v);
}

}  // namespace roentgen::xray
