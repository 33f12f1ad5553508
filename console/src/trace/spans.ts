// A trace's segment documents as one tree of spans: every segment and
// subsegment, nested by containment (subsegments) and by parent_id (a segment
// names the subsegment, or the segment, that called it). Pure: the waterfall,
// the critical path and the tests all read this.
import type { Status } from '../lib/format';

export interface StackFrame {
  path?: string;
  line?: number;
  label?: string;
}

export interface ExceptionDoc {
  id?: string;
  message?: string;
  type?: string;
  remote?: boolean;
  truncated?: number;
  skipped?: number;
  cause?: string;
  stack?: StackFrame[];
}

export interface CauseDoc {
  working_directory?: string;
  paths?: string[];
  exceptions?: ExceptionDoc[];
}

export interface LinkDoc {
  trace_id?: string;
  id?: string;
  span_id?: string;
  attributes?: Record<string, unknown>;
}

export interface HttpDoc {
  request?: Record<string, unknown> & { method?: string; url?: string; client_ip?: string; user_agent?: string; traced?: boolean };
  response?: Record<string, unknown> & { status?: number; content_length?: number };
}

// A segment or subsegment document as the SDKs send it (only what the console
// reads is typed; everything else is kept and shown as raw JSON).
export interface SegmentDoc {
  id: string;
  name: string;
  trace_id?: string;
  parent_id?: string;
  type?: string;
  start_time: number;
  end_time?: number;
  in_progress?: boolean;
  origin?: string;
  namespace?: string;
  error?: boolean;
  fault?: boolean;
  throttle?: boolean;
  user?: string;
  resource_arn?: string;
  http?: HttpDoc;
  aws?: Record<string, unknown>;
  sql?: Record<string, unknown>;
  annotations?: Record<string, unknown>;
  metadata?: Record<string, unknown>;
  cause?: CauseDoc | string;
  links?: LinkDoc[];
  precursor_ids?: string[];
  subsegments?: SegmentDoc[];
  [other: string]: unknown;
}

export interface Span {
  index: number; // position in SpanTree.spans
  id: string;
  name: string;
  kind: 'segment' | 'subsegment';
  doc: SegmentDoc;
  segment: number; // the segment that holds this span (itself for a segment)
  parent: number; // -1 at the top level
  children: number[]; // by start time
  depth: number;
  start: number; // epoch seconds
  end: number; // epoch seconds; an in-progress span runs to the trace's end
  inProgress: boolean;
  status: Status;
  // parent_id names a span this trace does not hold (or a cycle): shown at
  // the top level and flagged.
  orphan: boolean;
}

export interface SpanTree {
  spans: Span[];
  roots: number[]; // top-level spans by start time
  order: number[]; // every span, depth first (the fully expanded waterfall)
  byId: Map<string, number>;
  start: number;
  end: number;
  segmentCount: number;
  partial: boolean; // some span is still in progress
  orphans: number;
  // The root segment (no parent_id) that finishes last: its duration is the
  // trace's response time.
  root: number;
}

const rank: Record<Status, number> = { ok: 0, error: 1, throttle: 2, fault: 3 };

export function worstStatus(a: Status, b: Status): Status {
  return rank[a] >= rank[b] ? a : b;
}

// fault: the fault flag or a 5xx; throttle: the throttle flag or 429; error:
// the error flag or a 4xx. The worst of them wins.
export function spanStatus(doc: Pick<SegmentDoc, 'fault' | 'throttle' | 'error' | 'http'>): Status {
  const raw = doc.http?.response?.status;
  const code = typeof raw === 'number' ? raw : Number(raw);
  if (doc.fault === true || (code >= 500 && code < 600)) return 'fault';
  if (doc.throttle === true || code === 429) return 'throttle';
  if (doc.error === true || (code >= 400 && code < 500)) return 'error';
  return 'ok';
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

// Documents (parsed, or JSON text as BatchGetTraces returns them) → the tree.
export function buildTree(documents: (SegmentDoc | string)[]): SpanTree {
  const spans: Span[] = [];
  const byId = new Map<string, number>();
  const openEnded: number[] = [];
  let start = Infinity;
  let end = -Infinity;

  const add = (doc: SegmentDoc, kind: Span['kind'], parent: number, segment: number): number => {
    const index = spans.length;
    const parentSpan = parent >= 0 ? spans[parent] : undefined;
    const s = num(doc.start_time) ?? parentSpan?.start ?? 0;
    const e = num(doc.end_time);
    const inProgress = e === undefined || doc.in_progress === true;
    const span: Span = {
      index,
      id: String(doc.id ?? `#${index}`),
      name: typeof doc.name === 'string' && doc.name ? doc.name : '(unnamed)',
      kind,
      doc,
      segment: kind === 'segment' ? index : segment,
      parent,
      children: [],
      depth: 0,
      start: s,
      end: e === undefined ? s : Math.max(s, e),
      inProgress,
      status: spanStatus(doc),
      orphan: false,
    };
    spans.push(span);
    if (!byId.has(span.id)) byId.set(span.id, index);
    if (inProgress) openEnded.push(index);
    start = Math.min(start, s);
    end = Math.max(end, span.end);
    if (parentSpan) parentSpan.children.push(index);
    for (const sub of Array.isArray(doc.subsegments) ? doc.subsegments : []) {
      if (sub && typeof sub === 'object') add(sub, 'subsegment', index, span.segment);
    }
    return index;
  };

  const segments: number[] = [];
  for (const d of documents) {
    const doc = typeof d === 'string' ? (JSON.parse(d) as SegmentDoc) : d;
    segments.push(add(doc, 'segment', -1, -1));
  }
  if (spans.length === 0) start = end = 0;
  // An in-progress span has no end yet: it runs to the last moment the trace
  // knows of.
  for (const i of openEnded) spans[i]!.end = Math.max(spans[i]!.start, end);

  // Segments hang under the span their parent_id names.
  const roots: number[] = [];
  let orphans = 0;
  for (const i of segments) {
    const span = spans[i]!;
    const pid = span.doc.parent_id;
    const parent = pid ? byId.get(pid) : undefined;
    if (parent !== undefined && parent !== i) {
      span.parent = parent;
      spans[parent]!.children.push(i);
    } else {
      roots.push(i);
      if (pid) {
        span.orphan = true;
        orphans++;
      }
    }
  }

  const byStart = (a: number, b: number) => spans[a]!.start - spans[b]!.start || a - b;
  const order: number[] = [];
  const walk = (from: number[]) => {
    const stack = from.slice().sort(byStart).reverse();
    for (const r of stack) spans[r]!.depth = 0;
    while (stack.length) {
      const i = stack.pop()!;
      const span = spans[i]!;
      order.push(i);
      span.children.sort(byStart);
      for (let k = span.children.length - 1; k >= 0; k--) {
        const c = span.children[k]!;
        spans[c]!.depth = span.depth + 1;
        stack.push(c);
      }
    }
  };
  walk(roots);
  // Segments whose parent_id chain loops back on itself are unreachable from
  // any root: cut each loop at a segment and show it as an orphan.
  if (order.length < spans.length) {
    const seen = new Uint8Array(spans.length);
    for (const i of order) seen[i] = 1;
    for (const i of segments) {
      if (seen[i]) continue;
      const span = spans[i]!;
      const p = spans[span.parent]!;
      p.children = p.children.filter((c) => c !== i);
      span.parent = -1;
      span.orphan = true;
      orphans++;
      roots.push(i);
      const before = order.length;
      walk([i]);
      for (let k = before; k < order.length; k++) seen[order[k]!] = 1;
    }
    // The cut segments join the roots: walk again in start order.
    roots.sort(byStart);
    order.length = 0;
    walk(roots);
  }
  roots.sort(byStart);

  let root = -1;
  for (const r of roots) {
    const span = spans[r]!;
    if (span.kind !== 'segment' || span.orphan) continue;
    if (root < 0 || span.end > spans[root]!.end) root = r;
  }
  if (root < 0 && roots.length) root = roots[0]!;

  return {
    spans,
    roots,
    order,
    byId,
    start,
    end,
    segmentCount: segments.length,
    partial: openEnded.length > 0,
    orphans,
    root,
  };
}

export function duration(span: Pick<Span, 'start' | 'end'>): number {
  return span.end - span.start;
}

// The trace's status as its header shows it: the worst of its segments (the
// SDKs raise a segment's flags for its subsegments' failures).
export function traceStatusOf(tree: SpanTree): Status {
  let status: Status = 'ok';
  for (const s of tree.spans) if (s.kind === 'segment') status = worstStatus(status, s.status);
  return status;
}

// Ancestors from the parent up to the top level.
export function ancestors(tree: SpanTree, index: number): number[] {
  const out: number[] = [];
  for (let p = tree.spans[index]?.parent ?? -1; p >= 0; p = tree.spans[p]!.parent) out.push(p);
  return out;
}

// The service names the trace passes through, in order of first appearance.
export function services(tree: SpanTree): string[] {
  const seen = new Set<string>();
  for (const i of tree.order) {
    const s = tree.spans[i]!;
    if (s.kind === 'segment') seen.add(s.name);
  }
  return [...seen];
}

export interface TraceLink {
  traceId: string;
  spanId?: string;
  attributes?: Record<string, unknown>;
  from: number; // the span that declares it
}

export function traceLinks(tree: SpanTree): TraceLink[] {
  const out: TraceLink[] = [];
  for (const i of tree.order) {
    const s = tree.spans[i]!;
    if (!Array.isArray(s.doc.links)) continue;
    for (const l of s.doc.links) {
      if (!l || typeof l.trace_id !== 'string') continue;
      out.push({ traceId: l.trace_id, spanId: l.id ?? l.span_id, attributes: l.attributes, from: i });
    }
  }
  return out;
}

// Where an exception id (a `cause` given as a string) is: the span whose
// cause lists it, and the exception itself.
export function findException(tree: SpanTree, id: string): { span: number; exception: ExceptionDoc } | undefined {
  for (const s of tree.spans) {
    const cause = s.doc.cause;
    if (!cause || typeof cause !== 'object' || !Array.isArray(cause.exceptions)) continue;
    const exception = cause.exceptions.find((e) => e && e.id === id);
    if (exception) return { span: s.index, exception };
  }
  return undefined;
}
