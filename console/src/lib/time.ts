// Time ranges as the console's URLs keep them: relative ("15m", "6h", "30d":
// the last so long, re-evaluated at each query) or absolute
// ("2026-12-01T10:00:00Z~2026-12-01T11:00:00Z"). The API takes epoch seconds.

export type TimeRange =
  | { kind: 'relative'; seconds: number; text: string }
  | { kind: 'absolute'; start: number; end: number };

export const presets: { text: string; label: string }[] = [
  { text: '5m', label: 'Last 5 minutes' },
  { text: '15m', label: 'Last 15 minutes' },
  { text: '30m', label: 'Last 30 minutes' },
  { text: '1h', label: 'Last 1 hour' },
  { text: '3h', label: 'Last 3 hours' },
  { text: '6h', label: 'Last 6 hours' },
  { text: '12h', label: 'Last 12 hours' },
  { text: '1d', label: 'Last 1 day' },
  { text: '3d', label: 'Last 3 days' },
  { text: '7d', label: 'Last 7 days' },
  { text: '14d', label: 'Last 14 days' },
  { text: '30d', label: 'Last 30 days' },
];

export const defaultRange = '1h';
const units: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

export function parseRange(text: string | null | undefined): TimeRange {
  const value = text || defaultRange;
  const rel = /^(\d+)([smhd])$/.exec(value);
  if (rel) {
    const seconds = Number(rel[1]) * units[rel[2]!]!;
    if (seconds > 0 && seconds <= 30 * 86400) return { kind: 'relative', seconds, text: value };
  }
  const abs = value.split('~');
  if (abs.length === 2) {
    const start = Date.parse(abs[0]!) / 1000;
    const end = Date.parse(abs[1]!) / 1000;
    if (Number.isFinite(start) && Number.isFinite(end) && end > start) return { kind: 'absolute', start, end };
  }
  return parseRange(defaultRange);
}

export function formatRange(range: TimeRange): string {
  if (range.kind === 'relative') return range.text;
  return `${isoSeconds(range.start)}~${isoSeconds(range.end)}`;
}

function isoSeconds(epoch: number): string {
  return new Date(epoch * 1000).toISOString().replace(/\.000Z$/, 'Z');
}

// [start, end) in epoch seconds. A relative range ends a little in the future
// so traces stamped by a clock slightly ahead of this one are not missed.
export function resolveRange(range: TimeRange, nowMs = Date.now()): { start: number; end: number } {
  if (range.kind === 'absolute') return { start: range.start, end: range.end };
  const now = nowMs / 1000;
  return { start: now - range.seconds, end: now + 60 };
}

export function describeRange(range: TimeRange): string {
  if (range.kind === 'relative') {
    return presets.find((p) => p.text === range.text)?.label ?? `Last ${range.text}`;
  }
  return `${formatDateTime(range.start)} – ${formatDateTime(range.end)}`;
}

export function formatDateTime(epoch: number): string {
  const d = new Date(epoch * 1000);
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(
    d.getMinutes(),
  )}:${pad(d.getSeconds())}`;
}

// "10:42:07.123" today, else the date too.
export function formatTimestamp(epoch: number, nowMs = Date.now()): string {
  const d = new Date(epoch * 1000);
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  const time = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
  const today = new Date(nowMs);
  if (d.toDateString() === today.toDateString()) return time;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${time}`;
}

// For <input type="datetime-local">: local time, to the second.
export function toLocalInput(epoch: number): string {
  const d = new Date(epoch * 1000);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(
    d.getMinutes(),
  )}:${pad(d.getSeconds())}`;
}

export function fromLocalInput(text: string): number | undefined {
  const ms = new Date(text).getTime();
  return Number.isFinite(ms) ? ms / 1000 : undefined;
}
