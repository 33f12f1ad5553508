// Choosing single traces to stand for two sets, for the step from a set
// comparison to a span-by-span diff: the selection's trace near its p90 (what
// a slow member looks like) against the baseline's near its median (what a
// normal one looks like).
import type { HistogramEntry, TraceSummary } from '../api/types';
import { quantile } from '../lib/histogram';

export const selectionQuantile = 0.9;
export const baselineQuantile = 0.5;

export interface Quantiles {
  p50?: number;
  p90?: number;
  p99?: number;
}

export function quantiles(h: HistogramEntry[] | undefined): Quantiles {
  const out: Quantiles = {};
  if (!h?.length) return out;
  const p50 = quantile(h, 0.5);
  const p90 = quantile(h, 0.9);
  const p99 = quantile(h, 0.99);
  if (p50 !== undefined) out.p50 = p50;
  if (p90 !== undefined) out.p90 = p90;
  if (p99 !== undefined) out.p99 = p99;
  return out;
}

// The trace whose response time is nearest `target`; among equals, the most
// recent. Traces without a response time (in progress) are never chosen.
export function nearestTrace(summaries: TraceSummary[], target: number): TraceSummary | undefined {
  let best: TraceSummary | undefined;
  let bestGap = Infinity;
  for (const s of summaries) {
    if (s.ResponseTime === undefined) continue;
    const gap = Math.abs(s.ResponseTime - target);
    if (gap < bestGap || (gap === bestGap && (s.StartTime ?? 0) > (best?.StartTime ?? 0))) {
      best = s;
      bestGap = gap;
    }
  }
  return best;
}

// A response-time window around `target` to ask the server for candidates in
// (a histogram's quantile is a bucket's lower bound: the bucket is 1 ms wide
// below 1 s, 10 ms below 10 s, …), as [lo, hi) seconds.
export function windowAround(target: number): [number, number] {
  const bucket = target < 1 ? 0.001 : target < 10 ? 0.01 : target < 100 ? 0.1 : 1;
  const half = Math.max(bucket, target * 0.05);
  const round = (x: number) => Math.round(x * 1e6) / 1e6;
  return [round(Math.max(0, target - half)), round(target + bucket + half)];
}

export type ListOrder = 'recent' | 'slowest' | 'typical';

// The traces a side lists: the most recent, the slowest, or those nearest
// its typical response time.
export function orderTraces(summaries: TraceSummary[], order: ListOrder, target?: number, count = 20): TraceSummary[] {
  const list = [...summaries];
  if (order === 'slowest') list.sort((x, y) => (y.ResponseTime ?? -1) - (x.ResponseTime ?? -1));
  else if (order === 'typical' && target !== undefined)
    list.sort((x, y) => gap(x, target) - gap(y, target) || (y.StartTime ?? 0) - (x.StartTime ?? 0));
  else list.sort((x, y) => (y.StartTime ?? 0) - (x.StartTime ?? 0));
  return list.slice(0, count);
}

const gap = (s: TraceSummary, target: number) => (s.ResponseTime === undefined ? Infinity : Math.abs(s.ResponseTime - target));
