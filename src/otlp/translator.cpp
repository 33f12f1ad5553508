#include "otlp/translator.h"

#include <fmt/format.h>

#include <algorithm>
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
          nodes_.push_back(node);
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

  const ResourceBlocks& Resource(size_t r) {
    auto it = resources_.find(r);
    if (it == resources_.end()) {
      it = resources_
               .emplace(r, MakeResourceBlocks(
                               AttributeView(request_.resource_spans(r).resource().attributes())))
               .first;
    }
    return it->second;
  }

  json BuildEntity(const Node& node) {
    const Span& span = *node.span;
    AttributeView a(span.attributes());
    const ResourceBlocks& res = Resource(node.resource);
    json e = json::object();
    e["id"] = Hex(span.span_id());
    e["start_time"] = Seconds(span.start_time_unix_nano());
    if (span.end_time_unix_nano() != 0) {
      e["end_time"] = Seconds(span.end_time_unix_nano());
    } else {
      e["in_progress"] = true;
    }
    if (node.segment) {
      std::string name = SanitizeName(res.service_name);
      e["name"] = name.empty() ? SubsegmentName(span, a) : name;
      e["trace_id"] = XRayTraceId(span.trace_id());
      if (HasParent(span)) e["parent_id"] = Hex(span.parent_span_id());
      if (!res.origin.empty()) e["origin"] = res.origin;
      if (!res.service.is_null()) e["service"] = res.service;
      if (!res.aws.is_null()) e["aws"] = res.aws;
      if (!res.resource_arn.empty()) e["resource_arn"] = res.resource_arn;
      if (auto user = a.String("enduser.id")) {
        e["user"] = *user;
        a.Consume("enduser.id");
      }
    } else {
      e["name"] = SubsegmentName(span, a);
      bool outgoing =
          span.kind() == Span::SPAN_KIND_CLIENT || span.kind() == Span::SPAN_KIND_PRODUCER;
      if (IsAwsSdkCall(a)) {
        e["namespace"] = "aws";
        json aws = MakeAwsCall(a);
        if (!aws.is_null()) e["aws"] = std::move(aws);
      } else if (outgoing) {
        e["namespace"] = "remote";
      }
    }
    if (e["name"].get_ref<const std::string&>().empty()) e["name"] = "span";
    HttpBlock http = MakeHttp(a, node.segment);
    if (!http.json.is_null()) e["http"] = std::move(http.json);
    Outcome outcome = MakeOutcome(http.status, span.status());
    if (outcome.error) e["error"] = true;
    if (outcome.throttle) e["throttle"] = true;
    if (outcome.fault) e["fault"] = true;
    json cause = MakeCause(span, outcome, options_.new_exception_id, options_.max_stack_frames);
    if (!cause.is_null()) e["cause"] = std::move(cause);
    AddAnnotationsAndMetadata(a, e);
    return e;
  }

  json BuildTree(size_t index) {
    Node& node = nodes_[index];
    json e = BuildEntity(node);
    if (!node.children.empty()) {
      std::sort(node.children.begin(), node.children.end(), [this](size_t x, size_t y) {
        return nodes_[x].span->start_time_unix_nano() < nodes_[y].span->start_time_unix_nano();
      });
      json subs = json::array();
      for (size_t c : node.children) subs.push_back(BuildTree(c));
      e["subsegments"] = std::move(subs);
    }
    if (node.parent < 0 && !node.segment) {
      e["type"] = "subsegment";
      e["trace_id"] = XRayTraceId(node.span->trace_id());
      e["parent_id"] = Hex(node.span->parent_span_id());
    }
    return e;
  }

  static size_t CountEntities(const json& e) {
    size_t n = 1;
    if (auto it = e.find("subsegments"); it != e.end()) {
      for (const json& s : *it) n += CountEntities(s);
    }
    return n;
  }

  // Emits one document; past the size limit its subsegments go out as
  // independent subsegment documents (recursively).
  void EmitTree(json doc, bool independent) {
    std::string text = doc.dump(-1, ' ', false, json::error_handler_t::replace);
    std::string id = doc["id"].get<std::string>();
    if (text.size() <= options_.max_document_bytes) {
      out_.documents.push_back({std::move(text), std::move(id), CountEntities(doc)});
      return;
    }
    auto subs_it = doc.find("subsegments");
    if (subs_it == doc.end()) {
      ++out_.rejected_spans;
      if (out_.errors.size() < options_.max_error_lines) {
        out_.errors.push_back(
            fmt::format("span {}: its X-Ray document is {} bytes, over the {}-byte limit", id,
                        text.size(), options_.max_document_bytes));
      } else {
        out_.errors_truncated = true;
      }
      return;
    }
    json subs = std::move(*subs_it);
    doc.erase("subsegments");
    std::string trace_id = doc["trace_id"].get<std::string>();
    EmitTree(std::move(doc), independent);
    for (json& sub : subs) {
      sub["type"] = "subsegment";
      sub["trace_id"] = trace_id;
      sub["parent_id"] = id;
      EmitTree(std::move(sub), true);
    }
  }

  const ExportTraceServiceRequest& request_;
  TranslatorOptions options_;
  std::vector<Node> nodes_;
  std::unordered_map<SpanKey, size_t, SpanKeyHash> by_id_;
  std::unordered_map<size_t, ResourceBlocks> resources_;
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
