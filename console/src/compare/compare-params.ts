// The Compare views' state in their URLs, and the filter expressions each set
// is queried with.
//
//   #/compare?a=<selection>&b=<baseline>&range=…&group=…&trt=TraceId|Event
//   #/diff/<trace A>/<trace B>?a=…&b=…&range=…&group=…   (the sets it came from)
//
// Set A is the selection, set B the baseline. An empty B means "every other
// trace in the range": NOT (A), so the two sets never overlap and a value's
// difference is the selection's own. A diff's missing trace is written "-".
import type { TimeRangeType } from '../api/types';
import { composeFilter, type ComposedFilter, quote } from '../lib/filter';
import { formatHash } from '../lib/router';
import { defaultRange } from '../lib/time';

export interface CompareParams {
  a: string;
  b: string;
  range: string;
  group: string;
  trt: TimeRangeType;
}

export function parseCompare(params: URLSearchParams): CompareParams {
  const trt = params.get('trt');
  return {
    a: params.get('a') ?? '',
    b: params.get('b') ?? '',
    range: params.get('range') || defaultRange,
    group: params.get('group') ?? '',
    trt: trt === 'Event' ? 'Event' : 'TraceId',
  };
}

function query(p: CompareParams): Record<string, string | undefined> {
  return { a: p.a || undefined, b: p.b || undefined, range: p.range, group: p.group || undefined, trt: p.trt === 'Event' ? 'Event' : undefined };
}

export function compareHash(p: CompareParams): string {
  return formatHash('compare', [], query(p));
}

export const groupTerm = (group: string) => `group.name = ${quote(group)}`;

export interface SetFilters {
  a: ComposedFilter;
  b: ComposedFilter;
  bIsRest: boolean; // B is "everything but A"
}

export function setFilters(p: CompareParams): SetFilters {
  const extras = p.group ? [groupTerm(p.group)] : [];
  const a = composeFilter(p.a, extras);
  const bIsRest = !p.b.trim() && Boolean(p.a.trim());
  const b = bIsRest ? composeFilter(`!(${p.a.trim()})`, extras) : composeFilter(p.b, extras);
  // B's expression was built from A's text: its errors are A's.
  return { a, b: bIsRest ? { expression: b.expression, userColumn: () => undefined } : b, bIsRest };
}

// The traces view showing one set (narrowed by an extra term).
export function tracesHash(p: CompareParams, side: 'a' | 'b', term?: string): string {
  let q = side === 'a' ? p.a.trim() : p.b.trim() || (p.a.trim() ? `!(${p.a.trim()})` : '');
  if (term) q = q ? `(${q}) AND ${term}` : term;
  return formatHash('traces', [], { q: q || undefined, range: p.range, group: p.group || undefined, trt: p.trt === 'Event' ? 'Event' : undefined });
}

export const missingTrace = '-';

export function diffHash(a: string | undefined, b: string | undefined, from?: CompareParams): string {
  return formatHash('diff', [a || missingTrace, b || missingTrace], from ? query(from) : undefined);
}

export interface DiffRoute {
  a?: string;
  b?: string;
  from?: CompareParams; // the sets the traces came from, when known
}

export function parseDiff(parts: string[], params: URLSearchParams): DiffRoute {
  const id = (s: string | undefined) => (s && s !== missingTrace ? s.trim() : undefined);
  const out: DiffRoute = {};
  const a = id(parts[0]);
  const b = id(parts[1]);
  if (a) out.a = a;
  if (b) out.b = b;
  if (params.has('a') || params.has('b') || params.has('range')) out.from = parseCompare(params);
  return out;
}

export interface Preset {
  id: string;
  label: string;
  a: string;
  b: string;
}

// Presets that need no data. "Slow vs fast" and "this user vs everyone" are
// built from the range's figures (slowFast, userVsEveryone).
export const fixedPresets: Preset[] = [
  { id: 'faults', label: 'Faults vs OK', a: 'fault', b: 'ok' },
  { id: 'errors', label: 'Errors vs OK', a: 'error', b: 'ok' },
  { id: 'throttles', label: 'Throttles vs OK', a: 'throttle', b: 'ok' },
];

function seconds(x: number): string {
  return String(Math.round(x * 1e6) / 1e6);
}

// Split at a response time (the range's p90): the traces at or above it
// against those below it.
export function slowFast(split: number): Preset {
  return { id: 'slow', label: 'Slow vs fast', a: `responsetime >= ${seconds(split)}`, b: `responsetime < ${seconds(split)}` };
}

export function userVsEveryone(user: string): Preset {
  return { id: 'user', label: `${user} vs everyone`, a: `user = ${quote(user)}`, b: '' };
}

export function swap(p: CompareParams): CompareParams {
  // An empty B stands for NOT (A); swapped, it must be spelled out.
  if (!p.b.trim()) return { ...p, a: p.a.trim() ? `!(${p.a.trim()})` : '', b: p.a };
  return { ...p, a: p.b, b: p.a };
}
