// What a set's figures are based on, said plainly when that is not the whole
// range: the server scans at most so many traces, most recent first, and the
// console's own aggregation (without TraceAnalytics) reads at most so many
// summaries.
import type { TraceAnalyticsResponse } from '../api/analytics';
import { formatCount } from '../lib/format';
import { formatTimestamp } from '../lib/time';

export interface Side {
  name: 'A' | 'B';
  title: string;
  filter: string; // what the set is, in words or as typed
  data: TraceAnalyticsResponse;
  computed: boolean;
}

// "Based on the most recent N traces" when a set was not aggregated in full,
// else null.
export function coverageNote(side: Side): string | null {
  const d = side.data;
  if (d.Complete) return null;
  const since = d.ScannedFrom ? ` (back to ${formatTimestamp(d.ScannedFrom)})` : '';
  return side.computed
    ? `${side.name} is based on the most recent ${formatCount(d.TraceCount)} traces${since}: this server has no TraceAnalytics, so the console read that many summaries.`
    : `${side.name} is based on the most recent ${formatCount(d.TracesProcessedCount)} traces of the range${since}: the server scans at most that many, so older traces are not counted.`;
}

