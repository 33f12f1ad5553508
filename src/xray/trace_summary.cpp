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
#include <functional>
#include <unordered_map>
#include <unordered_set>

#include "xray/root_cause.h"
#include "xray/trace.h"

namespace roentgen::xray {
namespace {

template <typename T>
void AddUnique(std::vector<T>& list, const T& value) {
  if (std::find(list.begin(), list.end(), value) == list.end()) list.push_back(value);
}

// Calls `visit(entity, owning segment or nullptr)` over every entity, pre-order.
void ForEachEntity(const AssembledTrace& trace,
                   const std::function<void(const Entity&, const Entity*)>& visit) {
  std::function<void(const Entity&, const Entity*)> walk = [&](const Entity& entity,
                                                               const Entity* segment) {
    visit(entity, segment);
    for (const Entity& child : entity.subsegments) walk(child, segment);
  };
  for (const Entity& segment : trace.segments) walk(segment, &segment);
  for (const Entity& orphan : trace.orphans) walk(orphan, nullptr);
}

void AddAnnotations(const Entity& entity, const Entity* segment,
                    std::unordered_map<std::string, size_t>& index,
                    std::vector<TraceAnnotation>& out) {
  for (const Annotation& annotation : entity.annotations) {
    auto it = index.find(annotation.key);
    if (it == index.end()) {
      if (out.size() >= kMaxIndexedAnnotationsPerTrace) continue;
      it = index.emplace(annotation.key, out.size()).first;
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
    if (segment != nullptr) AddUnique(value->service_ids, SegmentServiceId(*segment));
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
  AddUnique(it->service_ids, SegmentServiceId(segment));
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
  id.names = {segment.name};
  if (segment.aws) id.account_id = segment.aws->account_id;
  id.type = segment.origin;
  return id;
}

std::optional<ServiceId> InferDownstreamService(const Entity& subsegment) {
  if (subsegment.namespace_ != "remote" && subsegment.namespace_ != "aws") return std::nullopt;
  const AwsInfo empty;
  const AwsInfo& aws = subsegment.aws ? *subsegment.aws : empty;
  ServiceId id;
  id.account_id = aws.account_id;
  if (subsegment.namespace_ == "aws") {
    if (!aws.table_name.empty()) {
      id.name = aws.table_name;
      id.type = "AWS::DynamoDB::Table";
    } else if (!aws.queue_url.empty()) {
      std::string_view url = aws.queue_url;
      while (!url.empty() && url.back() == '/') url.remove_suffix(1);
      const size_t slash = url.rfind('/');
      id.name = std::string(slash == std::string_view::npos ? url : url.substr(slash + 1));
      id.type = "AWS::SQS::Queue";
    } else if (!aws.function_name.empty()) {
      id.name = aws.function_name;
      id.type = "AWS::Lambda";
    } else {
      id.name = subsegment.name;
      id.type = "AWS::" + subsegment.name;
    }
  } else if (subsegment.sql) {
    id.name = subsegment.name;
    id.type = "Database::SQL";
  } else {
    id.name = subsegment.name;
    id.type = "remote";
  }
  id.names = {id.name};
  return id;
}

TraceSummary Summarize(const AssembledTrace& trace) {
  TraceSummary summary;
  summary.id = trace.id;
  summary.segment_count = trace.document_count;

  std::unordered_set<uint64_t> callers;  // ids that some segment names as parent
  for (const Entity& segment : trace.segments) {
    if (segment.parent_id) callers.insert(segment.parent_id->value);
  }

  std::optional<int64_t> earliest_start;
  std::optional<int64_t> latest_end;
  std::unordered_map<std::string, size_t> annotation_index;
  ForEachEntity(trace, [&](const Entity& entity, const Entity* segment) {
    if (!earliest_start || entity.start_time_us < *earliest_start) {
      earliest_start = entity.start_time_us;
    }
    if (entity.end_time_us && (!latest_end || *entity.end_time_us > *latest_end)) {
      latest_end = entity.end_time_us;
    }
    summary.has_throttle |= entity.throttle;
    summary.is_partial |= entity.in_progress;
    AddAnnotations(entity, segment, annotation_index, summary.annotations);
    if (&entity == segment) {
      AddUnique(summary.service_ids, SegmentServiceId(entity));
      AddUser(entity, summary.users);
      AddSegmentResources(entity, summary);
    } else if (!callers.contains(entity.id.value)) {
      if (auto inferred = InferDownstreamService(entity)) AddUnique(summary.service_ids, *inferred);
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
