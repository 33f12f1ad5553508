// What the Compare views load: each set's aggregates (TraceAnalytics, or the
// same figures computed from trace summaries on a server without the
// extension), a page of each set's traces, and two traces' documents.
import { useEffect, useState } from 'preact/hooks';
import type { TraceAnalyticsResponse } from '../api/analytics';
import type { TimeRangeType, Trace, TraceSummary } from '../api/types';
import { ApiError, xray } from '../api/xray';
import { analyticsFromSummaries } from './summary-analytics';

export interface SetQuery {
  expression: string;
  start: number;
  end: number;
  trt: TimeRangeType;
}

// Values listed per dimension.
export const valueLimit = 50;
// Traces a set is aggregated over when the server cannot do it.
export const fallbackTraces = 2000;

export interface Async<T> {
  data: T | null;
  error: unknown;
  loading: boolean;
}

// Runs `load` whenever `key` changes (null: nothing to load), aborting the
// previous run.
export function useAsync<T>(key: string | null, load: (signal: AbortSignal) => Promise<T>): Async<T> {
  const [state, setState] = useState<Async<T>>({ data: null, error: null, loading: false });
  useEffect(() => {
    if (key === null) {
      setState({ data: null, error: null, loading: false });
      return;
    }
    const abort = new AbortController();
    setState({ data: null, error: null, loading: true });
    load(abort.signal).then(
      (data) => !abort.signal.aborted && setState({ data, error: null, loading: false }),
      (error) => {
        if (abort.signal.aborted || (error instanceof DOMException && error.name === 'AbortError')) return;
        setState({ data: null, error, loading: false });
      },
    );
    return () => abort.abort();
  }, [key]);
  return state;
}

export interface SetAnalytics {
  analytics: TraceAnalyticsResponse;
  computed: boolean; // from summaries in the browser (no TraceAnalytics on the server)
}

let serverHasAnalytics = true;

export async function loadSetAnalytics(q: SetQuery, signal?: AbortSignal): Promise<SetAnalytics> {
  if (serverHasAnalytics) {
    try {
      const analytics = await xray.traceAnalytics(
        {
          StartTime: q.start,
          EndTime: q.end,
          TimeRangeType: q.trt,
          ...(q.expression ? { FilterExpression: q.expression } : {}),
          Limit: valueLimit,
        },
        signal,
      );
      return { analytics, computed: false };
    } catch (e) {
      if (!(e instanceof ApiError && e.status === 404)) throw e;
      serverHasAnalytics = false;
    }
  }
  const { summaries, complete } = await loadSummaries(q, fallbackTraces, signal);
  return { analytics: analyticsFromSummaries(summaries, complete, valueLimit), computed: true };
}

// Up to `max` summaries of a set, most recent first, and whether that is all.
export async function loadSummaries(q: SetQuery, max: number, signal?: AbortSignal): Promise<{ summaries: TraceSummary[]; complete: boolean }> {
  const summaries: TraceSummary[] = [];
  let token: string | undefined;
  do {
    const page = await xray.getTraceSummaries(
      {
        StartTime: q.start,
        EndTime: q.end,
        TimeRangeType: q.trt,
        ...(q.expression ? { FilterExpression: q.expression } : {}),
        ...(token ? { NextToken: token } : {}),
      },
      signal,
    );
    summaries.push(...page.TraceSummaries);
    token = page.NextToken;
  } while (token && summaries.length < max);
  return { summaries: summaries.slice(0, max), complete: !token && summaries.length <= max };
}

export const queryKey = (q: SetQuery) => `${q.expression}\u0000${q.start}\u0000${q.end}\u0000${q.trt}`;

export function useSetAnalytics(q: SetQuery | null): Async<SetAnalytics> {
  return useAsync(q ? queryKey(q) : null, (signal) => loadSetAnalytics(q!, signal));
}

// The first page (up to 100) of a set's traces: what its list offers.
export function useSetTraces(q: SetQuery | null): Async<{ summaries: TraceSummary[]; complete: boolean }> {
  return useAsync(q ? queryKey(q) : null, (signal) => loadSummaries(q!, 100, signal));
}

export interface TracePair {
  a?: Trace;
  b?: Trace;
  missing: string[]; // ids the server does not have
}

export async function loadTraces(a: string | undefined, b: string | undefined, signal?: AbortSignal): Promise<TracePair> {
  const ids = [...new Set([a, b].filter((x): x is string => Boolean(x)))];
  if (!ids.length) return { missing: [] };
  const r = await xray.batchGetTraces(ids, signal);
  const byId = new Map(r.Traces.map((t) => [t.Id, t]));
  const out: TracePair = { missing: ids.filter((id) => !byId.has(id)) };
  if (a && byId.has(a)) out.a = byId.get(a)!;
  if (b && byId.has(b)) out.b = byId.get(b)!;
  return out;
}
