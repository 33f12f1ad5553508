// Read access to OTLP attribute lists (span, event and resource attributes),
// and the conversion of attribute values to JSON.
//
// An AttributeView borrows the protobuf list it was built from: the list must
// outlive the view. Lookups are linear (spans carry tens of attributes, where a
// scan beats hashing). A view also records which keys the translator has
// "consumed" into a dedicated X-Ray field, so the rest can go to metadata.
// Thread safety: a view is used by one thread at a time.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "opentelemetry/proto/common/v1/common.pb.h"

namespace roentgen::otlp {

namespace otlp_common = opentelemetry::proto::common::v1;
using KeyValues = google::protobuf::RepeatedPtrField<otlp_common::KeyValue>;

class AttributeView {
 public:
  explicit AttributeView(const KeyValues& attributes) : attributes_(&attributes) {}

  // The value of the first attribute with this key, or null.
  const otlp_common::AnyValue* Find(std::string_view key) const;
  // A string attribute (non-empty); other types → nullopt.
  std::optional<std::string> String(std::string_view key) const;
  // An integer: int_value, an integral double_value, or a decimal string_value.
  std::optional<int64_t> Int(std::string_view key) const;
  // The first of `keys` present as a non-empty string.
  std::optional<std::string> FirstString(std::initializer_list<std::string_view> keys) const;
  std::optional<int64_t> FirstInt(std::initializer_list<std::string_view> keys) const;

  // Marks a key as mapped to a dedicated field (kept out of metadata). The
  // key's characters must outlive the view (a literal or an attribute's key).
  void Consume(std::string_view key) { consumed_.push_back(key); }
  bool IsConsumed(std::string_view key) const;

  const KeyValues& attributes() const { return *attributes_; }

 private:
  const KeyValues* attributes_;
  std::vector<std::string_view> consumed_;
};

// JSON form of an attribute value: strings, booleans and numbers as themselves,
// arrays as arrays, key/value lists as objects, bytes as lowercase hex, an
// empty value as null.
nlohmann::json AnyValueToJson(const otlp_common::AnyValue& value);

// True for string, bool, int and double values (what an annotation may hold).
bool IsScalar(const otlp_common::AnyValue& value);

}  // namespace roentgen::otlp
