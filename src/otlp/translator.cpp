#include "otlp/translator.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <nlohmann/json.hpp>
#include <span>
#include <unordered_map>

#include "common/hex.h"
#include "otlp/attributes.h"
#include "otlp/span_blocks.h"
#include "xray/ids.h"

namespace roentgen::otlp {
namespace {

using nlohmann::json;
using otlp_trace::Span;

struct SpanKey {
  std::string_view trace_id;  // 16 raw bytes, borrowed from the request
  std::string_view span_id;   // 8 raw bytes
  bool operator==(const SpanKey&) const = default;
};
struct SpanKeyHash {
  size_t operator()(const SpanKey& k) const noexcept {
    return std::hash<std::string_view>()(k.span_id) ^
           (std::hash<std::string_view>()(k.trace_id) << 1);
  }
};

struct Node {
  const Span* span = nullptr;
  size_t resource = 0;  // index into the request's resource_spans
  bool segment = false;
  int parent = -1;  // index of the node it nests under, -1 for a document root
  std::vector<size_t> children;
};

std::string Hex(std::string_view bytes) {
  return ToHex(std::span(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
}

bool AllZero(std::string_view bytes) {
  return std::all_of(bytes.begin(), bytes.end(), [](char c) { return c == 0; });
}

// Time in epoch seconds with microsecond precision, as X-Ray writes it.
double Seconds(uint64_t unix_nanos) { return static_cast<double>(unix_nanos / 1000) / 1e6; }

// X-Ray names: letters, digits, whitespace and _ . : / % & # = + \ - @ (other
// characters dropped; non-ASCII letters kept), at most 200 characters.
std::string SanitizeName(std::string_view name) {
  std::string out;
  size_t chars = 0;
  for (size_t i = 0; i < name.size() && chars < xray::kMaxNameChars; ++i) {
    unsigned char c = static_cast<unsigned char>(name[i]);
    if (c >= 0x80) {
      out.push_back(static_cast<char>(c));
      if ((c & 0xC0) != 0x80) ++chars;  // count UTF-8 lead bytes only
      continue;
    }
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == ' ' || c == '\t' ||
              std::string_view("_.:/%&#=+\\-@").find(c) != std::string_view::npos;
    if (ok) {
      out.push_back(static_cast<char>(c));
      ++chars;
    }
  }
  // Do not end on a cut multi-byte sequence.
  while (!out.empty() && (static_cast<unsigned char>(out.back()) & 0xC0) == 0xC0) out.pop_back();
  return out;
}

// The host of an absolute URL, without userinfo or port ("[::1]" stays whole).
std::string UrlHost(std::string_view url) {
  size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return "";
  std::string_view rest = url.substr(scheme + 3);
  rest = rest.substr(0, rest.find_first_of("/?#"));
  if (size_t at = rest.rfind('@'); at != std::string_view::npos) rest = rest.substr(at + 1);
  if (rest.starts_with('[')) return std::string(rest.substr(0, rest.find(']') + 1));
  return std::string(rest.substr(0, rest.find(':')));
}

bool IsAwsSdkCall(const AttributeView& a) { return a.String("rpc.system") == "aws-api"; }

std::string SubsegmentName(const Span& span, const AttributeView& a) {
  if (span.kind() == Span::SPAN_KIND_CLIENT || span.kind() == Span::SPAN_KIND_PRODUCER) {
    std::optional<std::string> name = a.String("peer.service");
    if (!name && IsAwsSdkCall(a)) name = a.FirstString({"rpc.service", "aws.service"});
    if (!name) name = a.FirstString({"server.address", "net.peer.name", "http.host"});
    if (!name) {
      if (auto url = a.FirstString({"url.full", "http.url"})) {
        std::string host = UrlHost(*url);
        if (!host.empty()) name = host;
      }
    }
    if (name) {
      std::string clean = SanitizeName(*name);
      if (!clean.empty()) return clean;
    }
  }
  return SanitizeName(span.name());
}

// Checks the ids and times X-Ray needs; returns the reason a span is rejected.
std::optional<std::string> Invalid(const Span& span) {
  if (span.trace_id().size() != 16 || AllZero(span.trace_id())) {
    return fmt::format("trace_id must be 16 bytes, not all zero (got {} bytes)",
                       span.trace_id().size());
  }
  if (span.span_id().size() != 8 || AllZero(span.span_id())) {
    return fmt::format("span_id must be 8 bytes, not all zero (got {} bytes)",
                       span.span_id().size());
  }
  if (!span.parent_span_id().empty() && span.parent_span_id().size() != 8) {
    return fmt::format("parent_span_id must be empty or 8 bytes (got {} bytes)",
                       span.parent_span_id().size());
  }
  if (span.start_time_unix_nano() == 0) return std::string("start_time_unix_nano is missing");
  if (span.end_time_unix_nano() != 0 && span.end_time_unix_nano() < span.start_time_unix_nano()) {
    return std::string("end_time_unix_nano is before start_time_unix_nano");
  }
  return std::nullopt;
}

bool HasParent(const Span& span) {
  return span.parent_span_id().size() == 8 && !AllZero(span.parent_span_id());
}

// JSON text exactly as nlohmann::json::dump(-1, ' ', false, replace) writes it
// (the translator's output was that dump; byte-identical output keeps document
// sizes, split points and stored bytes unchanged), written straight into one
// buffer instead of through a tree of maps.

// A string value. Printable ASCII without '"' or '\\' (ids, times, most
// names) is copied; anything else goes through nlohmann's escaping, which also
// replaces invalid UTF-8.
void AppendJsonString(std::string& out, std::string_view s) {
  bool plain = true;
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    plain &= c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
  }
  if (plain) {
    out += '"';
    out.append(s);
    out += '"';
    return;
  }
  out += json(std::string(s)).dump(-1, ' ', false, json::error_handler_t::replace);
}

void AppendJsonDouble(std::string& out, double d) {
  if (!std::isfinite(d)) {
    out += "null";
    return;
  }
  std::array<char, 64> buf;
  char* end = nlohmann::detail::to_chars(buf.data(), buf.data() + buf.size(), d);
  out.append(buf.data(), end);
}

template <typename Int>
void AppendJsonInt(std::string& out, Int i) {
  std::array<char, 24> buf;
  auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), i);
  out.append(buf.data(), end);
}

void AppendJson(std::string& out, const json& j) {
  switch (j.type()) {
    case json::value_t::object: {
      out += '{';
      bool first = true;
      for (const auto& [key, value] : j.get_ref<const json::object_t&>()) {
        if (!first) out += ',';
        first = false;
        AppendJsonString(out, key);
        out += ':';
        AppendJson(out, value);
      }
      out += '}';
      return;
    }
    case json::value_t::array: {
      out += '[';
      bool first = true;
      for (const json& value : j.get_ref<const json::array_t&>()) {
        if (!first) out += ',';
        first = false;
        AppendJson(out, value);
      }
      out += ']';
      return;
    }
    case json::value_t::string:
      AppendJsonString(out, j.get_ref<const std::string&>());
      return;
    case json::value_t::boolean:
      out += j.get<bool>() ? "true" : "false";
      return;
    case json::value_t::number_integer:
      AppendJsonInt(out, j.get<int64_t>());
      return;
    case json::value_t::number_unsigned:
      AppendJsonInt(out, j.get<uint64_t>());
      return;
    case json::value_t::number_float:
      AppendJsonDouble(out, j.get<double>());
      return;
    case json::value_t::null:
      out += "null";
      return;
    default:
      out += j.dump(-1, ' ', false, json::error_handler_t::replace);
      return;
  }
}

void AppendHexString(std::string& out, std::string_view bytes) {
  out += '"';
  AppendHex(std::span(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()), out);
  out += '"';
}

// One X-Ray entity being written: its members as JSON text in one buffer, and
// its nested subsegments. Serialize() writes the members sorted by key, as the
// std::map of a json object did.
struct EntityText {
  struct Member {
    std::string_view key;  // a literal
    uint32_t begin = 0, end = 0;
  };
  std::string text;
  std::vector<Member> members;
  std::vector<EntityText> subsegments;
  std::string id;        // the "id" member's string
  std::string trace_id;  // the "trace_id" member's string, when set

  // Starts member `key` (replacing an earlier one): append its JSON text to
  // `text`, then call End().
  void Begin(std::string_view key) {
    for (Member& m : members) {
      if (m.key == key) {
        m.key = {};  // superseded; the new value is added below
      }
    }
    members.push_back({key, static_cast<uint32_t>(text.size()), 0});
  }
  void End() { members.back().end = static_cast<uint32_t>(text.size()); }

  void SetString(std::string_view key, std::string_view value) {
    Begin(key);
    AppendJsonString(text, value);
    End();
  }
  void SetHex(std::string_view key, std::string_view bytes) {
    Begin(key);
    AppendHexString(text, bytes);
    End();
  }
  void SetRaw(std::string_view key, std::string_view json_text) {
    Begin(key);
    text.append(json_text);
    End();
  }
  void SetJson(std::string_view key, const json& value) {
    Begin(key);
    AppendJson(text, value);
    End();
  }
  void SetDouble(std::string_view key, double value) {
    Begin(key);
    AppendJsonDouble(text, value);
    End();
  }
  void SetTrue(std::string_view key) { SetRaw(key, "true"); }

  size_t CountEntities() const {
    size_t n = 1;
    for (const EntityText& s : subsegments) n += s.CountEntities();
    return n;
  }

  void Serialize(std::string& out) const {
    constexpr std::string_view kSubsegments = "subsegments";
    struct Ref {
      std::string_view key;
      const Member* member;  // null: the subsegments array
    };
    std::array<Ref, 32> fixed;
    std::vector<Ref> spill;
    Ref* refs = fixed.data();
    size_t n = 0;
    if (members.size() + 1 > fixed.size()) {
      spill.resize(members.size() + 1);
      refs = spill.data();
    }
    for (const Member& m : members) {
      if (!m.key.empty() && m.key != kSubsegments) refs[n++] = {m.key, &m};
    }
    if (!subsegments.empty()) refs[n++] = {kSubsegments, nullptr};
    std::sort(refs, refs + n, [](const Ref& x, const Ref& y) { return x.key < y.key; });
    out += '{';
    for (size_t i = 0; i < n; ++i) {
      if (i > 0) out += ',';
      out += '"';
      out.append(refs[i].key);
      out += "\":";
      if (refs[i].member != nullptr) {
        out.append(text, refs[i].member->begin, refs[i].member->end - refs[i].member->begin);
      } else {
        out += '[';
        for (size_t c = 0; c < subsegments.size(); ++c) {
          if (c > 0) out += ',';
          subsegments[c].Serialize(out);
        }
        out += ']';
      }
    }
    out += '}';
  }
};

// What a resource contributes to each of its segments, computed once.
struct ResourceText {
  ResourceBlocks blocks;
  std::string name;          // SanitizeName(service.name)
  std::string service_json;  // empty when blocks.service is null
  std::string aws_json;      // empty when blocks.aws is null
};

class Translator {
 public:
  Translator(const ExportTraceServiceRequest& request, const TranslatorOptions& options)
      : request_(request), options_(options) {
    if (!options_.new_exception_id) {
      options_.new_exception_id = [] { return xray::SegmentId::Generate().ToString(); };
    }
  }

  Translation Run() {
    CollectSpans();
    LinkParents();
    for (size_t i = 0; i < nodes_.size(); ++i) {
      if (nodes_[i].parent < 0) EmitTree(BuildTree(i), !nodes_[i].segment);
    }
    return std::move(out_);
  }

 private:
  void Reject(const Span& span, std::string_view reason) {
    ++out_.rejected_spans;
    if (out_.errors.size() < options_.max_error_lines) {
      out_.errors.push_back(fmt::format("span {}: {}", Hex(span.span_id()), reason));
    } else {
      out_.errors_truncated = true;
    }
  }

  void CollectSpans() {
    size_t spans = 0;
    for (const auto& rs : request_.resource_spans()) {
      for (const auto& scope : rs.scope_spans()) spans += static_cast<size_t>(scope.spans_size());
    }
    nodes_.reserve(spans);
    by_id_.reserve(spans);
    for (size_t r = 0; r < static_cast<size_t>(request_.resource_spans_size()); ++r) {
      for (const auto& scope : request_.resource_spans(r).scope_spans()) {
        for (const Span& span : scope.spans()) {
          ++out_.total_spans;
          if (auto reason = Invalid(span)) {
            Reject(span, *reason);
            continue;
          }
          Node node;
          node.span = &span;
          node.resource = r;
          node.segment = span.kind() == Span::SPAN_KIND_SERVER ||
                         span.kind() == Span::SPAN_KIND_CONSUMER || !HasParent(span);
          by_id_[SpanKey{span.trace_id(), span.span_id()}] = nodes_.size();
          nodes_.push_back(std::move(node));
        }
      }
    }
  }

  // Nests each subsegment under its parent span when that span is in the
  // request; a chain that loops back on itself is cut where the loop closes.
  void LinkParents() {
    for (size_t i = 0; i < nodes_.size(); ++i) {
      Node& n = nodes_[i];
      if (n.segment) continue;
      auto it = by_id_.find(SpanKey{n.span->trace_id(), n.span->parent_span_id()});
      if (it == by_id_.end() || it->second == i) continue;
      bool loops = false;
      for (int p = static_cast<int>(it->second); p >= 0; p = nodes_[p].parent) {
        if (static_cast<size_t>(p) == i) {
          loops = true;
          break;
        }
      }
      if (loops) continue;
      n.parent = static_cast<int>(it->second);
      nodes_[it->second].children.push_back(i);
    }
  }

  const ResourceText& Resource(size_t r) {
    auto it = resources_.find(r);
    if (it == resources_.end()) {
      ResourceText res;
      res.blocks =
          MakeResourceBlocks(AttributeView(request_.resource_spans(r).resource().attributes()));
      res.name = SanitizeName(res.blocks.service_name);
      if (!res.blocks.service.is_null()) AppendJson(res.service_json, res.blocks.service);
      if (!res.blocks.aws.is_null()) AppendJson(res.aws_json, res.blocks.aws);
      it = resources_.emplace(r, std::move(res)).first;
    }
    return it->second;
  }

  EntityText BuildEntity(const Node& node) {
    const Span& span = *node.span;
    AttributeView a(span.attributes());
    const ResourceText& res = Resource(node.resource);
    EntityText e;
    e.text.reserve(512);
    e.members.reserve(16);
    e.id = Hex(span.span_id());
    e.SetString("id", e.id);
    e.SetDouble("start_time", Seconds(span.start_time_unix_nano()));
    if (span.end_time_unix_nano() != 0) {
      e.SetDouble("end_time", Seconds(span.end_time_unix_nano()));
    } else {
      e.SetTrue("in_progress");
    }
    std::string name;
    if (node.segment) {
      name = res.name.empty() ? SubsegmentName(span, a) : res.name;
      e.trace_id = XRayTraceId(span.trace_id());
      e.SetString("trace_id", e.trace_id);
      if (HasParent(span)) e.SetHex("parent_id", span.parent_span_id());
      if (!res.blocks.origin.empty()) e.SetString("origin", res.blocks.origin);
      if (!res.service_json.empty()) e.SetRaw("service", res.service_json);
      if (!res.aws_json.empty()) e.SetRaw("aws", res.aws_json);
      if (!res.blocks.resource_arn.empty()) e.SetString("resource_arn", res.blocks.resource_arn);
      if (auto user = a.String("enduser.id")) {
        e.SetString("user", *user);
        a.Consume("enduser.id");
      }
    } else {
      name = SubsegmentName(span, a);
      bool outgoing =
          span.kind() == Span::SPAN_KIND_CLIENT || span.kind() == Span::SPAN_KIND_PRODUCER;
      if (IsAwsSdkCall(a)) {
        e.SetString("namespace", "aws");
        json aws = MakeAwsCall(a);
        if (!aws.is_null()) e.SetJson("aws", aws);
      } else if (outgoing) {
        e.SetString("namespace", "remote");
      }
    }
    e.SetString("name", name.empty() ? std::string_view("span") : std::string_view(name));
    HttpBlock http = MakeHttp(a, node.segment);
    if (!http.json.is_null()) e.SetJson("http", http.json);
    Outcome outcome = MakeOutcome(http.status, span.status());
    if (outcome.error) e.SetTrue("error");
    if (outcome.throttle) e.SetTrue("throttle");
    if (outcome.fault) e.SetTrue("fault");
    json cause = MakeCause(span, outcome, options_.new_exception_id, options_.max_stack_frames);
    if (!cause.is_null()) e.SetJson("cause", cause);
    json annotations = TakeAnnotations(a);
    if (!annotations.empty()) e.SetJson("annotations", annotations);
    AppendMetadata(a, e);
    return e;
  }

  // AddAnnotationsAndMetadata's "metadata": {"default": {key: value}} for every
  // attribute not consumed (the first of a repeated key), keys sorted as a
  // json object sorts them.
  void AppendMetadata(const AttributeView& a, EntityText& e) {
    metadata_.clear();
    for (const auto& kv : a.attributes()) {
      if (a.IsConsumed(kv.key())) continue;
      metadata_.push_back({kv.key(), &kv.value(), metadata_.size()});
    }
    if (metadata_.empty()) return;
    // Sorted by key, then by attribute order: the first of equal keys is kept.
    std::sort(metadata_.begin(), metadata_.end(), [](const MetadataRef& x, const MetadataRef& y) {
      return x.key != y.key ? x.key < y.key : x.order < y.order;
    });
    e.Begin("metadata");
    e.text += "{\"default\":{";
    std::string_view previous;
    for (size_t i = 0; i < metadata_.size(); ++i) {
      const MetadataRef& m = metadata_[i];
      if (i > 0 && m.key == previous) continue;
      if (i > 0) e.text += ',';
      previous = m.key;
      AppendJsonString(e.text, m.key);
      e.text += ':';
      AppendAnyValue(e.text, *m.value);
    }
    e.text += "}}";
    e.End();
  }

  // AnyValueToJson(value), written as JSON text.
  static void AppendAnyValue(std::string& out, const otlp_common::AnyValue& value) {
    switch (value.value_case()) {
      case otlp_common::AnyValue::kStringValue:
        AppendJsonString(out, value.string_value());
        return;
      case otlp_common::AnyValue::kBoolValue:
        out += value.bool_value() ? "true" : "false";
        return;
      case otlp_common::AnyValue::kIntValue:
        AppendJsonInt(out, value.int_value());
        return;
      case otlp_common::AnyValue::kDoubleValue:
        AppendJsonDouble(out, value.double_value());  // null when not finite, as AnyValueToJson
        return;
      default:
        AppendJson(out, AnyValueToJson(value));
        return;
    }
  }

  EntityText BuildTree(size_t index) {
    Node& node = nodes_[index];
    EntityText e = BuildEntity(node);
    if (!node.children.empty()) {
      std::sort(node.children.begin(), node.children.end(), [this](size_t x, size_t y) {
        return nodes_[x].span->start_time_unix_nano() < nodes_[y].span->start_time_unix_nano();
      });
      e.subsegments.reserve(node.children.size());
      for (size_t c : node.children) e.subsegments.push_back(BuildTree(c));
    }
    if (node.parent < 0 && !node.segment) {
      e.SetString("type", "subsegment");
      e.trace_id = XRayTraceId(node.span->trace_id());
      e.SetString("trace_id", e.trace_id);
      e.SetHex("parent_id", node.span->parent_span_id());
    }
    return e;
  }

  // Emits one document; past the size limit its subsegments go out as
  // independent subsegment documents (recursively).
  void EmitTree(EntityText doc, bool independent) {
    std::string text;
    text.reserve(doc.text.size() + 64 + 1024 * doc.subsegments.size());
    doc.Serialize(text);
    if (text.size() <= options_.max_document_bytes) {
      out_.documents.push_back({std::move(text), std::move(doc.id), doc.CountEntities()});
      return;
    }
    if (doc.subsegments.empty()) {
      ++out_.rejected_spans;
      if (out_.errors.size() < options_.max_error_lines) {
        out_.errors.push_back(
            fmt::format("span {}: its X-Ray document is {} bytes, over the {}-byte limit", doc.id,
                        text.size(), options_.max_document_bytes));
      } else {
        out_.errors_truncated = true;
      }
      return;
    }
    std::vector<EntityText> subs = std::move(doc.subsegments);
    doc.subsegments.clear();
    std::string trace_id = doc.trace_id;
    std::string id = doc.id;
    EmitTree(std::move(doc), independent);
    for (EntityText& sub : subs) {
      sub.SetString("type", "subsegment");
      sub.trace_id = trace_id;
      sub.SetString("trace_id", trace_id);
      sub.SetString("parent_id", id);
      EmitTree(std::move(sub), true);
    }
  }

  const ExportTraceServiceRequest& request_;
  TranslatorOptions options_;
  std::vector<Node> nodes_;
  std::unordered_map<SpanKey, size_t, SpanKeyHash> by_id_;
  std::unordered_map<size_t, ResourceText> resources_;
  struct MetadataRef {
    std::string_view key;
    const otlp_common::AnyValue* value;
    size_t order;
  };
  std::vector<MetadataRef> metadata_;  // AppendMetadata's scratch
  Translation out_;
};

}  // namespace

std::string XRayTraceId(const std::string& otlp_trace_id) {
  std::string hex = Hex(otlp_trace_id);
  return "1-" + hex.substr(0, 8) + "-" + hex.substr(8);
}

Translation Translate(const ExportTraceServiceRequest& request, const TranslatorOptions& options) {
  return Translator(request, options).Run();
}

}  // namespace roentgen::otlp
