#include "store/rocksdb/store_keys.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <limits>

#include "common/coding.h"

namespace roentgen::store::keys {
namespace {

constexpr uint64_t kSignBit = uint64_t{1} << 63;

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

// Each index prefix is appended to a key under construction, so that a full
// index key (prefix + time + trace id) is built in one string.
void AppendKind(IndexKind kind, std::string& out) { out.push_back(static_cast<char>(kind)); }

void AppendAnnotationPrefix(std::string_view key, const xray::AnnotationValue& value,
                            std::string& out) {
  AppendKind(IndexKind::kAnnotation, out);
  AppendLengthPrefixed(key, out);
  AppendAnnotationValue(value, out);
}

void AppendServicePrefix(std::string_view name, std::string& out) {
  AppendKind(IndexKind::kService, out);
  AppendLengthPrefixed(name, out);
}

void AppendUserPrefix(std::string_view user, std::string& out) {
  AppendKind(IndexKind::kUser, out);
  AppendLengthPrefixed(user, out);
}

void AppendHttpStatusPrefix(int status, std::string& out) {
  AppendKind(IndexKind::kHttpStatus, out);
  AppendOrderedInt32(status, out);
}

template <typename Append>
std::string Prefix(Append append) {
  std::string p;
  append(p);
  return p;
}

std::string KindPrefix(IndexKind kind) { return std::string(1, static_cast<char>(kind)); }

// Bytes a length-prefixed string takes at most (varint32 length + bytes).
size_t LengthPrefixedBound(std::string_view s) { return coding::kMaxVarint32Bytes + s.size(); }

}  // namespace

void AppendOrderedInt64(int64_t v, std::string& out) {
  coding::PutBigEndian64(static_cast<uint64_t>(v) ^ kSignBit, out);
}

int64_t DecodeOrderedInt64(const char* p8) {
  return static_cast<int64_t>(coding::DecodeBigEndian64(p8) ^ kSignBit);
}

void AppendOrderedInt32(int32_t v, std::string& out) {
  coding::PutBigEndian32(static_cast<uint32_t>(v) ^ (uint32_t{1} << 31), out);
}

void AppendOrderedDouble(double v, std::string& out) {
  if (v == 0) v = 0.0;  // folds -0.0 into +0.0
  if (std::isnan(v)) v = std::numeric_limits<double>::quiet_NaN();
  uint64_t bits = std::bit_cast<uint64_t>(v);
  bits = (bits & kSignBit) ? ~bits : (bits | kSignBit);
  coding::PutBigEndian64(bits, out);
}

void AppendLengthPrefixed(std::string_view s, std::string& out) {
  coding::PutLengthPrefixed(s, out);
}

std::string DocumentKey(const xray::TraceId& trace, const xray::SegmentId& entity) {
  std::string key;
  key.reserve(kTraceIdBytes + kEntityIdBytes);
  AppendTraceId(trace, key);
  coding::PutBigEndian64(entity.value, key);
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
      return Prefix([&](std::string& p) { AppendAnnotationPrefix(c.key, c.value, p); });
    case Kind::kServiceName:
      // The type, if any, is not in the key: the evaluator re-checks it.
      return Prefix([&](std::string& p) { AppendServicePrefix(c.text, p); });
    case Kind::kUser:
      return Prefix([&](std::string& p) { AppendUserPrefix(c.text, p); });
    case Kind::kHttpStatus:
      return Prefix([&](std::string& p) { AppendHttpStatusPrefix(c.http_status, p); });
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
  // A service's names usually hold just its name, whose keys the name itself
  // already gives: such aliases are skipped (sort + unique would drop them).
  auto is_alias = [](const xray::ServiceId& service, const std::string& alias) {
    return alias != service.name;
  };
  size_t count = 2 + summary.users.size() + 4;
  for (const auto& annotation : summary.annotations) count += annotation.values.size();
  for (const auto& service : summary.service_ids) {
    count += 1;
    for (const auto& alias : service.names) count += is_alias(service, alias) ? 1 : 0;
  }
  std::vector<IndexEntry> entries;
  entries.reserve(count);
  entries.push_back({IndexFamily::kTime, TimeKey(summary.start_time_us, summary.id)});
  entries.push_back({IndexFamily::kEvent, TimeKey(summary.updated_us, summary.id)});

  // Every secondary key is prefix + the time key, built in one string.
  std::array<char, kTimeSuffixBytes> suffix_bytes;
  std::copy(entries.front().key.begin(), entries.front().key.end(), suffix_bytes.begin());
  const std::string_view suffix(suffix_bytes.data(), suffix_bytes.size());
  auto add = [&](size_t prefix_bound, auto append_prefix) {
    std::string key;
    key.reserve(prefix_bound + suffix.size());
    append_prefix(key);
    key.append(suffix);
    entries.push_back({IndexFamily::kSecondary, std::move(key)});
  };
  // Kind (1) + a double or a length-prefixed string, or a bool (1).
  constexpr size_t kValueBound = 1 + coding::kMaxVarint32Bytes + 8;
  for (const auto& annotation : summary.annotations) {
    for (const auto& v : annotation.values) {
      const auto* text = std::get_if<std::string>(&v.value);
      const size_t bound = 1 + LengthPrefixedBound(annotation.key) + kValueBound +
                           (text != nullptr ? text->size() : 0);
      add(bound, [&](std::string& k) { AppendAnnotationPrefix(annotation.key, v.value, k); });
    }
  }
  for (const auto& service : summary.service_ids) {
    auto add_name = [&](const std::string& name) {
      add(1 + LengthPrefixedBound(name), [&](std::string& k) { AppendServicePrefix(name, k); });
    };
    add_name(service.name);
    for (const auto& alias : service.names) {
      if (is_alias(service, alias)) add_name(alias);
    }
  }
  for (const auto& user : summary.users) {
    add(1 + LengthPrefixedBound(user.user_name),
        [&](std::string& k) { AppendUserPrefix(user.user_name, k); });
  }
  if (summary.http.status) {
    add(1 + 4, [&](std::string& k) { AppendHttpStatusPrefix(*summary.http.status, k); });
  }
  if (summary.has_fault) add(1, [](std::string& k) { AppendKind(IndexKind::kFault, k); });
  if (summary.has_error) add(1, [](std::string& k) { AppendKind(IndexKind::kError, k); });
  if (summary.has_throttle) add(1, [](std::string& k) { AppendKind(IndexKind::kThrottle, k); });

  std::sort(entries.begin(), entries.end());
  entries.erase(std::unique(entries.begin(), entries.end()), entries.end());
  return entries;
}

}  // namespace roentgen::store::keys
