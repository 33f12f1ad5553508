// Helpers for building OTLP requests in the OTLP unit tests.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/hex.h"
#include "otlp/translator.h"

namespace roentgen::otlp::testing {

namespace pb_common = opentelemetry::proto::common::v1;
namespace pb_trace = opentelemetry::proto::trace::v1;

inline std::string Bytes(std::string_view hex) {
  std::string out(hex.size() / 2, '\0');
  DecodeHex(hex, std::span(reinterpret_cast<uint8_t*>(out.data()), out.size()));
  return out;
}

inline void Attr(google::protobuf::RepeatedPtrField<pb_common::KeyValue>* kvs, std::string key,
                 std::string value) {
  auto* kv = kvs->Add();
  kv->set_key(std::move(key));
  kv->mutable_value()->set_string_value(std::move(value));
}
inline void Attr(google::protobuf::RepeatedPtrField<pb_common::KeyValue>* kvs, std::string key,
                 const char* value) {
  Attr(kvs, std::move(key), std::string(value));
}
inline void Attr(google::protobuf::RepeatedPtrField<pb_common::KeyValue>* kvs, std::string key,
                 int64_t value) {
  auto* kv = kvs->Add();
  kv->set_key(std::move(key));
  kv->mutable_value()->set_int_value(value);
}
inline void Attr(google::protobuf::RepeatedPtrField<pb_common::KeyValue>* kvs, std::string key,
                 int value) {
  Attr(kvs, std::move(key), static_cast<int64_t>(value));
}
inline void Attr(google::protobuf::RepeatedPtrField<pb_common::KeyValue>* kvs, std::string key,
                 double value) {
  auto* kv = kvs->Add();
  kv->set_key(std::move(key));
  kv->mutable_value()->set_double_value(value);
}
inline void Attr(google::protobuf::RepeatedPtrField<pb_common::KeyValue>* kvs, std::string key,
                 bool value) {
  auto* kv = kvs->Add();
  kv->set_key(std::move(key));
  kv->mutable_value()->set_bool_value(value);
}
inline void AttrList(google::protobuf::RepeatedPtrField<pb_common::KeyValue>* kvs, std::string key,
                     const std::vector<std::string>& values) {
  auto* kv = kvs->Add();
  kv->set_key(std::move(key));
  for (const std::string& v : values) {
    kv->mutable_value()->mutable_array_value()->add_values()->set_string_value(v);
  }
}

inline constexpr std::string_view kTrace = "5759e988bd862e3fe1be46a994272793";
inline constexpr uint64_t kStart = 1700000000123456789ull;  // ns
inline constexpr uint64_t kEnd = 1700000000623456000ull;

// A resource_spans entry with service.name (if not empty) and one scope.
inline pb_trace::ResourceSpans* AddResource(ExportTraceServiceRequest& req, std::string service) {
  auto* rs = req.add_resource_spans();
  if (!service.empty()) Attr(rs->mutable_resource()->mutable_attributes(), "service.name", service);
  rs->add_scope_spans();
  return rs;
}

inline pb_trace::Span* AddSpan(pb_trace::ResourceSpans* rs, std::string_view span_id,
                               std::string_view parent_id, pb_trace::Span::SpanKind kind,
                               std::string name = "op", std::string_view trace = kTrace) {
  auto* s = rs->mutable_scope_spans(0)->add_spans();
  s->set_trace_id(Bytes(trace));
  s->set_span_id(Bytes(span_id));
  if (!parent_id.empty()) s->set_parent_span_id(Bytes(parent_id));
  s->set_kind(kind);
  s->set_name(std::move(name));
  s->set_start_time_unix_nano(kStart);
  s->set_end_time_unix_nano(kEnd);
  return s;
}

// Deterministic exception ids: 0000000000000001, 0000000000000002, …
inline TranslatorOptions TestOptions() {
  TranslatorOptions o;
  o.new_exception_id = [n = 0]() mutable {
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016x", ++n);
    return std::string(buf);
  };
  return o;
}

}  // namespace roentgen::otlp::testing
