// Re-binning X-Ray's response-time histograms ({Value: bucket lower bound in
// seconds, Count}) into equal-width bins for a bar chart, with the slowest
// tail folded into one last "and slower" bin so an outlier does not squash
// the rest.
import type { HistogramEntry } from '../api/types';

export interface Bins {
  width: number; // seconds per bin
  counts: number[]; // the last bin also holds everything at or past `tailFrom`
  tailFrom: number | null; // where the folded tail starts (seconds), null if none
  total: number;
}

// 1, 2 or 5 times a power of ten, at least `x`.
export function niceStep(x: number): number {
  if (!(x > 0)) return 0.001;
  const p = Math.pow(10, Math.floor(Math.log10(x)));
  for (const m of [1, 2, 5, 10]) if (m * p >= x - 1e-12) return m * p;
  return 10 * p;
}

export function rebin(entries: HistogramEntry[], bins = 48, tailQuantile = 0.99): Bins {
  const sorted = entries.filter((e) => e.Count > 0).sort((a, b) => a.Value - b.Value);
  const total = sorted.reduce((n, e) => n + e.Count, 0);
  if (total === 0) return { width: 0.001, counts: [], tailFrom: null, total: 0 };
  const max = sorted[sorted.length - 1]!.Value;
  // The value below which tailQuantile of the observations lie.
  let seen = 0;
  let q = max;
  for (const e of sorted) {
    seen += e.Count;
    if (seen >= total * tailQuantile) {
      q = e.Value;
      break;
    }
  }
  const foldTail = max > q * 1.5 && q > 0;
  const span = foldTail ? q : max;
  const width = niceStep(Math.max(span, 0.001) / (foldTail ? bins - 1 : bins));
  const n = Math.max(1, Math.floor(span / width) + 1 + (foldTail ? 1 : 0));
  const counts = new Array<number>(n).fill(0);
  const tailFrom = foldTail ? (n - 1) * width : null;
  for (const e of sorted) {
    const i = Math.min(n - 1, Math.floor(e.Value / width + 1e-9));
    counts[i]! += e.Count;
  }
  return { width, counts, tailFrom, total };
}

// A drag from `lo` to `hi` seconds snapped outwards to bin edges; a range that
// reaches the folded tail is open-ended (hi = Infinity).
export function snapSelection(b: Bins, lo: number, hi: number): [number, number] {
  const a = Math.max(0, Math.floor(Math.min(lo, hi) / b.width + 1e-9)) * b.width;
  let z = Math.ceil(Math.max(lo, hi) / b.width - 1e-9) * b.width;
  if (z <= a) z = a + b.width;
  if (b.tailFrom !== null && z > b.tailFrom) return [Math.min(a, b.tailFrom), Infinity];
  return [round(a), round(z)];
}

function round(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

// Response times as a histogram from individual values (seconds), in X-Ray's
// bucket rule (1 ms below 1 s, 10 ms below 10 s, …).
export function histogramOf(values: number[]): HistogramEntry[] {
  const buckets = new Map<number, number>();
  for (const v of values) {
    const s = Math.max(0, v);
    const step = s < 1 ? 0.001 : s < 10 ? 0.01 : s < 100 ? 0.1 : s < 1000 ? 1 : s < 10000 ? 10 : 100;
    const lower = Math.round(Math.floor(s / step + 1e-9) * step * 1e6) / 1e6;
    buckets.set(lower, (buckets.get(lower) ?? 0) + 1);
  }
  return [...buckets.entries()].sort((a, b) => a[0] - b[0]).map(([Value, Count]) => ({ Value, Count }));
}

// The value below which `q` of the histogram's observations lie (bucket
// lower bounds, so an estimate within one bucket).
export function quantile(entries: HistogramEntry[], q: number): number | undefined {
  const sorted = entries.filter((e) => e.Count > 0).sort((a, b) => a.Value - b.Value);
  const total = sorted.reduce((n, e) => n + e.Count, 0);
  if (total === 0) return undefined;
  let seen = 0;
  for (const e of sorted) {
    seen += e.Count;
    if (seen >= total * q) return e.Value;
  }
  return sorted[sorted.length - 1]!.Value;
}
