// Filter pushdown for the scale-out engine: the SQL condition over the
// `traces` table's columns that every trace a filter matches satisfies
// (docs/storage.md, "ClickHouse engine"). ClickHouse narrows a scan with it;
// the engine then decodes each row's record and decides with
// CompiledFilter::Matches, so the condition may let through traces the filter
// rejects, never the reverse: it is built only from what the filter implies.
//
// Pushed: trace flags (fault, error, throttle, partial compared with a
// boolean), user = "…", annotation.k = … (the key present; for a string, the
// key and value), numeric comparisons of responsetime, duration and
// http.status (filter/column_predicates.h, widened by one unit so float
// rounding never drops a trace), and the service names service(…) and
// edge(…) require of the trace graph; an AND implies what any of its parts
// does, an OR what all its branches do when each implies something. NOT,
// other keywords and what scopes hold are left to the re-check. Pure,
// thread-safe.
#pragma once

#include <string>

#include "filter/bind.h"

namespace roentgen::store::clickhouse {

// The condition on the `traces` table's columns; "" when the filter implies
// nothing pushable.
std::string PushdownCondition(const filter::BoundNode& filter);

// The `trace_values` value (clickhouse_schema.h) every trace the filter
// matches has: that of the first of its top-level conditions (the filter
// itself, or the parts of its top AND, nested ANDs included) that is
// `user = "…"` or `annotation.k = "…"` with a string; "" when none is.
std::string IndexedValue(const filter::BoundNode& filter);

}  // namespace roentgen::store::clickhouse
