// One trace's segment documents as a single tree of spans (segments and
// subsegments), for the span-by-span diff. A segment hangs under the span its
// parent_id names (a subsegment of another service, usually), whatever order
// the documents came in; a segment whose parent is not in the trace is a root.
import type { Trace } from '../api/types';
import type { Status } from '../lib/format';

export interface Span {
  id: string;
  name: string;
  segment: boolean; // a segment (a service's own document), else a subsegment
  origin?: string; // segment origin (AWS::Lambda::Function, …)
  namespace?: string; // subsegment namespace (aws, remote)
  start: number; // epoch seconds
  end?: number; // undefined while in progress
  status: Status;
  inProgress: boolean;
  parent: number; // index in SpanTree.spans, -1 for a root
  children: number[]; // by start time
}

export interface SpanTree {
  id: string;
  spans: Span[];
  roots: number[]; // by start time
  start: number; // earliest start (epoch seconds)
  end: number; // latest end
  unreadable: number; // documents that were not JSON objects
}

interface RawSpan {
  id?: unknown;
  name?: unknown;
  type?: unknown;
  origin?: unknown;
  namespace?: unknown;
  start_time?: unknown;
  end_time?: unknown;
  in_progress?: unknown;
  parent_id?: unknown;
  fault?: unknown;
  error?: unknown;
  throttle?: unknown;
  subsegments?: unknown;
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v ? v : undefined);

function statusOf(raw: RawSpan): Status {
  if (raw.fault === true) return 'fault';
  if (raw.throttle === true) return 'throttle';
  if (raw.error === true) return 'error';
  return 'ok';
}

export function buildSpanTree(trace: Trace): SpanTree {
  const spans: Span[] = [];
  const byId = new Map<string, number>();
  const pendingParent: { index: number; parentId: string }[] = [];
  let unreadable = 0;

  const add = (raw: RawSpan, parent: number, segment: boolean): number => {
    const start = num(raw.start_time) ?? 0;
    const inProgress = raw.in_progress === true || num(raw.end_time) === undefined;
    const span: Span = {
      id: str(raw.id) ?? `#${spans.length}`,
      name: str(raw.name) ?? '(unnamed)',
      segment,
      start,
      status: statusOf(raw),
      inProgress,
      parent,
      children: [],
    };
    const end = num(raw.end_time);
    if (!inProgress && end !== undefined) span.end = Math.max(start, end);
    const origin = str(raw.origin);
    if (segment && origin) span.origin = origin;
    const namespace = str(raw.namespace);
    if (!segment && namespace) span.namespace = namespace;
    const index = spans.length;
    spans.push(span);
    if (!byId.has(span.id)) byId.set(span.id, index);
    if (parent >= 0) spans[parent]!.children.push(index);
    if (Array.isArray(raw.subsegments)) {
      for (const sub of raw.subsegments) if (sub && typeof sub === 'object') add(sub as RawSpan, index, false);
    }
    return index;
  };

  for (const doc of trace.Segments) {
    let raw: unknown;
    try {
      raw = JSON.parse(doc.Document);
    } catch {
      unreadable++;
      continue;
    }
    if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
      unreadable++;
      continue;
    }
    const r = raw as RawSpan;
    // An independently sent subsegment that the server did not splice.
    const index = add(r, -1, r.type !== 'subsegment');
    const parentId = str(r.parent_id);
    if (parentId) pendingParent.push({ index, parentId });
  }

  for (const { index, parentId } of pendingParent) {
    const parent = byId.get(parentId);
    if (parent === undefined || parent === index || isAncestor(spans, index, parent)) continue;
    spans[index]!.parent = parent;
    spans[parent]!.children.push(index);
  }

  const byStart = (x: number, y: number) => spans[x]!.start - spans[y]!.start || x - y;
  const roots: number[] = [];
  let start = Infinity;
  let end = -Infinity;
  spans.forEach((s, i) => {
    if (s.parent < 0) roots.push(i);
    if (s.children.length > 1) s.children.sort(byStart);
    start = Math.min(start, s.start);
    end = Math.max(end, s.end ?? s.start);
  });
  roots.sort(byStart);
  if (!Number.isFinite(start)) start = end = 0;
  return { id: trace.Id, spans, roots, start, end, unreadable };
}

// Whether `a` is an ancestor of `b` (a parent_id cycle would loop forever).
function isAncestor(spans: Span[], a: number, b: number): boolean {
  for (let p = spans[b]!.parent; p >= 0; p = spans[p]!.parent) if (p === a) return true;
  return false;
}

export function spanDuration(s: Span): number | undefined {
  return s.end === undefined ? undefined : s.end - s.start;
}

// The time a span spends in itself: its duration less the union of its
// children's intervals (clipped to it).
export function selfTime(tree: SpanTree, index: number): number | undefined {
  const s = tree.spans[index]!;
  if (s.end === undefined) return undefined;
  let covered = 0;
  let reach = s.start;
  // children are sorted by start, so one sweep merges their intervals
  for (const c of s.children) {
    const child = tree.spans[c]!;
    const lo = Math.max(child.start, reach);
    const hi = Math.min(child.end ?? s.end, s.end);
    if (hi > lo) {
      covered += hi - lo;
      reach = hi;
    }
  }
  return Math.max(0, s.end - s.start - covered);
}
