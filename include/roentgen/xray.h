// Roentgen's C++ X-Ray SDK (namespace roentgen::sdk, CMake target
// roentgen::xray): a recorder that times work as X-Ray segments and
// subsegments and sends them to an X-Ray daemon (AWS's, or Roentgen, which
// speaks the daemon's UDP protocol) without blocking the caller.
//
//   roentgen::sdk::Recorder recorder(options);          // RecorderOptions
//   {
//     auto seg = recorder.BeginSegment("orders");        // ends at scope exit
//     seg.AddAnnotation("customer", "alice@example.com");
//     auto db = seg.BeginSubsegment("notes.db");
//     db.SetNamespace(roentgen::sdk::Namespace::kRemote);
//     db.SetSql(sql);                                    // an xray::Sql
//   }
//
// Entities are handles: copying a Segment or Subsegment would end the same
// work twice, so they are move-only; an Entity (non-owning) and a
// TraceContext (copyable) refer to the same work from elsewhere, e.g. another
// thread. The recorder sends a segment once it and all its subsegments have
// ended; a document that would exceed the daemon's 64 KB datagram is sent as
// several (its subsegments as independent subsegment documents). While a
// segment holds more than RecorderOptions::streaming_threshold subsegments,
// each subtree that has ended is sent at once as an independent subsegment
// document and forgotten, so a long segment's memory stays bounded.
//
// Thread safety: every member of Recorder, Entity, Segment and Subsegment may
// be called from any thread; one segment's entities share one mutex. The
// "current entity" (Recorder::Current) is thread-local. Details and
// environment variables: docs/sdk-cpp.md.
#pragma once

#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "roentgen/xray_trace_header.h"

namespace roentgen::sdk {

namespace detail {
struct SegmentState;
class RecorderImpl;
struct Access;
}  // namespace detail

enum class Namespace { kNone, kRemote, kAws };

// AWS_XRAY_CONTEXT_MISSING: what happens when a subsegment is begun, or the
// current entity used, with no segment open on this thread.
enum class ContextMissing {
  kLogError,      // LOG_ERROR (default): log, and return an inert entity
  kRuntimeError,  // RUNTIME_ERROR: throw std::runtime_error
  kIgnoreError,   // IGNORE_ERROR: return an inert entity silently
};

struct HttpRequest {
  std::string method;
  std::string url;
  std::string user_agent;
  std::string client_ip;
  bool x_forwarded_for = false;
  bool traced = false;  // an outgoing call to a traced service
};

struct HttpResponse {
  int status = 0;
  int64_t content_length = -1;  // < 0: not recorded
};

// The sql block (X-Ray's field names). Never put credentials or values in
// sanitized_query.
struct Sql {
  std::string url;
  std::string connection_string;
  std::string sanitized_query;
  std::string database_type;
  std::string database_version;
  std::string driver_version;
  std::string user;
  std::string preparation;  // "statement" or "call"
};

// A copyable reference to an open entity: pass it to another thread (or
// queue, callback …) and begin subsegments under it there. An empty context
// (no segment) makes inert entities.
class TraceContext {
 public:
  TraceContext() = default;
  bool valid() const { return state_ != nullptr; }
  bool sampled() const;
  TraceId trace_id() const;
  SegmentId entity_id() const;
  // The header for an outgoing call made from this entity:
  // Root=<trace>;Parent=<this entity's id>;Sampled=<0|1>, Lineage kept.
  TraceHeader OutgoingHeader() const;

 private:
  friend class Entity;
  friend class detail::RecorderImpl;
  friend struct detail::Access;
  TraceContext(std::shared_ptr<detail::SegmentState> state, uint32_t node, SegmentId id)
      : state_(std::move(state)), node_(node), id_(id) {}
  std::shared_ptr<detail::SegmentState> state_;
  uint32_t node_ = 0;
  // The entity's id: also tells whether the node slot still holds this
  // entity, since streamed subsegments' slots are reused.
  SegmentId id_;
};

class Subsegment;

// A segment or subsegment. Entities of an unsampled trace, or made where no
// segment was open, are inert: every call is cheap and records nothing, yet
// context() still carries the trace id and the Sampled=0 decision.
class Entity {
 public:
  Entity() = default;

  bool recording() const;  // sampled and not inert
  TraceContext context() const { return ctx_; }
  TraceId trace_id() const { return ctx_.trace_id(); }
  SegmentId id() const { return ctx_.entity_id(); }
  TraceHeader OutgoingHeader() const { return ctx_.OutgoingHeader(); }

  // A subsegment of this entity; it becomes this thread's current entity
  // until it ends.
  Subsegment BeginSubsegment(std::string_view name) const;

  // Annotation keys: ASCII letters, digits and '_', 1–500 characters, at
  // most 50 per entity (as X-Ray indexes them); others are dropped,
  // counted (Recorder::stats().annotations_dropped) and logged.
  void AddAnnotation(std::string_view key, std::string_view value) const;
  void AddAnnotation(std::string_view key, const char* value) const {
    AddAnnotation(key, std::string_view(value));
  }
  void AddAnnotation(std::string_view key, double value) const;
  void AddAnnotation(std::string_view key, int64_t value) const;
  void AddAnnotation(std::string_view key, int value) const { AddAnnotation(key, int64_t{value}); }
  void AddAnnotation(std::string_view key, unsigned value) const {
    AddAnnotation(key, int64_t{value});
  }
  void AddAnnotation(std::string_view key, long long value) const {
    AddAnnotation(key, static_cast<int64_t>(value));
  }
  // Beyond INT64_MAX as a double (X-Ray's numbers are doubles anyway).
  void AddAnnotation(std::string_view key, uint64_t value) const {
    if (value > static_cast<uint64_t>(INT64_MAX)) return AddAnnotation(key, static_cast<double>(value));
    AddAnnotation(key, static_cast<int64_t>(value));
  }
  void AddAnnotation(std::string_view key, bool value) const;

  // Metadata under a namespace ("default" when empty; namespaces starting
  // "AWS." are reserved for AWS, as in X-Ray, and dropped like a bad key).
  // The JSON overload takes any JSON text (object, array …); invalid JSON is
  // dropped, counted and logged like a bad annotation key.
  void AddMetadata(std::string_view key, std::string_view value,
                   std::string_view ns = "default") const;
  void AddMetadataJson(std::string_view key, std::string_view json,
                       std::string_view ns = "default") const;
  void AddMetadata(std::string_view key, const char* value, std::string_view ns = "default") const {
    AddMetadata(key, std::string_view(value), ns);
  }
  void AddMetadata(std::string_view key, double value, std::string_view ns = "default") const;
  void AddMetadata(std::string_view key, bool value, std::string_view ns = "default") const;

  void SetUser(std::string_view user) const;      // segments only (as X-Ray)
  void SetOrigin(std::string_view origin) const;  // segments: "AWS::Lambda::Function" …
  void SetNamespace(Namespace ns) const;
  void SetHttpRequest(const HttpRequest& request) const;
  // Also flags the entity as X-Ray does: 429 throttle + error, other 4xx
  // error, 5xx fault.
  void SetHttpResponse(const HttpResponse& response) const;
  // A field of the aws block: string values ("function_arn", "region",
  // "operation", "request_id" …), or JSON text with SetAwsJson.
  void SetAws(std::string_view key, std::string_view value) const;
  void SetAwsJson(std::string_view key, std::string_view json) const;
  void SetSql(const Sql& sql) const;

  void SetError() const;
  void SetThrottle() const;  // also an error, as in X-Ray
  void SetFault() const;
  // Records the exception in cause.exceptions[] (type, message, this
  // thread's stack from backtrace(3)) and flags a fault, or an error when
  // `fault` is false. `remote`: the exception came from a downstream call.
  void AddException(const std::exception& e, bool fault = true, bool remote = false) const;
  void AddException(std::exception_ptr e, bool fault = true, bool remote = false) const;
  void AddException(std::string_view type, std::string_view message, bool fault = true,
                    bool remote = false) const;

  // Sends the entity now with in_progress: true (its segment, for a
  // subsegment, as an in-progress segment), so a long piece of work shows
  // before it ends; the completed document replaces it.
  void SendInProgress() const;

  // Ends the entity (idempotent). Restores this thread's current entity to
  // the parent when this entity was current.
  void End() const;
  void EndAt(std::chrono::system_clock::time_point t) const;

 protected:
  explicit Entity(TraceContext ctx) : ctx_(std::move(ctx)) {}
  TraceContext ctx_;
};

// An owning handle: ends the entity when destroyed (RAII scope). Move it to
// hand the work elsewhere (async code), or call End() explicitly.
template <class Derived>
class OwnedEntity : public Entity {
 public:
  OwnedEntity() = default;
  OwnedEntity(OwnedEntity&& o) noexcept : Entity(std::move(o.ctx_)) { o.ctx_ = {}; }
  OwnedEntity& operator=(OwnedEntity&& o) noexcept {
    if (this != &o) {
      End();
      ctx_ = std::move(o.ctx_);
      o.ctx_ = {};
    }
    return *this;
  }
  OwnedEntity(const OwnedEntity&) = delete;
  OwnedEntity& operator=(const OwnedEntity&) = delete;
  ~OwnedEntity() { End(); }
  // Gives up ownership: the entity must then be ended through an Entity.
  Entity Release() {
    Entity e = *this;
    ctx_ = {};
    return e;
  }

 protected:
  explicit OwnedEntity(TraceContext ctx) : Entity(std::move(ctx)) {}
};

class Segment : public OwnedEntity<Segment> {
 public:
  Segment() = default;

 private:
  friend class detail::RecorderImpl;
  explicit Segment(TraceContext ctx) : OwnedEntity(std::move(ctx)) {}
};

class Subsegment : public OwnedEntity<Subsegment> {
 public:
  Subsegment() = default;

 private:
  friend class Entity;
  explicit Subsegment(TraceContext ctx) : OwnedEntity(std::move(ctx)) {}
};

// What a sampling rule matches on (the segment's request).
struct SamplingRequest {
  std::string host;
  std::string http_method;
  std::string url_path;
  std::string service_type;  // the origin, e.g. "AWS::Lambda::Function"
};

struct SegmentOptions {
  // The incoming X-Amzn-Trace-Id: its Root, Parent and Sampled decision are
  // continued (Sampled=1/0 is obeyed; unknown or "?" asks the sampler).
  std::optional<TraceHeader> incoming;
  SamplingRequest request;  // what the sampler matches on
  std::string origin;       // e.g. "AWS::Lambda::Function"
  std::optional<std::chrono::system_clock::time_point> start;
  // Becomes this thread's current entity (default), as a scope does.
  bool make_current = true;
};

struct RecorderOptions {
  // The segment name used by default; AWS_XRAY_TRACING_NAME overrides it.
  std::string service_name;
  // "host:port" or "udp:host:port tcp:host:port"; empty: AWS_XRAY_DAEMON_ADDRESS,
  // else 127.0.0.1:2000. UDP gets the segments, TCP the sampling API.
  std::string daemon_address;
  // Unset: AWS_XRAY_CONTEXT_MISSING, else kLogError.
  std::optional<ContextMissing> context_missing;
  // Local sampling rules (the X-Ray SDKs' JSON file, version 1 or 2). Empty:
  // the SDKs' default (1 a second, then 5%). `sampling = false` samples all.
  std::string sampling_rules_file;
  std::string sampling_rules_json;  // the same, given as text
  bool sampling = true;
  // Centralized rules from the daemon's TCP address (GetSamplingRules every
  // rules_interval, SamplingTargets with statistics every targets_interval);
  // the local rules apply until the first fetch and whenever they expire.
  bool centralized_sampling = false;
  std::chrono::milliseconds rules_interval{300'000};
  std::chrono::milliseconds targets_interval{10'000};
  // The emitter: documents waiting beyond this are dropped and counted.
  size_t queue_capacity = 4096;
  // Subsegment streaming, as the X-Ray SDKs do it: while a segment holds
  // more than this many subsegments (counted at any depth, streamed ones no
  // longer), every subtree that has ended entirely is sent as independent
  // subsegment documents when a subsegment ends, and removed from the
  // segment. 0 sends each subsegment as soon as it and its children end.
  size_t streaming_threshold = 100;
  // Log sink for warnings (bad annotation keys, drops, context missing);
  // default: stderr, at most 10 lines a second.
  std::function<void(std::string_view)> log;
};

struct RecorderStats {
  uint64_t segments_sent = 0;         // documents handed to the socket
  uint64_t documents_dropped = 0;     // queue full or send failed
  uint64_t annotations_dropped = 0;   // also invalid metadata
  // Independent subsegment documents: streamed (streaming_threshold) or
  // split off because of the 64 KB limit.
  uint64_t streamed_subsegments = 0;
  uint64_t sampling_rule_fetches = 0;
  uint64_t sampling_target_fetches = 0;
};

class Recorder {
 public:
  explicit Recorder(RecorderOptions options = {});
  // Sends what is queued (for at most a second) and stops the threads.
  ~Recorder();
  Recorder(const Recorder&) = delete;
  Recorder& operator=(const Recorder&) = delete;

  // A segment named `name` (empty: the service name). Sampling decides here.
  Segment BeginSegment(std::string_view name = {}, const SegmentOptions& options = {});
  // A subsegment of this thread's current entity; with none, as
  // context_missing says. On AWS Lambda (LAMBDA_TASK_ROOT set) "none" is
  // instead the function's segment that Lambda sends, from this
  // invocation's _X_AMZN_TRACE_ID: its subsegments are sent as soon as
  // they end (docs/sdk-cpp.md, "On AWS Lambda").
  Subsegment BeginSubsegment(std::string_view name);
  // This thread's current entity (inert when none, after context_missing;
  // on Lambda, the function segment's stand-in, which records nothing).
  Entity Current();
  // Makes `ctx` this thread's current entity until the scope ends: the way
  // to continue a trace on another thread.
  class ContextScope {
   public:
    ~ContextScope();
    ContextScope(const ContextScope&) = delete;
    ContextScope& operator=(const ContextScope&) = delete;

   private:
    friend class Recorder;
    explicit ContextScope(TraceContext previous) : previous_(std::move(previous)) {}
    TraceContext previous_;
  };
  [[nodiscard]] ContextScope Activate(const TraceContext& ctx);

  // Blocks until the emitter's queue is empty (at most `timeout`).
  bool Flush(std::chrono::milliseconds timeout = std::chrono::milliseconds(2000));
  RecorderStats stats() const;
  const std::string& service_name() const;
  // The sampler's decision for a request (also what BeginSegment uses).
  bool ShouldSample(const SamplingRequest& request, std::string_view service_name);

 private:
  std::shared_ptr<detail::RecorderImpl> impl_;
};

}  // namespace roentgen::sdk
