#include "store/store_keys.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>

namespace roentgen::store::keys {
namespace {

constexpr uint64_t kSignBit = uint64_t{1} << 63;

void AppendBigEndian64(uint64_t v, std::string& out) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>(v >> shift));
}

void AppendVarint32(uint32_t v, std::string& out) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

void AppendTraceId(const xray::TraceId& id, std::string& out) {
  out.append(reinterpret_cast<const char*>(id.bytes.data()), id.bytes.size());
}

void AppendAnnotationValue(const xray::AnnotationValue& value, std::string& out) {
  if (const auto* s = std::get_if<std::string>(&value)) {
    out.push_back(static_cast<char>(ValueTag::kString));
    AppendLengthPrefixed(*s, out);
  } else if (const auto* d = std::get_if<double>(&value)) {
    out.push_back(static_cast<char>(ValueTag::kNumber));
    AppendOrderedDouble(*d, out);
  } else {
    out.push_back(static_cast<char>(ValueTag::kBool));
    out.push_back(std::get<bool>(value) ? 1 : 0);
  }
}

std::string KindPrefix(IndexKind kind) { return std::string(1, static_cast<char>(kind)); }

std::string AnnotationPrefix(std::string_view key, const xray::AnnotationValue& value) {
  std::string p = KindPrefix(IndexKind::kAnnotation);
  AppendLengthPrefixed(key, p);
  AppendAnnotationValue(value, p);
  return p;
}

std::string ServicePrefix(std::string_view name) {
  std::string p = KindPrefix(IndexKind::kService);
  AppendLengthPrefixed(name, p);
  return p;
}

std::string ServiceTypePrefix(std::string_view name, std::string_view type) {
  std::string p = KindPrefix(IndexKind::kServiceType);
  AppendLengthPrefixed(name, p);
  AppendLengthPrefixed(type, p);
  return p;
}

std::string UserPrefix(std::string_view user) {
  std::string p = KindPrefix(IndexKind::kUser);
  AppendLengthPrefixed(user, p);
  return p;
}

std::string HttpStatusPrefix(int status) {
  std::string p = KindPrefix(IndexKind::kHttpStatus);
  AppendOrderedInt32(status, p);
  return p;
}

}  // namespace

void AppendOrderedInt64(int64_t v, std::string& out) {
  AppendBigEndian64(static_cast<uint64_t>(v) ^ kSignBit, out);
}

int64_t DecodeOrderedInt64(const char* p8) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(p8[i]);
  return static_cast<int64_t>(v ^ kSignBit);
}

void AppendOrderedInt32(int32_t v, std::string& out) {
  uint32_t u = static_cast<uint32_t>(v) ^ (uint32_t{1} << 31);
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>(u >> shift));
}

void AppendOrderedDouble(double v, std::string& out) {
  if (v == 0) v = 0.0;  // folds -0.0 into +0.0
  if (std::isnan(v)) v = std::numeric_limits<double>::quiet_NaN();
  uint64_t bits = std::bit_cast<uint64_t>(v);
  bits = (bits & kSignBit) ? ~bits : (bits | kSignBit);
  AppendBigEndian64(bits, out);
}

void AppendLengthPrefixed(std::string_view s, std::string& out) {
  AppendVarint32(static_cast<uint32_t>(s.size()), out);
  out.append(s);
}

std::string DocumentKey(const xray::TraceId& trace, const xray::SegmentId& entity) {
  std::string key;
  key.reserve(kTraceIdBytes + kEntityIdBytes);
  AppendTraceId(trace, key);
  AppendBigEndian64(entity.value, key);
  return key;
}

std::string TraceKey(const xray::TraceId& trace) {
  std::string key;
  AppendTraceId(trace, key);
  return key;
}

std::string TimeKey(int64_t time_us, const xray::TraceId& trace) {
  std::string key;
  key.reserve(kTimeSuffixBytes);
  AppendOrderedInt64(time_us, key);
  AppendTraceId(trace, key);
  return key;
}

std::string ConfigKey(std::string_view ns, std::string_view key) {
  std::string out;
  out.reserve(ns.size() + 1 + key.size());
  out.append(ns);
  out.push_back('\0');
  out.append(key);
  return out;
}

Result<std::string> IndexPrefix(const IndexCondition& c) {
  using Kind = IndexCondition::Kind;
  switch (c.kind) {
    case Kind::kAnnotationEquals:
      return AnnotationPrefix(c.key, c.value);
    case Kind::kServiceName:
      return c.type.empty() ? ServicePrefix(c.text) : ServiceTypePrefix(c.text, c.type);
    case Kind::kUser:
      return UserPrefix(c.text);
    case Kind::kHttpStatus:
      return HttpStatusPrefix(c.http_status);
    case Kind::kFault:
      return KindPrefix(IndexKind::kFault);
    case Kind::kError:
      return KindPrefix(IndexKind::kError);
    case Kind::kThrottle:
      return KindPrefix(IndexKind::kThrottle);
  }
  return Status::InvalidArgument("unknown index condition kind");
}

bool DecodeTimeSuffix(std::string_view key, int64_t* time_us, xray::TraceId* trace) {
  if (key.size() < kTimeSuffixBytes) return false;
  const char* p = key.data() + key.size() - kTimeSuffixBytes;
  *time_us = DecodeOrderedInt64(p);
  *trace = xray::TraceId::FromBinary(reinterpret_cast<const uint8_t*>(p + kTimeBytes));
  return true;
}

std::string PrefixSuccessor(std::string_view prefix) {
  std::string s(prefix);
  while (!s.empty()) {
    auto& last = reinterpret_cast<unsigned char&>(s.back());
    if (last != 0xff) {
      ++last;
      return s;
    }
    s.pop_back();
  }
  return s;
}

std::vector<IndexEntry> IndexEntriesFor(const xray::TraceSummary& summary) {
  std::vector<IndexEntry> entries;
  entries.push_back({IndexFamily::kTime, TimeKey(summary.start_time_us, summary.id)});
  entries.push_back({IndexFamily::kEvent, TimeKey(summary.updated_us, summary.id)});

  const std::string suffix = TimeKey(summary.start_time_us, summary.id);
  auto add = [&](std::string prefix) {
    prefix += suffix;
    entries.push_back({IndexFamily::kSecondary, std::move(prefix)});
  };
  for (const auto& annotation : summary.annotations) {
    for (const auto& v : annotation.values) add(AnnotationPrefix(annotation.key, v.value));
  }
  for (const auto& service : summary.service_ids) {
    auto add_name = [&](const std::string& name) {
      add(ServicePrefix(name));
      add(ServiceTypePrefix(name, service.type));
    };
    add_name(service.name);
    for (const auto& alias : service.names) add_name(alias);
  }
  for (const auto& user : summary.users) add(UserPrefix(user.user_name));
  if (summary.http.status) add(HttpStatusPrefix(*summary.http.status));
  if (summary.has_fault) add(KindPrefix(IndexKind::kFault));
  if (summary.has_error) add(KindPrefix(IndexKind::kError));
  if (summary.has_throttle) add(KindPrefix(IndexKind::kThrottle));

  std::sort(entries.begin(), entries.end());
  entries.erase(std::unique(entries.begin(), entries.end()), entries.end());
  return entries;
}

}  // namespace roentgen::store::keys
