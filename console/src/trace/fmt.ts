// How the trace view writes times, values and links to other views.
import { formatHash } from '../lib/router';
import { scopeParams } from '../lib/scope';
import { formatRange } from '../lib/time';

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

// Epoch seconds as local "2026-12-06 03:39:12.345".
export function formatTime(epoch: number): string {
  if (!Number.isFinite(epoch)) return '—';
  const d = new Date(epoch * 1000);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

// "3 min ago", "2 h ago", "in the future".
export function formatAgo(epoch: number, now = Date.now() / 1000): string {
  const s = now - epoch;
  if (s < -5) return 'in the future';
  if (s < 60) return 'just now';
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

// 5001 → "5,001". Without toLocaleString, whose first call loads the
// locale data (some 15 ms, on the path to the first rows).
export function formatInt(n: number): string {
  return String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

// Any JSON value as short text (objects as JSON).
export function valueText(v: unknown): string {
  if (v === null || v === undefined) return '—';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

// The traces list filtered by `q`, in the range the user last chose, or
// around a moment when `around` is given.
export function tracesLink(q: string | undefined, around?: { start: number; end: number }): string {
  const params: Record<string, string | undefined> = { ...scopeParams() };
  if (around) params.range = formatRange({ kind: 'absolute', start: Math.floor(around.start - 300), end: Math.ceil(around.end + 300) });
  params.q = q;
  return formatHash('traces', [], params);
}

export function traceLink(id: string, span?: string): string {
  return formatHash('trace', [id], { span });
}

export async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    return false;
  }
}
