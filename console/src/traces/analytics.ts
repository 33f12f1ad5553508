// The matching set's aggregates from Roentgen's TraceAnalytics extension: the
// response-time distribution, status shares, and the vocabulary (annotation
// keys and values, services, users, URLs) that completion offers. Against a
// server without the extension (404) it reports `unsupported` and the view
// falls back to what the loaded traces show.
import { useEffect, useState } from 'preact/hooks';
import type { TraceAnalyticsResponse } from '../api/analytics';
import type { TimeRangeType, TraceSummary } from '../api/types';
import { ApiError, xray } from '../api/xray';
import { annotationLiteral } from '../lib/format';
import { emptyVocabulary, type Vocabulary } from './completion';

export interface AnalyticsQuery {
  expression: string;
  start: number;
  end: number;
  timeRangeType: TimeRangeType;
}

const liveRefreshMs = 10_000;

export function useAnalytics(query: AnalyticsQuery, live: boolean, options: { enabled?: boolean; maxTraces?: number } = {}) {
  const enabled = options.enabled ?? true;
  const [data, setData] = useState<TraceAnalyticsResponse | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(false);
  const [unsupported, setUnsupported] = useState(false);
  const key = `${query.expression}|${query.start}|${query.end}|${query.timeRangeType}`;
  useEffect(() => {
    if (!enabled) {
      setData(null);
      setError(null);
      return;
    }
    const abort = new AbortController();
    let stopped = false;
    const load = async (first: boolean) => {
      if (first) {
        setLoading(true);
        setData(null);
        setError(null);
      }
      try {
        const end = live ? Math.max(query.end, Date.now() / 1000 + 60) : query.end;
        const result = await xray.traceAnalytics(
          {
            StartTime: query.start,
            EndTime: end,
            TimeRangeType: query.timeRangeType,
            ...(query.expression ? { FilterExpression: query.expression } : {}),
            Limit: 50,
            ...(options.maxTraces ? { MaxTraces: options.maxTraces } : {}),
          },
          abort.signal,
        );
        if (!stopped) {
          setData(result);
          setError(null);
          setUnsupported(false);
        }
      } catch (e) {
        if (stopped || (e instanceof DOMException && e.name === 'AbortError')) return;
        if (e instanceof ApiError && e.status === 404) setUnsupported(true);
        setError(e);
      } finally {
        if (!stopped) setLoading(false);
      }
    };
    void load(true);
    const timer = live ? setInterval(() => void load(false), liveRefreshMs) : undefined;
    return () => {
      stopped = true;
      abort.abort();
      if (timer) clearInterval(timer);
    };
  }, [key, live, enabled]);
  return { data, error, loading, unsupported };
}

// Without the extension: what the loaded traces show.
export function vocabularyOfRows(rows: TraceSummary[]): Vocabulary {
  const keys = new Map<string, Set<string | number | boolean>>();
  const services = new Set<string>();
  const users = new Set<string>();
  const urls = new Set<string>();
  for (const r of rows.slice(0, 2000)) {
    for (const [k, values] of Object.entries(r.Annotations ?? {})) {
      const set = keys.get(k) ?? new Set();
      for (const v of values) if (set.size < 50) set.add(annotationLiteral(v.AnnotationValue));
      keys.set(k, set);
    }
    for (const s of r.ServiceIds ?? []) if (s.Name) services.add(s.Name);
    for (const u of r.Users ?? []) users.add(u.UserName);
    if (r.Http?.HttpURL && urls.size < 200) urls.add(r.Http.HttpURL);
  }
  return {
    annotationKeys: [...keys.keys()].sort(),
    annotationValues: new Map([...keys].map(([k, v]) => [k, [...v]])),
    services: [...services].sort(),
    users: [...users].sort(),
    urls: [...urls],
  };
}

export function vocabularyOf(data: TraceAnalyticsResponse | null): Vocabulary {
  if (!data) return emptyVocabulary;
  return {
    annotationKeys: data.Annotations.map((a) => a.Key),
    annotationValues: new Map(data.Annotations.map((a) => [a.Key, a.Values.map((v) => annotationLiteral(v.Value))])),
    services: [...new Set(data.Services.map((s) => s.Name).filter((n): n is string => Boolean(n)))],
    users: data.Users.map((u) => u.Value),
    urls: data.Urls.map((u) => u.Value),
  };
}
