// Key layouts of the embedded store's column families (docs/storage.md has the
// byte-by-byte description; store_keys_test.cpp pins it).
//
// Every multi-byte number in a key is big-endian and order-preserving, so the
// byte order of keys is the order of their values: signed integers have their
// sign bit flipped, doubles use the usual sign-magnitude flip. Variable-length
// parts (strings) are length-prefixed, which makes each index "value prefix"
// prefix-free: a range scan over one value never sees another value's keys.
// Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "store/rocksdb/index_plan.h"
#include "store/store.h"
#include "xray/ids.h"

namespace roentgen::store::keys {

inline constexpr size_t kTraceIdBytes = 16;
inline constexpr size_t kEntityIdBytes = 8;
inline constexpr size_t kTimeBytes = 8;
// time (8) + trace id (16): the suffix of every time-ordered index key.
inline constexpr size_t kTimeSuffixBytes = kTimeBytes + kTraceIdBytes;

// Secondary index kinds: the first byte of every key in the index column family.
enum class IndexKind : uint8_t {
  kAnnotation = 0x01,   // varstr key, typed value
  kService = 0x02,      // varstr name
  // 0x03 (varstr name, varstr type) was service name + type until 2026-11:
  // a typed service condition now scans the name's entries and the evaluator
  // re-checks the type (3 fewer keys per typical trace at ingest). Stores
  // written before are cleaned of it when opened.
  kRetiredServiceType = 0x03,
  kUser = 0x04,         // varstr user
  kHttpStatus = 0x05,   // 4-byte order-preserving int32
  kFault = 0x06,        // (no payload)
  kError = 0x07,
  kThrottle = 0x08,
};

// Annotation value tags inside index keys: string "5" and number 5 differ.
enum class ValueTag : uint8_t { kString = 0x01, kNumber = 0x02, kBool = 0x03 };

// Order-preserving fixed-width encodings (appended to `out`).
void AppendOrderedInt64(int64_t v, std::string& out);
int64_t DecodeOrderedInt64(const char* p8);
void AppendOrderedInt32(int32_t v, std::string& out);
// -0.0 is written as 0.0 and every NaN as one canonical NaN, so equal numbers
// always have equal bytes.
void AppendOrderedDouble(double v, std::string& out);
// varint32 length + bytes.
void AppendLengthPrefixed(std::string_view s, std::string& out);

// documents: trace id (16) + entity id (8, big-endian).
std::string DocumentKey(const xray::TraceId& trace, const xray::SegmentId& entity);
// traces: trace id (16).
std::string TraceKey(const xray::TraceId& trace);
// time and event indexes: ordered time (8) + trace id (16).
std::string TimeKey(int64_t time_us, const xray::TraceId& trace);
// config: namespace + 0x00 + key.
std::string ConfigKey(std::string_view ns, std::string_view key);

// The prefix shared by every entry of one index value (before time + trace id).
// Returns InvalidArgument for a condition the index cannot answer.
Result<std::string> IndexPrefix(const IndexCondition& condition);

// Splits the trailing time + trace id off a time-ordered key. False if `key`
// is shorter than kTimeSuffixBytes.
bool DecodeTimeSuffix(std::string_view key, int64_t* time_us, xray::TraceId* trace);

// The smallest key greater than every key starting with `prefix`; empty if
// there is none (prefix is all 0xff).
std::string PrefixSuccessor(std::string_view prefix);

enum class IndexFamily : uint8_t { kTime, kEvent, kSecondary };

struct IndexEntry {
  IndexFamily family;
  std::string key;
  auto operator<=>(const IndexEntry&) const = default;
};

// Every index entry a trace summary produces, sorted and without duplicates.
std::vector<IndexEntry> IndexEntriesFor(const xray::TraceSummary& summary);

}  // namespace roentgen::store::keys
