// Sorting the loaded trace summaries by a column of the list.
import type { TraceSummary } from '../api/types';
import { traceStatus } from '../lib/format';

export type SortKey = 'start' | 'response' | 'duration' | 'method' | 'url' | 'http' | 'status';
export interface Sort {
  key: SortKey;
  descending: boolean;
}

const statusRank = { fault: 3, throttle: 2, error: 1, ok: 0 };

function sortValue(s: TraceSummary, key: SortKey): number | string {
  switch (key) {
    case 'start':
      return s.StartTime ?? 0;
    case 'response':
      return s.ResponseTime ?? -1;
    case 'duration':
      return s.Duration ?? -1;
    case 'method':
      return s.Http.HttpMethod ?? '';
    case 'url':
      return s.Http.HttpURL ?? '';
    case 'http':
      return s.Http.HttpStatus ?? 0;
    case 'status':
      return statusRank[traceStatus(s)] + (s.IsPartial ? 0.5 : 0);
  }
}

export function sortRows(rows: TraceSummary[], sort: Sort): TraceSummary[] {
  if (sort.key === 'start' && sort.descending) return rows; // the server's order
  const sign = sort.descending ? -1 : 1;
  return rows
    .map((r) => ({ r, v: sortValue(r, sort.key) }))
    .sort((a, b) => (a.v < b.v ? -sign : a.v > b.v ? sign : a.r.Id < b.r.Id ? -1 : 1))
    .map((x) => x.r);
}
