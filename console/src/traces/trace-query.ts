// The trace list's data: GetTraceSummaries pages followed through NextToken
// on demand (as the list scrolls, or all at once up to a cap), and live tail,
// which polls the same filter by event time (TimeRangeType Event: when a
// trace last changed) and merges new and changed traces in by Id/Revision.
// Live tail needs no extension: it works against any X-Ray API.
import { useEffect, useRef, useState } from 'preact/hooks';
import type { TimeRangeType, TraceSummary } from '../api/types';
import { xray } from '../api/xray';

export interface TraceQuery {
  expression: string;
  start: number; // epoch seconds
  end: number;
  timeRangeType: TimeRangeType;
}

export interface TraceRows {
  rows: TraceSummary[];
  fresh: Set<string>; // ids that arrived through live tail, for highlighting
  done: boolean; // no NextToken left
  loading: boolean;
  error: unknown;
  processed: number; // candidates the server looked at
}

export const loadAllCap = 50_000;
const livePollMs = 2000;
const liveOverlapSeconds = 10;

// Merges summaries into rows (newest start first), replacing older revisions.
export function mergeSummaries(rows: TraceSummary[], incoming: TraceSummary[]): { rows: TraceSummary[]; added: string[] } {
  const index = new Map(rows.map((r, i) => [r.Id, i]));
  const next = rows.slice();
  const added: string[] = [];
  for (const s of incoming) {
    const i = index.get(s.Id);
    if (i === undefined) {
      index.set(s.Id, next.length);
      next.push(s);
      added.push(s.Id);
    } else if ((next[i]!.Revision ?? 0) <= (s.Revision ?? 0)) {
      next[i] = s;
    }
  }
  if (added.length) next.sort((a, b) => (b.StartTime ?? 0) - (a.StartTime ?? 0));
  return { rows: next, added };
}

export function useTraceRows(query: TraceQuery | null, live: boolean) {
  const [state, setState] = useState<TraceRows>({ rows: [], fresh: new Set(), done: true, loading: false, error: null, processed: 0 });
  const token = useRef<string | undefined>(undefined);
  const abort = useRef<AbortController | null>(null);
  const busy = useRef<number | null>(null); // the generation with a page in flight
  const generation = useRef(0);
  const doneRef = useRef(true);
  const countRef = useRef(0);
  doneRef.current = state.done;
  countRef.current = state.rows.length;

  const loadPage = async (gen: number): Promise<boolean> => {
    if (!query || busy.current === gen) return false;
    busy.current = gen;
    setState((s) => ({ ...s, loading: true }));
    try {
      const page = await xray.getTraceSummaries(
        {
          StartTime: query.start,
          EndTime: query.end,
          TimeRangeType: query.timeRangeType,
          ...(query.expression ? { FilterExpression: query.expression } : {}),
          ...(token.current ? { NextToken: token.current } : {}),
        },
        abort.current?.signal,
      );
      if (gen !== generation.current) return false;
      token.current = page.NextToken;
      setState((s) => ({
        ...s,
        rows: mergeSummaries(s.rows, page.TraceSummaries).rows,
        done: !page.NextToken,
        loading: false,
        error: null,
        processed: s.processed + (page.TracesProcessedCount ?? 0),
      }));
      return Boolean(page.NextToken);
    } catch (e) {
      if (gen === generation.current && !(e instanceof DOMException && e.name === 'AbortError')) {
        setState((s) => ({ ...s, loading: false, error: e, done: true }));
      }
      return false;
    } finally {
      if (busy.current === gen) busy.current = null;
    }
  };

  const key = query ? `${query.expression}|${query.start}|${query.end}|${query.timeRangeType}` : '';
  useEffect(() => {
    abort.current?.abort();
    abort.current = new AbortController();
    token.current = undefined;
    const gen = ++generation.current;
    setState({ rows: [], fresh: new Set(), done: !query, loading: Boolean(query), error: null, processed: 0 });
    if (query) void loadPage(gen);
    return () => abort.current?.abort();
  }, [key]);

  // Live tail: poll by event time from the last poll (with an overlap, as a
  // trace is stamped when written and may become visible a moment later).
  useEffect(() => {
    if (!live || !query) return;
    let since = Date.now() / 1000 - liveOverlapSeconds;
    let stopped = false;
    const gen = generation.current;
    const poll = async () => {
      const now = Date.now() / 1000;
      try {
        let next: string | undefined;
        const incoming: TraceSummary[] = [];
        let pages = 0;
        do {
          const page = await xray.getTraceSummaries({
            StartTime: since - liveOverlapSeconds,
            EndTime: now + 60,
            TimeRangeType: 'Event',
            ...(query.expression ? { FilterExpression: query.expression } : {}),
            ...(next ? { NextToken: next } : {}),
          });
          incoming.push(...page.TraceSummaries);
          next = page.NextToken;
        } while (next && ++pages < 10 && !stopped);
        if (stopped || gen !== generation.current) return;
        since = now;
        if (incoming.length) {
          setState((s) => {
            const merged = mergeSummaries(s.rows, incoming);
            if (!merged.added.length && merged.rows.every((r, i) => r === s.rows[i])) return s;
            const fresh = new Set(s.fresh);
            for (const id of merged.added) fresh.add(id);
            return { ...s, rows: merged.rows, fresh };
          });
        }
      } catch (e) {
        if (!stopped) setState((s) => ({ ...s, error: e }));
      }
    };
    const timer = setInterval(() => void poll(), livePollMs);
    void poll();
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, [live, key]);

  const loadMore = () => {
    if (!state.done) void loadPage(generation.current);
  };
  // Follows NextToken until the end or the cap (for sorting the whole set).
  const loadAll = async () => {
    const gen = generation.current;
    while (gen === generation.current && !doneRef.current && countRef.current < loadAllCap) {
      if (busy.current === gen) {
        await new Promise((r) => setTimeout(r, 20));
        continue;
      }
      const more = await loadPage(gen);
      // Let the state (and its refs) settle before the next page.
      await new Promise((r) => setTimeout(r, 0));
      if (!more) break;
    }
  };
  return { ...state, loadMore, loadAll };
}
