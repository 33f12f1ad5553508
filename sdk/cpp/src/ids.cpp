// Ids and the X-Amzn-Trace-Id header (roentgen/xray_trace_header.h).
#include <chrono>
#include <random>

#include "roentgen/xray_trace_header.h"
#include "sdk_internal.h"

namespace roentgen::sdk {
namespace {

constexpr char kHex[] = "0123456789abcdef";

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool ParseHex(std::string_view s, uint64_t& out) {
  out = 0;
  for (char c : s) {
    int v = HexValue(c);
    if (v < 0) return false;
    out = (out << 4) | static_cast<uint64_t>(v);
  }
  return true;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

namespace detail {
uint64_t Random64() {
  // One generator per thread: no lock on the hot path.
  thread_local std::mt19937_64 gen{[] {
    std::random_device rd;
    return (uint64_t{rd()} << 32) ^ rd() ^
           static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  }()};
  return gen();
}
double RandomUnit() { return static_cast<double>(Random64() >> 11) * 0x1.0p-53; }

void AppendHex(std::string& out, uint64_t v, int digits) {
  char buf[16];
  for (int i = digits - 1; i >= 0; --i) {
    buf[i] = kHex[v & 0xf];
    v >>= 4;
  }
  out.append(buf, static_cast<size_t>(digits));
}
}  // namespace detail

TraceId TraceId::Generate() {
  TraceId id;
  id.epoch = static_cast<uint32_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                       std::chrono::system_clock::now().time_since_epoch())
                                       .count());
  uint64_t a = detail::Random64(), b = detail::Random64();
  for (int i = 0; i < 8; ++i) id.random[i] = static_cast<uint8_t>(a >> (56 - 8 * i));
  for (int i = 0; i < 4; ++i) id.random[8 + i] = static_cast<uint8_t>(b >> (24 - 8 * i));
  return id;
}

std::optional<TraceId> TraceId::Parse(std::string_view t) {
  if (t.size() != 35 || t[0] != '1' || t[1] != '-' || t[10] != '-') return std::nullopt;
  uint64_t epoch, hi, lo;
  if (!ParseHex(t.substr(2, 8), epoch) || !ParseHex(t.substr(11, 12), hi) ||
      !ParseHex(t.substr(23, 12), lo))
    return std::nullopt;
  TraceId id;
  id.epoch = static_cast<uint32_t>(epoch);
  for (int i = 0; i < 6; ++i) id.random[i] = static_cast<uint8_t>(hi >> (40 - 8 * i));
  for (int i = 0; i < 6; ++i) id.random[6 + i] = static_cast<uint8_t>(lo >> (40 - 8 * i));
  return id;
}

void TraceId::AppendTo(std::string& out) const {
  out.append("1-");
  detail::AppendHex(out, epoch, 8);
  out.push_back('-');
  for (uint8_t b : random) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 0xf]);
  }
}

std::string TraceId::ToString() const {
  std::string s;
  s.reserve(35);
  AppendTo(s);
  return s;
}

SegmentId SegmentId::Generate() {
  uint64_t v;
  do v = detail::Random64();
  while (v == 0);
  return SegmentId{v};
}

std::optional<SegmentId> SegmentId::Parse(std::string_view t) {
  uint64_t v;
  if (t.size() != 16 || !ParseHex(t, v)) return std::nullopt;
  return SegmentId{v};
}

void SegmentId::AppendTo(std::string& out) const { detail::AppendHex(out, value, 16); }

std::string SegmentId::ToString() const {
  std::string s;
  s.reserve(16);
  AppendTo(s);
  return s;
}

std::optional<TraceHeader> TraceHeader::Parse(std::string_view header) {
  TraceHeader h;
  bool any = false;
  while (!header.empty()) {
    size_t semi = header.find(';');
    std::string_view field = Trim(header.substr(0, semi));
    header = semi == std::string_view::npos ? std::string_view{} : header.substr(semi + 1);
    if (field.empty()) continue;
    size_t eq = field.find('=');
    if (eq == std::string_view::npos || eq == 0) continue;
    std::string_view key = Trim(field.substr(0, eq)), value = Trim(field.substr(eq + 1));
    if (key == "Root") {
      if (auto id = TraceId::Parse(value)) h.root = *id, any = true;
    } else if (key == "Parent") {
      if (auto id = SegmentId::Parse(value)) h.parent = *id, any = true;
    } else if (key == "Sampled") {
      if (value == "1")
        h.sampled = Sampled::kYes, any = true;
      else if (value == "0")
        h.sampled = Sampled::kNo, any = true;
      else if (value == "?")
        h.sampled = Sampled::kRequested, any = true;
    } else if (key == "Lineage") {
      h.lineage = std::string(value);
      any = true;
    } else {
      h.extra.emplace_back(std::string(key), std::string(value));
      any = true;
    }
  }
  if (!any) return std::nullopt;
  return h;
}

std::string TraceHeader::ToString() const {
  std::string s;
  s.reserve(96);
  auto sep = [&] {
    if (!s.empty()) s.push_back(';');
  };
  if (root) {
    s.append("Root=");
    root->AppendTo(s);
  }
  if (parent) {
    sep();
    s.append("Parent=");
    parent->AppendTo(s);
  }
  if (sampled != Sampled::kUnknown) {
    sep();
    s.append("Sampled=");
    s.push_back(sampled == Sampled::kYes ? '1' : sampled == Sampled::kNo ? '0' : '?');
  }
  if (!lineage.empty()) {
    sep();
    s.append("Lineage=").append(lineage);
  }
  for (const auto& [k, v] : extra) {
    sep();
    s.append(k).append("=").append(v);
  }
  return s;
}

}  // namespace roentgen::sdk
