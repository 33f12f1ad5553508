// How numbers, statuses and annotation values read on screen.
import type { AnnotationValue, TraceSummary } from '../api/types';

// Seconds as "850 µs", "12.3 ms", "1.25 s", "2 m 05 s".
export function formatDuration(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds)) return '—';
  const s = Math.max(0, seconds);
  if (s < 0.001) return `${Math.round(s * 1e6)} µs`;
  if (s < 0.01) return `${(s * 1000).toFixed(2)} ms`;
  if (s < 1) return `${(s * 1000).toFixed(s < 0.1 ? 1 : 0)} ms`;
  if (s < 60) return `${s.toFixed(s < 10 ? 2 : 1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} m ${String(Math.round(s - m * 60)).padStart(2, '0')} s`;
  const h = Math.floor(m / 60);
  return `${h} h ${String(m - h * 60).padStart(2, '0')} m`;
}

export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

export function formatPercent(share: number): string {
  if (!Number.isFinite(share)) return '—';
  const p = share * 100;
  return `${p < 10 && p !== 0 ? p.toFixed(1) : Math.round(p)}%`;
}

export type Status = 'ok' | 'error' | 'throttle' | 'fault';

// A trace's status as X-Ray's console shows it: fault, else throttle, else
// error, else ok (the order the service map counts in).
export function traceStatus(s: Pick<TraceSummary, 'HasFault' | 'HasError' | 'HasThrottle'>): Status {
  if (s.HasFault) return 'fault';
  if (s.HasThrottle) return 'throttle';
  if (s.HasError) return 'error';
  return 'ok';
}

export function annotationText(v: AnnotationValue): string {
  if ('StringValue' in v) return v.StringValue;
  if ('NumberValue' in v) return String(v.NumberValue);
  return String(v.BooleanValue);
}

export function annotationLiteral(v: AnnotationValue): string | number | boolean {
  if ('StringValue' in v) return v.StringValue;
  if ('NumberValue' in v) return v.NumberValue;
  return v.BooleanValue;
}

export function serviceLabel(s: { Name?: string; Type?: string }): string {
  if (!s.Name) return s.Type === 'client' ? 'Client' : s.Type ?? '(unnamed)';
  return s.Name;
}
