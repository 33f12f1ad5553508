// The traces view's URL forms: a response-time selection (`rt=lo-hi`, hi may
// be `inf`) and the list's sort (`sort=key-asc|desc`).
import type { Sort, SortKey } from './sort';

export function parseSelection(text: string | null): [number, number] | null {
  if (!text) return null;
  const m = /^([\d.]+)-([\d.]+|inf)$/.exec(text);
  if (!m) return null;
  const lo = Number(m[1]);
  const hi = m[2] === 'inf' ? Infinity : Number(m[2]);
  return Number.isFinite(lo) && hi > lo ? [lo, hi] : null;
}

export function formatSelection(s: [number, number] | null): string | undefined {
  if (!s) return undefined;
  return `${s[0]}-${Number.isFinite(s[1]) ? s[1] : 'inf'}`;
}

export function parseSort(text: string | null): Sort {
  const m = /^(start|response|duration|method|url|http|status)-(asc|desc)$/.exec(text ?? '');
  return m ? { key: m[1] as SortKey, descending: m[2] === 'desc' } : { key: 'start', descending: true };
}
