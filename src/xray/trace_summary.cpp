// Summarize: the X-Ray TraceSummary of an assembled trace, per
// shared/xray/README.md "How a trace summary is computed". Choices where X-Ray
// states no rule:
// - StartTime is the earliest start and the end the latest known end over every
//   entity (segments, their subsegments, orphans). For a complete, well-formed
//   trace this equals X-Ray's "over all segments" (subsegments lie inside their
//   segment); for a partial trace it uses every time that is known. Duration is
//   unset when no end is known at all, and never negative.
// - HasThrottle and IsPartial look at every entity, nested ones included.
// - Annotations are visited segment by segment in (start, id) order, each
//   segment's tree depth-first in document order, then the orphans. The first 50
//   distinct keys are kept (kMaxIndexedAnnotationsPerTrace); later keys are not
//   indexed. An annotation set inside a segment lists that segment's service; one
//   set inside an orphan subsegment (no segment known) lists no service.
// - Users come from the segments' `user` (X-Ray sets it on segments only).
// - ServiceIds: each segment's service, then, in the same walk, the services
//   inferred (InferDownstreamService) from "aws"/"remote" subsegments whose
//   callee sent no segment of its own (no segment has them as parent_id).
// - ResourceARNs, InstanceIds, AvailabilityZones come from the segments'
//   resource_arn, aws.ec2.instance_id and aws.ec2.availability_zone.
// - revision and updated_us are left 0: the writer owns them.
#include <algorithm>
#include <array>
#include <string_view>
#include <utility>

#include "xray/root_cause.h"
#include "xray/trace.h"

namespace roentgen::xray {
namespace {

// The services of a summary are compared far more often than they are added:
// every comparison below is against an entity's fields, and a ServiceId is
// only built when it is new.

std::string_view AccountOf(const Entity& segment) {
  return segment.aws ? std::string_view(segment.aws->account_id) : std::string_view();
}

// Whether `id` equals SegmentServiceId(segment).
bool IsServiceOf(const ServiceId& id, const Entity& segment) {
  return id.name == segment.name && id.type == segment.origin &&
         id.account_id == AccountOf(segment) && id.names.size() == 1 &&
         id.names.front() == segment.name;
}

void AddSegmentService(std::vector<ServiceId>& list, const Entity& segment) {
  for (const ServiceId& id : list) {
    if (IsServiceOf(id, segment)) return;
  }
  list.push_back(SegmentServiceId(segment));
}

void AddUnique(std::vector<std::string>& list, const std::string& value) {
  if (std::find(list.begin(), list.end(), value) == list.end()) list.push_back(value);
}

template <typename Visit>
void Walk(const Entity& entity, const Entity* segment, Visit& visit) {
  visit(entity, segment);
  for (const Entity& child : entity.subsegments) Walk(child, segment, visit);
}

// Calls `visit(entity, owning segment or nullptr)` over every entity, pre-order.
template <typename Visit>
void ForEachEntity(const AssembledTrace& trace, Visit visit) {
  for (const Entity& segment : trace.segments) Walk(segment, &segment, visit);
  for (const Entity& orphan : trace.orphans) Walk(orphan, nullptr, visit);
}

// Annotation key → index into the summary's annotations, sorted by key. The
// keys view the entities' own strings (the trace outlives Summarize). It holds
// at most kMaxIndexedAnnotationsPerTrace keys, so it lives on the stack: no
// allocation that Summarize would free again.
class AnnotationIndex {
 public:
  using Entry = std::pair<std::string_view, uint32_t>;

  // The entry of `key`, or where it would go.
  Entry* LowerBound(std::string_view key) {
    return std::lower_bound(entries_.data(), entries_.data() + size_, key,
                            [](const Entry& entry, std::string_view k) { return entry.first < k; });
  }
  Entry* end() { return entries_.data() + size_; }
  bool full() const { return size_ == entries_.size(); }
  // Inserts before `at` (from LowerBound); the index must not be full.
  Entry* Insert(Entry* at, Entry entry) {
    std::copy_backward(at, end(), end() + 1);
    ++size_;
    *at = entry;
    return at;
  }

 private:
  std::array<Entry, kMaxIndexedAnnotationsPerTrace> entries_;
  size_t size_ = 0;
};

void AddAnnotations(const Entity& entity, const Entity* segment, AnnotationIndex& index,
                    std::vector<TraceAnnotation>& out) {
  for (const Annotation& annotation : entity.annotations) {
    const std::string_view key = annotation.key;
    AnnotationIndex::Entry* it = index.LowerBound(key);
    if (it == index.end() || it->first != key) {
      if (out.size() >= kMaxIndexedAnnotationsPerTrace || index.full()) continue;
      it = index.Insert(it, {key, static_cast<uint32_t>(out.size())});
      out.push_back(TraceAnnotation{annotation.key, {}});
    }
    auto& values = out[it->second].values;
    auto value = std::find_if(values.begin(), values.end(), [&](const TraceAnnotationValue& v) {
      return v.value == annotation.value;
    });
    if (value == values.end()) {
      values.push_back(TraceAnnotationValue{annotation.value, {}});
      value = values.end() - 1;
    }
    if (segment != nullptr) AddSegmentService(value->service_ids, *segment);
  }
}

void AddUser(const Entity& segment, std::vector<TraceUser>& users) {
  if (segment.user.empty()) return;
  auto it = std::find_if(users.begin(), users.end(),
                         [&](const TraceUser& u) { return u.user_name == segment.user; });
  if (it == users.end()) {
    users.push_back(TraceUser{segment.user, {}});
    it = users.end() - 1;
  }
  AddSegmentService(it->service_ids, segment);
}

void AddSegmentResources(const Entity& segment, TraceSummary& summary) {
  if (!segment.resource_arn.empty()) AddUnique(summary.resource_arns, segment.resource_arn);
  if (!segment.aws) return;
  if (!segment.aws->ec2_instance_id.empty()) {
    AddUnique(summary.instance_ids, segment.aws->ec2_instance_id);
  }
  if (!segment.aws->availability_zone.empty()) {
    AddUnique(summary.availability_zones, segment.aws->availability_zone);
  }
}

void AddInferredService(std::vector<ServiceId>& list, const DownstreamServiceRef& inferred) {
  for (const ServiceId& id : list) {
    if (inferred.Matches(id)) return;
  }
  list.push_back(inferred.ToServiceId());
}

TraceHttp RootHttp(const Entity& root) {
  TraceHttp http;
  if (!root.http) return http;
  if (root.http->request) {
    http.url = root.http->request->url;
    http.method = root.http->request->method;
    http.user_agent = root.http->request->user_agent;
    http.client_ip = root.http->request->client_ip;
  }
  if (root.http->response) http.status = root.http->response->status;
  return http;
}

}  // namespace

ServiceId SegmentServiceId(const Entity& segment) {
  ServiceId id;
  id.name = segment.name;
  id.names.reserve(1);
  id.names.push_back(segment.name);
  if (segment.aws) id.account_id = segment.aws->account_id;
  id.type = segment.origin;
  return id;
}

std::optional<DownstreamServiceRef> InferDownstreamServiceRef(const Entity& subsegment) {
  const bool aws_call = subsegment.namespace_ == "aws";
  if (!aws_call && subsegment.namespace_ != "remote") return std::nullopt;
  DownstreamServiceRef ref;
  if (subsegment.aws) ref.account_id = subsegment.aws->account_id;
  if (aws_call) {
    const AwsInfo* aws = subsegment.aws ? &*subsegment.aws : nullptr;
    if (aws != nullptr && !aws->table_name.empty()) {
      ref.name = aws->table_name;
      ref.type_prefix = "AWS::DynamoDB::Table";
    } else if (aws != nullptr && !aws->queue_url.empty()) {
      std::string_view url = aws->queue_url;
      while (!url.empty() && url.back() == '/') url.remove_suffix(1);
      const size_t slash = url.rfind('/');
      ref.name = slash == std::string_view::npos ? url : url.substr(slash + 1);
      ref.type_prefix = "AWS::SQS::Queue";
    } else if (aws != nullptr && !aws->function_name.empty()) {
      ref.name = aws->function_name;
      ref.type_prefix = "AWS::Lambda";
    } else {
      ref.name = subsegment.name;
      ref.type_prefix = "AWS::";
      ref.type_suffix = subsegment.name;
    }
  } else if (subsegment.sql) {
    ref.name = subsegment.name;
    ref.type_prefix = "Database::SQL";
  } else {
    ref.name = subsegment.name;
    ref.type_prefix = "remote";
  }
  return ref;
}

ServiceId DownstreamServiceRef::ToServiceId() const {
  ServiceId id;
  id.name = name;
  id.names.reserve(1);
  id.names.emplace_back(name);
  id.account_id = account_id;
  id.type.reserve(type_prefix.size() + type_suffix.size());
  id.type.append(type_prefix);
  id.type.append(type_suffix);
  return id;
}

bool DownstreamServiceRef::TypeEquals(std::string_view type) const {
  return type.size() == type_prefix.size() + type_suffix.size() && type.starts_with(type_prefix) &&
         type.ends_with(type_suffix);
}

bool DownstreamServiceRef::Matches(const ServiceId& id) const {
  return id.name == name && TypeEquals(id.type) && id.account_id == account_id &&
         id.names.size() == 1 && id.names.front() == name;
}

std::optional<ServiceId> InferDownstreamService(const Entity& subsegment) {
  std::optional<DownstreamServiceRef> ref = InferDownstreamServiceRef(subsegment);
  if (!ref) return std::nullopt;
  return ref->ToServiceId();
}

TraceSummary Summarize(const AssembledTrace& trace) {
  TraceSummary summary;
  summary.id = trace.id;
  summary.segment_count = trace.document_count;

  // Ids that some segment names as parent, sorted (usually few or none).
  std::vector<uint64_t> callers;
  size_t with_parent = 0;
  for (const Entity& segment : trace.segments) with_parent += segment.parent_id ? 1 : 0;
  callers.reserve(with_parent);
  for (const Entity& segment : trace.segments) {
    if (segment.parent_id) callers.push_back(segment.parent_id->value);
  }
  std::sort(callers.begin(), callers.end());

  // Room for what the walk below may add, so its vectors grow once.
  size_t annotations = 0;
  size_t services = 0;
  ForEachEntity(trace, [&](const Entity& entity, const Entity* segment) {
    annotations += entity.annotations.size();
    services += &entity == segment || !entity.namespace_.empty() ? 1 : 0;
  });
  summary.annotations.reserve(std::min(annotations, kMaxIndexedAnnotationsPerTrace));
  summary.service_ids.reserve(std::min<size_t>(services, 16));

  std::optional<int64_t> earliest_start;
  std::optional<int64_t> latest_end;
  AnnotationIndex annotation_index;
  ForEachEntity(trace, [&](const Entity& entity, const Entity* segment) {
    if (!earliest_start || entity.start_time_us < *earliest_start) {
      earliest_start = entity.start_time_us;
    }
    if (entity.end_time_us && (!latest_end || *entity.end_time_us > *latest_end)) {
      latest_end = entity.end_time_us;
    }
    summary.has_throttle |= entity.throttle;
    summary.is_partial |= entity.in_progress;
    if (!entity.annotations.empty()) {
      AddAnnotations(entity, segment, annotation_index, summary.annotations);
    }
    if (&entity == segment) {
      AddSegmentService(summary.service_ids, entity);
      AddUser(entity, summary.users);
      AddSegmentResources(entity, summary);
    } else if (!std::binary_search(callers.begin(), callers.end(), entity.id.value)) {
      if (auto inferred = InferDownstreamServiceRef(entity)) {
        AddInferredService(summary.service_ids, *inferred);
      }
    }
  });

  summary.start_time_us = earliest_start.value_or(0);
  if (earliest_start && latest_end) {
    summary.duration_us = std::max<int64_t>(0, *latest_end - *earliest_start);
  }

  const Entity* root = FindRootSegment(trace);
  if (root != nullptr) {
    if (root->end_time_us) {
      summary.response_time_us = std::max<int64_t>(0, *root->end_time_us - root->start_time_us);
    }
    summary.has_fault = root->fault;
    summary.has_error = root->error;
    summary.http = RootHttp(*root);
    summary.entry_point = SegmentServiceId(*root);
    summary.root_segment_name = root->name;
    summary.root_segment_origin = root->origin;
    ComputeRootCauses(trace, *root, summary.duration_us, summary);
  }
  return summary;
}

}  // namespace roentgen::xray
