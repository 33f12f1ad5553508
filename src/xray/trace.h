// Trace assembly and the trace summary, exactly as X-Ray defines them.
//
// AssembleTrace merges the documents stored for one trace: the newest complete
// version of each entity wins over an in-progress one; independent subsegments
// (type "subsegment") are attached under their parent wherever it is nested.
// Summarize computes the X-Ray TraceSummary (Duration, ResponseTime, HasFault, …)
// from an assembled trace. Pure functions, no I/O, thread-compatible.
#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/pointee_iterator.h"
#include "xray/segment.h"

namespace roentgen::xray {

// One stored document of a trace with the time the server received it.
struct ReceivedDocument {
  SegmentDocument doc;
  int64_t received_us = 0;
};

// The top-level entities of an assembled trace, read like a
// const std::vector<Entity>. Each is either a view of a document's own entity
// (AssembleTrace's, when nothing needs splicing into its tree: no copy) or an
// entity the list owns (a tree that received spliced subsegments, an orphan,
// or one a test built). A list holding views must not outlive the documents
// it was assembled from; a copy of a list owns all its entities.
class EntityList {
 public:
  using const_iterator = PointeeIterator<Entity>;
  using iterator = const_iterator;
  using value_type = Entity;
  using size_type = size_t;

  EntityList() = default;
  EntityList(std::initializer_list<Entity> entities);
  EntityList(const EntityList& other);
  EntityList& operator=(const EntityList& other);
  // Moving keeps every view and owned entity where it is.
  EntityList(EntityList&& other) noexcept = default;
  EntityList& operator=(EntityList&& other) noexcept = default;
  EntityList& operator=(std::initializer_list<Entity> entities);
  ~EntityList();

  size_t size() const { return items_.size(); }
  bool empty() const { return items_.empty(); }
  const Entity& operator[](size_t i) const { return *items_[i]; }
  const Entity& front() const { return *items_.front(); }
  const Entity& back() const { return *items_.back(); }
  const_iterator begin() const { return const_iterator(items_.data()); }
  const_iterator end() const { return const_iterator(items_.data() + items_.size()); }
  // The entities' addresses, in list order.
  const std::vector<const Entity*>& pointers() const { return items_; }

  void reserve(size_t n) { items_.reserve(n); }
  // Appends a view of `entity`, which must outlive the list (and its moves).
  void PushView(const Entity& entity) { items_.push_back(&entity); }
  // Appends an entity the list owns.
  void push_back(Entity entity);
  // The i-th entity, to change it: only an owned one may be changed.
  Entity& Mutable(size_t i);
  // Removes [first, last) from the list.
  void erase(const_iterator first, const_iterator last);

 private:
  std::vector<const Entity*> items_;
  // Owned entities, each in a cell of its own so that its address is stable.
  std::vector<std::unique_ptr<Entity>> owned_;
};

struct AssembledTrace {
  TraceId id;
  // Top-level segments (not subsegments), ordered by start time then id, with
  // independent subsegments spliced into their parents' `subsegments`.
  EntityList segments;
  // Independent subsegments whose parent has not arrived (yet).
  EntityList orphans;
  int64_t last_received_us = 0;  // newest received_us among the documents
  size_t document_count = 0;
};

// `docs` may be in any order and may hold several versions of one entity
// (in-progress then complete): the complete one wins, then the newest received.
// The trace views the documents' entities where it can (EntityList): `docs`
// must outlive it.
AssembledTrace AssembleTrace(const TraceId& id, const std::vector<const ReceivedDocument*>& docs);

// The winning version of each entity id among `docs`: a complete version beats
// an in-progress one, then the newest received_us, then the later one in `docs`.
// Returned in the order each id was first seen in `docs`. AssembleTrace and
// MergeDocuments (document_merge.h) both build on it.
std::vector<const ReceivedDocument*> SelectLatestVersions(
    const std::vector<const ReceivedDocument*>& docs);

// The (Name, Names, AccountId, Type) identity X-Ray gives a service.
struct ServiceId {
  std::string name;
  std::vector<std::string> names;
  std::string account_id;
  std::string type;
  bool operator==(const ServiceId&) const = default;
};

// A segment's service: name and names from its name, account from
// aws.account_id, type from its origin (empty when it has none).
ServiceId SegmentServiceId(const Entity& segment);

// The downstream service X-Ray infers for a subsegment that called it, or
// nullopt unless its namespace is "aws" or "remote". Rule (X-Ray service map):
//   remote                     → {name: subsegment name, type: "remote"}
//   aws, aws.table_name set    → {name: table_name, type: "AWS::DynamoDB::Table"}
//   aws, aws.queue_url set     → {name: last path part of the URL, type: "AWS::SQS::Queue"}
//   aws, function_name set     → {name: function_name, type: "AWS::Lambda"} (the facade)
//   aws, otherwise             → {name: subsegment name, type: "AWS::" + subsegment name}
//   remote with an sql block   → {name: subsegment name, type: "Database::SQL"}
// The account id is the subsegment's aws.account_id, if any. The service graph
// (graph::DeriveTraceGraph) names its inferred nodes with this same function.
// Whether the callee sent a segment of its own (so nothing needs inferring) is
// the caller's check.
std::optional<ServiceId> InferDownstreamService(const Entity& subsegment);

// InferDownstreamService without allocating, for callers that mostly compare
// (the summary's and the graph's de-duplication): views into the subsegment
// and static strings, valid while the subsegment lives. The type is
// type_prefix + type_suffix (the suffix is only set for "AWS::" + name).
struct DownstreamServiceRef {
  std::string_view name;
  std::string_view type_prefix;
  std::string_view type_suffix;
  std::string_view account_id;

  ServiceId ToServiceId() const;
  bool TypeEquals(std::string_view type) const;
  // Whether `id` is the ServiceId ToServiceId() would give.
  bool Matches(const ServiceId& id) const;
};
std::optional<DownstreamServiceRef> InferDownstreamServiceRef(const Entity& subsegment);

struct TraceAnnotationValue {
  AnnotationValue value;
  std::vector<ServiceId> service_ids;  // the services whose segments set it
};

struct TraceAnnotation {
  std::string key;
  std::vector<TraceAnnotationValue> values;  // distinct values, first-seen order
};

struct TraceUser {
  std::string user_name;
  std::vector<ServiceId> service_ids;
};

struct TraceHttp {
  std::string url;
  std::optional<int> status;
  std::string method;
  std::string user_agent;
  std::string client_ip;
};

struct RootCauseException {
  std::string name;
  std::string message;
};

struct RootCauseEntity {
  std::string name;
  std::vector<RootCauseException> exceptions;  // fault / error root causes
  std::optional<double> coverage;              // response-time root causes
  bool remote = false;
};

struct RootCauseService {
  std::string name;
  std::vector<std::string> names;
  std::string type;
  std::string account_id;
  std::vector<RootCauseEntity> entity_path;
  bool inferred = false;
};

struct RootCause {
  std::vector<RootCauseService> services;
  bool client_impacting = false;
};

struct TraceSummary {
  TraceId id;
  int64_t start_time_us = 0;                 // earliest start over all segments
  std::optional<int64_t> duration_us;        // latest end − earliest start
  std::optional<int64_t> response_time_us;   // root segment end − start
  bool has_fault = false;                    // root segment fault (5xx)
  bool has_error = false;                    // root segment error (4xx)
  bool has_throttle = false;                 // any segment throttle (429)
  bool is_partial = false;                   // any document in progress
  TraceHttp http;                            // from the root segment
  std::vector<TraceAnnotation> annotations;  // merged, at most 50 keys indexed
  std::vector<TraceUser> users;
  std::vector<ServiceId> service_ids;
  std::vector<std::string> resource_arns;
  std::vector<std::string> instance_ids;
  std::vector<std::string> availability_zones;
  std::optional<ServiceId> entry_point;
  std::string root_segment_name;  // for filter keywords `name`, `type`
  std::string root_segment_origin;
  std::vector<RootCause> fault_root_causes;
  std::vector<RootCause> error_root_causes;
  std::vector<RootCause> response_time_root_causes;
  uint32_t revision = 0;     // bumped by the writer each time the trace changes
  int64_t updated_us = 0;    // when the trace last changed (TimeRangeType Event)
  size_t segment_count = 0;  // documents stored for the trace
  // Whether the trace is a searchable summary (GetTraceSummaries finds it) or
  // only kept and retrievable by id: the indexing rule's decision when the
  // trace was first stored (ingest/indexing_policy.h).
  bool indexed = true;
};

// The entry (root) segment: the segment without a parent_id, or failing that
// the earliest segment whose parent is not in the trace. nullptr if no segments.
const Entity* FindRootSegment(const AssembledTrace& trace);

TraceSummary Summarize(const AssembledTrace& trace);

}  // namespace roentgen::xray
