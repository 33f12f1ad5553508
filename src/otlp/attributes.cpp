#include "otlp/attributes.h"

#include <charconv>
#include <cmath>
#include <span>

#include "common/hex.h"

namespace roentgen::otlp {

const otlp_common::AnyValue* AttributeView::Find(std::string_view key) const {
  for (const auto& kv : *attributes_) {
    if (kv.key() == key) return &kv.value();
  }
  return nullptr;
}

std::optional<std::string> AttributeView::String(std::string_view key) const {
  const otlp_common::AnyValue* v = Find(key);
  if (v == nullptr || v->value_case() != otlp_common::AnyValue::kStringValue ||
      v->string_value().empty()) {
    return std::nullopt;
  }
  return v->string_value();
}

std::optional<int64_t> AttributeView::Int(std::string_view key) const {
  const otlp_common::AnyValue* v = Find(key);
  if (v == nullptr) return std::nullopt;
  switch (v->value_case()) {
    case otlp_common::AnyValue::kIntValue:
      return v->int_value();
    case otlp_common::AnyValue::kDoubleValue: {
      double d = v->double_value();
      if (std::isfinite(d) && d == std::trunc(d) && std::fabs(d) < 9.0e15) {
        return static_cast<int64_t>(d);
      }
      return std::nullopt;
    }
    case otlp_common::AnyValue::kStringValue: {
      const std::string& s = v->string_value();
      int64_t out = 0;
      auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
      if (ec != std::errc() || ptr != s.data() + s.size() || s.empty()) return std::nullopt;
      return out;
    }
    default:
      return std::nullopt;
  }
}

std::optional<std::string> AttributeView::FirstString(
    std::initializer_list<std::string_view> keys) const {
  for (std::string_view key : keys) {
    if (auto s = String(key)) return s;
  }
  return std::nullopt;
}

std::optional<int64_t> AttributeView::FirstInt(std::initializer_list<std::string_view> keys) const {
  for (std::string_view key : keys) {
    if (auto i = Int(key)) return i;
  }
  return std::nullopt;
}

bool AttributeView::IsConsumed(std::string_view key) const {
  for (std::string_view k : consumed_) {
    if (k == key) return true;
  }
  return false;
}

nlohmann::json AnyValueToJson(const otlp_common::AnyValue& value) {
  switch (value.value_case()) {
    case otlp_common::AnyValue::kStringValue:
      return value.string_value();
    case otlp_common::AnyValue::kBoolValue:
      return value.bool_value();
    case otlp_common::AnyValue::kIntValue:
      return value.int_value();
    case otlp_common::AnyValue::kDoubleValue:
      // JSON has no NaN or infinity: X-Ray documents could not carry them.
      if (!std::isfinite(value.double_value())) return nullptr;
      return value.double_value();
    case otlp_common::AnyValue::kArrayValue: {
      nlohmann::json out = nlohmann::json::array();
      for (const auto& v : value.array_value().values()) out.push_back(AnyValueToJson(v));
      return out;
    }
    case otlp_common::AnyValue::kKvlistValue: {
      nlohmann::json out = nlohmann::json::object();
      for (const auto& kv : value.kvlist_value().values())
        out[kv.key()] = AnyValueToJson(kv.value());
      return out;
    }
    case otlp_common::AnyValue::kBytesValue: {
      const std::string& b = value.bytes_value();
      return ToHex(std::span(reinterpret_cast<const uint8_t*>(b.data()), b.size()));
    }
    case otlp_common::AnyValue::VALUE_NOT_SET:
      break;
  }
  return nullptr;
}

bool IsScalar(const otlp_common::AnyValue& value) {
  switch (value.value_case()) {
    case otlp_common::AnyValue::kStringValue:
    case otlp_common::AnyValue::kBoolValue:
    case otlp_common::AnyValue::kIntValue:
      return true;
    case otlp_common::AnyValue::kDoubleValue:
      return std::isfinite(value.double_value());
    default:
      return false;
  }
}

}  // namespace roentgen::otlp
