// Fetching what the map shows: the service graph of a window (following
// NextToken for group-scoped maps, whose pages are slices of the window) and
// a node's or edge's time series, turned into chart columns.
import type { Service, SummaryStatistics, TimeSeriesPoint as TimePoint } from '../api/types';
import { xray } from '../api/xray';
import { countsOf, mergePages } from './model';

export interface GraphResult {
  services: Service[];
  pages: number;
}

export async function loadServiceGraph(
  window: { start: number; end: number },
  group: string,
  signal?: AbortSignal,
  onPage?: (pages: number) => void,
): Promise<GraphResult> {
  const pages: Service[][] = [];
  let token: string | undefined;
  do {
    const page = await xray.getServiceGraph(
      {
        StartTime: window.start,
        EndTime: window.end,
        ...(group ? { GroupName: group } : {}),
        ...(token ? { NextToken: token } : {}),
      },
      signal,
    );
    pages.push(page.Services ?? []);
    onPage?.(pages.length);
    token = page.NextToken;
  } while (token);
  return { services: mergePages(pages), pages: pages.length };
}

export async function loadTimeSeries(
  selector: string,
  window: { start: number; end: number },
  period: number,
  group: string,
  signal?: AbortSignal,
): Promise<TimePoint[]> {
  const points: TimePoint[] = [];
  let token: string | undefined;
  do {
    const page = await xray.getTimeSeriesServiceStatistics(
      {
        StartTime: window.start,
        EndTime: window.end,
        EntitySelectorExpression: selector,
        Period: period,
        ...(group ? { GroupName: group } : {}),
        ...(token ? { NextToken: token } : {}),
      },
      signal,
    );
    points.push(...(page.TimeSeriesServiceStatistics ?? []));
    token = page.NextToken;
  } while (token);
  return points;
}

export interface SeriesColumns {
  t: number[]; // period starts, epoch seconds
  requests: number[];
  errors: number[]; // 4xx other than 429
  throttles: number[];
  faults: number[];
  latency: (number | null)[]; // average seconds; null where there were no requests
}

// One row per period of [start, end), zeros where the server sent none (it
// leaves empty periods out). A service's own statistics, or an edge's.
export function seriesColumns(
  points: TimePoint[],
  which: 'service' | 'edge',
  start: number,
  end: number,
  period: number,
): SeriesColumns {
  const byTime = new Map<number, SummaryStatistics[]>();
  for (const p of points) {
    const s = which === 'service' ? p.ServiceSummaryStatistics : p.EdgeSummaryStatistics;
    if (!s) continue;
    const list = byTime.get(p.Timestamp);
    if (list) list.push(s);
    else byTime.set(p.Timestamp, [s]);
  }
  const first = Math.floor(start / period) * period;
  const lastData = Math.max(first, ...byTime.keys());
  const last = Math.max(lastData, Math.floor((end - 1) / period) * period);
  const out: SeriesColumns = { t: [], requests: [], errors: [], throttles: [], faults: [], latency: [] };
  // Guard against a window far wider than its period (never more than a few
  // thousand rows).
  const step = Math.max(period, Math.ceil((last - first) / 5000 / period) * period);
  for (let t = first; t <= last; t += step) {
    let total = 0;
    let errors = 0;
    let throttles = 0;
    let faults = 0;
    let time = 0;
    for (const s of byTime.get(t) ?? []) {
      const c = countsOf(s);
      total += c.total;
      errors += c.error;
      throttles += c.throttle;
      faults += c.fault;
      time += c.responseTime;
    }
    out.t.push(t);
    out.requests.push(total);
    out.errors.push(errors);
    out.throttles.push(throttles);
    out.faults.push(faults);
    out.latency.push(total > 0 ? time / total : null);
  }
  return out;
}
