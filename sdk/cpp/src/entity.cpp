// Entities: recording into a segment's nodes, and ending them.
#include <cxxabi.h>
#include <dlfcn.h>
#include <execinfo.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <stdexcept>
#include <typeinfo>

#include "sdk_internal.h"

namespace roentgen::sdk {
namespace {

using detail::Access;
using detail::Node;
using detail::SegmentState;

constexpr size_t kMaxAnnotations = 50;
constexpr size_t kMaxAnnotationKey = 500;
constexpr size_t kMaxStackFrames = 64;

// Runs `f(node, state)` under the segment's lock when the entity records.
template <class F>
void WithNode(const TraceContext& ctx, F&& f) {
  SegmentState* s = Access::state(ctx);
  if (s == nullptr || !s->sampled) return;
  if (s->facade && Access::node(ctx) == 0) return;  // Lambda's segment, not ours
  std::lock_guard lock(s->mu);
  if (s->emitted) return;
  if (Node* n = Access::Live(*s, ctx)) f(*n, *s);
}

bool ValidAnnotationKey(std::string_view key) {
  if (key.empty() || key.size() > kMaxAnnotationKey) return false;
  for (char c : key) {
    bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) return false;
  }
  return true;
}

void SetMember(std::vector<std::pair<std::string, std::string>>& members, std::string_view key,
               std::string value) {
  for (auto& [k, v] : members) {
    if (k == key) {
      v = std::move(value);
      return;
    }
  }
  members.emplace_back(std::string(key), std::move(value));
}

void Annotate(const TraceContext& ctx, std::string_view key, std::string value) {
  SegmentState* s = Access::state(ctx);
  if (s == nullptr || !s->sampled) return;
  if (!ValidAnnotationKey(key)) {
    s->recorder->annotations_dropped.fetch_add(1, std::memory_order_relaxed);
    s->recorder->Warn("annotation dropped: key '" + std::string(key.substr(0, 64)) +
                      "' is not 1-500 ASCII letters, digits or underscores");
    return;
  }
  bool full = false;
  WithNode(ctx, [&](Node& n, SegmentState&) {
    for (auto& [k, v] : n.annotations) {
      if (k == key) {
        v = std::move(value);
        return;
      }
    }
    if (n.annotations.size() >= kMaxAnnotations) {
      full = true;
      return;
    }
    n.annotations.emplace_back(std::string(key), std::move(value));
  });
  if (full) {
    s->recorder->annotations_dropped.fetch_add(1, std::memory_order_relaxed);
    s->recorder->Warn("annotation dropped: more than 50 on one entity ('" + std::string(key) +
                      "')");
  }
}

void Meta(const TraceContext& ctx, std::string_view ns, std::string_view key, std::string value) {
  if (ns.empty()) ns = "default";
  if (ns.starts_with("AWS.")) {
    // Reserved for AWS, as the X-Ray SDKs enforce.
    SegmentState* s = Access::state(ctx);
    s->recorder->annotations_dropped.fetch_add(1, std::memory_order_relaxed);
    s->recorder->Warn("metadata dropped: the namespace '" + std::string(ns) +
                      "' is reserved for AWS");
    return;
  }
  WithNode(ctx, [&](Node& n, SegmentState&) {
    for (auto& [k, v] : n.metadata) {
      if (k.first == ns && k.second == key) {
        v = std::move(value);
        return;
      }
    }
    n.metadata.emplace_back(std::make_pair(std::string(ns), std::string(key)), std::move(value));
  });
}

std::string Demangle(const char* name) {
  int status = 0;
  char* d = abi::__cxa_demangle(name, nullptr, nullptr, &status);
  std::string out = status == 0 && d ? d : name;
  std::free(d);
  return out;
}

// cause.exceptions[] element: id, message, type, remote, stack (this
// thread's, from backtrace(3): path = the binary, label = the function).
// `caller`: the return address in the code that called the public
// AddException; the stack starts at that frame.
std::string ExceptionJson(std::string_view type, std::string_view message, bool remote,
                          void* caller) {
  std::string out;
  out.reserve(512);
  out.append("{\"id\":\"");
  detail::AppendHex(out, detail::Random64(), 16);
  out.append("\",\"message\":");
  detail::AppendJsonString(out, message);
  out.append(",\"type\":");
  detail::AppendJsonString(out, type);
  if (remote) out.append(",\"remote\":true");
  void* frames[kMaxStackFrames + 3];
  int n = backtrace(frames, static_cast<int>(kMaxStackFrames + 3));
  // Not the SDK's own frames: they end where the caller's begins (how many
  // there are depends on inlining and sanitizers).
  int skip = 0;
  while (skip < n && frames[skip] != caller) ++skip;
  if (skip == n) skip = std::min(n, 3);  // not found: this, RecordException, AddException
  if (n > skip) {
    out.append(",\"stack\":[");
    for (int i = skip; i < n; ++i) {
      // dladdr names exported functions only (an executable's, when linked
      // with -rdynamic); other frames get their offset in the binary, which
      // `addr2line -f -C -e PATH OFFSET` resolves.
      Dl_info info{};
      std::string label;
      std::string_view path;
      if (dladdr(frames[i], &info) != 0) {
        path = info.dli_fname ? info.dli_fname : "";
        if (info.dli_sname) {
          label = Demangle(info.dli_sname);
        } else {
          label = "+0x";
          auto offset =
              reinterpret_cast<uintptr_t>(frames[i]) - reinterpret_cast<uintptr_t>(info.dli_fbase);
          detail::AppendHex(label, offset, 8);
        }
      }
      if (i > skip) out.push_back(',');
      out.append("{\"path\":");
      detail::AppendJsonString(out, path);
      out.append(",\"label\":");
      detail::AppendJsonString(out, label);
      out.push_back('}');
    }
    out.push_back(']');
    if (n == static_cast<int>(kMaxStackFrames + 3)) out.append(",\"truncated\":1");
  }
  out.push_back('}');
  return out;
}

}  // namespace

bool TraceContext::sampled() const { return state_ && state_->sampled; }

TraceId TraceContext::trace_id() const { return state_ ? state_->trace_id : TraceId{}; }

SegmentId TraceContext::entity_id() const { return state_ ? id_ : SegmentId{}; }

TraceHeader TraceContext::OutgoingHeader() const {
  TraceHeader h;
  if (!state_) return h;
  h.root = state_->trace_id;
  h.parent = entity_id();
  h.sampled = state_->sampled ? Sampled::kYes : Sampled::kNo;
  h.lineage = state_->lineage;
  h.extra = state_->extra;
  return h;
}

bool Entity::recording() const { return ctx_.sampled(); }

Subsegment Entity::BeginSubsegment(std::string_view name) const {
  SegmentState* s = Access::state(ctx_);
  if (s == nullptr) return Subsegment();
  if (!s->sampled) {
    return Subsegment(Access::Make(ctx_.state_, detail::kUnsampledNode, s->unsampled_id));
  }
  double now = detail::NowSeconds();
  std::unique_lock lock(s->mu);
  if (s->emitted || Access::Live(*s, ctx_) == nullptr) {
    lock.unlock();
    s->recorder->Warn("subsegment '" + std::string(name) + "' begun after its " +
                      (ctx_.node_ == 0 ? "segment" : "parent") + " was sent: not recorded");
    return Subsegment();
  }
  uint32_t index;
  if (!s->free_nodes.empty()) {
    index = s->free_nodes.back();
    s->free_nodes.pop_back();
  } else {
    index = static_cast<uint32_t>(s->nodes.size());
    s->nodes.emplace_back();
  }
  Node& n = s->nodes[index];
  n.name.assign(name.substr(0, 200));
  n.id = SegmentId::Generate();
  n.parent = ctx_.node_;
  n.start = now;
  s->nodes[ctx_.node_].children.push_back(index);
  ++s->open;
  ++s->subsegments;
  TraceContext ctx = Access::Make(ctx_.state_, index, n.id);
  n.previous = std::move(detail::tls_current);
  detail::tls_current = ctx;
  lock.unlock();
  return Subsegment(std::move(ctx));
}

void Entity::AddAnnotation(std::string_view key, std::string_view value) const {
  if (!recording()) return;
  std::string v;
  v.reserve(value.size() + 2);
  detail::AppendJsonString(v, value.substr(0, 1000));
  Annotate(ctx_, key, std::move(v));
}

void Entity::AddAnnotation(std::string_view key, double value) const {
  if (!recording()) return;
  if (!std::isfinite(value)) {
    Access::state(ctx_)->recorder->annotations_dropped.fetch_add(1, std::memory_order_relaxed);
    Access::state(ctx_)->recorder->Warn("annotation dropped: '" + std::string(key) +
                                        "' is not a finite number");
    return;
  }
  std::string v;
  detail::AppendJsonNumber(v, value);
  Annotate(ctx_, key, std::move(v));
}

void Entity::AddAnnotation(std::string_view key, int64_t value) const {
  if (!recording()) return;
  Annotate(ctx_, key, std::to_string(value));
}

void Entity::AddAnnotation(std::string_view key, bool value) const {
  if (!recording()) return;
  Annotate(ctx_, key, value ? "true" : "false");
}

void Entity::AddMetadata(std::string_view key, std::string_view value, std::string_view ns) const {
  if (!recording()) return;
  std::string v;
  detail::AppendJsonString(v, value);
  Meta(ctx_, ns, key, std::move(v));
}

void Entity::AddMetadataJson(std::string_view key, std::string_view json,
                             std::string_view ns) const {
  if (!recording()) return;
  if (!detail::IsValidJson(json)) {
    Access::state(ctx_)->recorder->annotations_dropped.fetch_add(1, std::memory_order_relaxed);
    Access::state(ctx_)->recorder->Warn("metadata dropped: '" + std::string(key) +
                                        "' is not valid JSON");
    return;
  }
  Meta(ctx_, ns, key, std::string(json));
}

void Entity::AddMetadata(std::string_view key, double value, std::string_view ns) const {
  if (!recording() || !std::isfinite(value)) return;
  std::string v;
  detail::AppendJsonNumber(v, value);
  Meta(ctx_, ns, key, std::move(v));
}

void Entity::AddMetadata(std::string_view key, bool value, std::string_view ns) const {
  if (!recording()) return;
  Meta(ctx_, ns, key, value ? "true" : "false");
}

void Entity::SetUser(std::string_view user) const {
  WithNode(ctx_, [&](Node& n, SegmentState&) { n.user.assign(user); });
}

void Entity::SetOrigin(std::string_view origin) const {
  WithNode(ctx_, [&](Node& n, SegmentState&) { n.origin.assign(origin); });
}

void Entity::SetNamespace(Namespace ns) const {
  WithNode(ctx_, [&](Node& n, SegmentState&) { n.ns = ns; });
}

void Entity::SetHttpRequest(const HttpRequest& r) const {
  if (!recording()) return;
  std::string j;
  j.reserve(64 + r.url.size() + r.user_agent.size());
  auto field = [&](std::string_view key, std::string_view value) {
    if (value.empty()) return;
    if (!j.empty()) j.push_back(',');
    j.push_back('"');
    j.append(key).append("\":");
    detail::AppendJsonString(j, value);
  };
  field("method", r.method);
  field("url", r.url);
  field("user_agent", r.user_agent);
  field("client_ip", r.client_ip);
  if (r.x_forwarded_for) j.append(j.empty() ? "" : ",").append("\"x_forwarded_for\":true");
  if (r.traced) j.append(j.empty() ? "" : ",").append("\"traced\":true");
  WithNode(ctx_, [&](Node& n, SegmentState&) {
    // The request part is kept before a response part recorded earlier.
    size_t resp = n.http.find("\"response\":");
    std::string response = resp == std::string::npos ? std::string() : n.http.substr(resp);
    n.http = "\"request\":{" + j + "}";
    if (!response.empty()) n.http.append(",").append(response);
  });
}

void Entity::SetHttpResponse(const HttpResponse& r) const {
  if (!recording()) return;
  std::string j = "\"response\":{\"status\":" + std::to_string(r.status);
  if (r.content_length >= 0)
    j.append(",\"content_length\":").append(std::to_string(r.content_length));
  j.push_back('}');
  WithNode(ctx_, [&](Node& n, SegmentState&) {
    size_t resp = n.http.find("\"response\":");
    if (resp != std::string::npos) n.http.erase(resp > 0 ? resp - 1 : 0);
    if (!n.http.empty()) n.http.push_back(',');
    n.http.append(j);
    if (r.status == 429)
      n.throttle = n.error = true;
    else if (r.status >= 400 && r.status < 500)
      n.error = true;
    else if (r.status >= 500)
      n.fault = true;
  });
}

void Entity::SetAws(std::string_view key, std::string_view value) const {
  if (!recording()) return;
  std::string v;
  detail::AppendJsonString(v, value);
  WithNode(ctx_, [&](Node& n, SegmentState&) { SetMember(n.aws, key, std::move(v)); });
}

void Entity::SetAwsJson(std::string_view key, std::string_view json) const {
  if (!recording()) return;
  if (!detail::IsValidJson(json)) {
    Access::state(ctx_)->recorder->Warn("aws." + std::string(key) + " dropped: not valid JSON");
    return;
  }
  WithNode(ctx_, [&](Node& n, SegmentState&) { SetMember(n.aws, key, std::string(json)); });
}

void Entity::SetSql(const Sql& sql) const {
  if (!recording()) return;
  std::string j;
  auto field = [&](std::string_view key, std::string_view value) {
    if (value.empty()) return;
    if (!j.empty()) j.push_back(',');
    j.push_back('"');
    j.append(key).append("\":");
    detail::AppendJsonString(j, value);
  };
  field("url", sql.url);
  field("connection_string", sql.connection_string);
  field("sanitized_query", sql.sanitized_query);
  field("database_type", sql.database_type);
  field("database_version", sql.database_version);
  field("driver_version", sql.driver_version);
  field("user", sql.user);
  field("preparation", sql.preparation);
  WithNode(ctx_, [&](Node& n, SegmentState&) { n.sql = std::move(j); });
}

void Entity::SetError() const {
  WithNode(ctx_, [](Node& n, SegmentState&) { n.error = true; });
}
void Entity::SetThrottle() const {
  WithNode(ctx_, [](Node& n, SegmentState&) { n.throttle = n.error = true; });
}
void Entity::SetFault() const {
  WithNode(ctx_, [](Node& n, SegmentState&) { n.fault = true; });
}

static void RecordException(const TraceContext& ctx, std::string_view type,
                            std::string_view message, bool fault, bool remote, void* caller) {
  std::string e = ExceptionJson(type, message, remote, caller);
  WithNode(ctx, [&](Node& n, SegmentState&) {
    if (!n.exceptions.empty()) n.exceptions.push_back(',');
    n.exceptions.append(e);
    (fault ? n.fault : n.error) = true;
  });
}

void Entity::AddException(std::string_view type, std::string_view message, bool fault,
                          bool remote) const {
  if (recording()) RecordException(ctx_, type, message, fault, remote, __builtin_return_address(0));
}

void Entity::AddException(const std::exception& e, bool fault, bool remote) const {
  if (recording()) {
    RecordException(ctx_, Demangle(typeid(e).name()), e.what(), fault, remote,
                    __builtin_return_address(0));
  }
}

void Entity::AddException(std::exception_ptr e, bool fault, bool remote) const {
  if (!recording() || !e) return;
  void* caller = __builtin_return_address(0);
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    RecordException(ctx_, Demangle(typeid(ex).name()), ex.what(), fault, remote, caller);
  } catch (...) {
    RecordException(ctx_, "unknown", "a non-std::exception was thrown", fault, remote, caller);
  }
}

void Entity::SendInProgress() const {
  SegmentState* s = Access::state(ctx_);
  if (s == nullptr || !s->sampled) return;
  std::lock_guard lock(s->mu);
  if (!s->emitted) s->recorder->EmitInProgress(*s);
}

void Entity::End() const { EndAt(std::chrono::system_clock::now()); }

void Entity::EndAt(std::chrono::system_clock::time_point t) const {
  SegmentState* s = Access::state(ctx_);
  if (s == nullptr) return;
  auto is_current = [&] {
    return Access::state(detail::tls_current) == s &&
           Access::node(detail::tls_current) == ctx_.node_ &&
           Access::id(detail::tls_current) == ctx_.id_;
  };
  if (s->facade && ctx_.node_ == 0) return;  // Lambda ends its segment
  if (!s->sampled || ctx_.node_ == detail::kUnsampledNode) {
    // Unsampled: only the segment itself is ever current.
    if (ctx_.node_ == 0 && is_current()) detail::tls_current = {};
    return;
  }
  TraceContext previous;
  {
    std::lock_guard lock(s->mu);
    Node* live = Access::Live(*s, ctx_);
    if (live == nullptr || live->ended) return;  // gone: streamed, so ended
    Node& n = *live;
    n.ended = true;
    n.end = std::max(detail::EpochSeconds(t), n.start);
    --s->open;
    previous = std::move(n.previous);
    n.previous = {};
    if (s->open == 0 && s->nodes[0].ended) {
      s->emitted = true;
      s->recorder->Emit(*s);
    } else {
      s->recorder->StreamEnded(*s);
    }
  }
  if (is_current()) detail::tls_current = std::move(previous);
}

}  // namespace roentgen::sdk
