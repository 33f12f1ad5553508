#include "api/trace_query.h"

#include <fmt/format.h>

#include <memory>

namespace roentgen::api {

std::string_view TimeRangeTypeName(store::TimeRangeType type) {
  switch (type) {
    case store::TimeRangeType::kTraceId:
      return "TraceId";
    case store::TimeRangeType::kEvent:
      return "Event";
    case store::TimeRangeType::kService:
      return "Service";
  }
  return "TraceId";
}

Result<TraceQuery> ParseTraceQuery(const RequestBody& body, const filter::GroupResolver* groups,
                                   const ApiLimits& limits) {
  TraceQuery q;
  Result<TimeRange> range = ReadTimeRange(body);
  if (!range.ok()) return range.status();
  RG_RETURN_IF_ERROR(limits.CheckRange(range->start_us, range->end_us));
  q.scan.start_us = range->start_us;
  q.scan.end_us = range->end_us;
  q.scan.descending = true;
  q.scan.searchable_only = true;

  Field<std::string_view> type = body.String("TimeRangeType");
  if (!type.ok()) return type.status();
  const std::string_view type_name = type->value_or("TraceId");
  if (type_name == "TraceId") {
    q.scan.time_range_type = store::TimeRangeType::kTraceId;
  } else if (type_name == "Event") {
    q.scan.time_range_type = store::TimeRangeType::kEvent;
  } else if (type_name == "Service") {
    q.scan.time_range_type = store::TimeRangeType::kService;
  } else {
    return Status::InvalidArgument(fmt::format(
        "TimeRangeType: must be TraceId, Event or Service, got \"{}\"", type_name.substr(0, 64)));
  }

  Field<std::string_view> expression = body.String("FilterExpression");
  if (!expression.ok()) return expression.status();
  if (expression->has_value() && !(*expression)->empty()) {
    Result<filter::CompiledFilter> compiled = filter::CompileFilter(**expression, groups);
    if (!compiled.ok()) {
      return Status::InvalidArgument(
          fmt::format("FilterExpression: {}", compiled.status().message()));
    }
    if (!compiled->MatchesAll()) {
      q.scan.filter = std::make_shared<const filter::CompiledFilter>(std::move(*compiled));
    }
  }
  return q;
}

}  // namespace roentgen::api
