// Two traces aligned span by span. Spans match by their path of names from
// the root: siblings pair up by name (a segment's origin counts too), the
// k-th same-named sibling of A (by start time) with the k-th of B, so an
// added or missing sibling shifts nothing else. A span inserted between a
// parent and its children in one trace (a wrapper subsegment) is tolerated:
// its children still match the other trace's spans one level up. A span
// renamed in one trace (another GraphQL resolver, say) pairs with its
// counterpart when both are left over and their children share names, so
// what lies below still lines up; the row says it was renamed. Every span is
// visited once and each sibling list sorted once: O(n log n).
import type { Status } from '../lib/format';
import { selfTime, type Span, spanDuration, type SpanTree } from './span-tree';

export type Side = 'both' | 'onlyA' | 'onlyB';

export interface DiffNode {
  a: number; // span index in A, -1 if none
  b: number; // span index in B, -1 if none
  side: Side;
  name: string; // A's name when A has the span
  bName?: string; // B's name when it differs (a renamed span)
  detail?: string; // origin or namespace
  segment: boolean;
  depth: number;
  parent: number; // diff node index, -1 for a root
  children: number[];
  offset: number; // start relative to its trace's start (seconds), for ordering
  aDuration?: number;
  bDuration?: number;
  delta?: number; // aDuration − bDuration
  deltaPct?: number; // delta / bDuration
  aSelf?: number;
  bSelf?: number;
  aStatus?: Status;
  bStatus?: Status;
  aInProgress: boolean;
  bInProgress: boolean;
  statusChanged: boolean;
  durationChanged: boolean;
  changed: boolean; // this row differs (side, status or duration)
  changedBelow: boolean; // this row or a descendant differs
  impact: number; // largest |Δ| in this subtree (a one-sided span counts its duration)
}

export interface DiffTotals {
  aDuration: number;
  bDuration: number;
  aSpans: number;
  bSpans: number;
  matched: number;
  onlyA: number;
  onlyB: number;
  statusChanged: number;
  durationChanged: number;
}

export interface TraceDiff {
  nodes: DiffNode[]; // in tree (depth-first) order
  roots: number[];
  totals: DiffTotals;
}

// "Unchanged" means the same status and durations within both of these.
export const minDelta = 0.001; // seconds
export const minDeltaShare = 0.1; // of the longer duration

export function durationDiffers(a: number | undefined, b: number | undefined): boolean {
  if (a === undefined || b === undefined) return false;
  const d = Math.abs(a - b);
  return d >= minDelta && d >= minDeltaShare * Math.max(a, b);
}

const keyOf = (s: Span) => (s.segment ? `s\u0000${s.name}\u0000${s.origin ?? ''}` : `u\u0000${s.name}`);

export function diffTraces(A: SpanTree, B: SpanTree): TraceDiff {
  const nodes: DiffNode[] = [];
  const spanA = (i: number) => A.spans[i]!;
  const spanB = (i: number) => B.spans[i]!;

  const makeNode = (a: number, b: number, parent: number, depth: number): number => {
    const sa = a >= 0 ? spanA(a) : undefined;
    const sb = b >= 0 ? spanB(b) : undefined;
    const s = (sa ?? sb)!;
    const node: DiffNode = {
      a,
      b,
      side: sa && sb ? 'both' : sa ? 'onlyA' : 'onlyB',
      name: s.name,
      segment: s.segment,
      depth,
      parent,
      children: [],
      offset: sa ? sa.start - A.start : sb!.start - B.start,
      aInProgress: sa?.inProgress ?? false,
      bInProgress: sb?.inProgress ?? false,
      statusChanged: false,
      durationChanged: false,
      changed: false,
      changedBelow: false,
      impact: 0,
    };
    const detail = s.segment ? s.origin : s.namespace;
    if (detail) node.detail = detail;
    if (sa && sb && sa.name !== sb.name) node.bName = sb.name;
    if (sa) {
      node.aDuration = spanDuration(sa);
      node.aSelf = selfTime(A, a);
      node.aStatus = sa.status;
    }
    if (sb) {
      node.bDuration = spanDuration(sb);
      node.bSelf = selfTime(B, b);
      node.bStatus = sb.status;
    }
    if (node.aDuration !== undefined && node.bDuration !== undefined) {
      node.delta = node.aDuration - node.bDuration;
      if (node.bDuration > 0) node.deltaPct = node.delta / node.bDuration;
    }
    node.statusChanged = Boolean(sa && sb && (sa.status !== sb.status || sa.inProgress !== sb.inProgress));
    node.durationChanged = durationDiffers(node.aDuration, node.bDuration);
    node.changed = node.side !== 'both' || node.bName !== undefined || node.statusChanged || node.durationChanged;
    node.impact = node.side === 'both' ? Math.abs(node.delta ?? 0) : (node.aDuration ?? node.bDuration ?? 0);
    const index = nodes.length;
    nodes.push(node);
    if (parent >= 0) nodes[parent]!.children.push(index);
    return index;
  };

  // Explicit stack: a deep trace must not overflow the call stack. Nodes are
  // created in any order and put in depth-first order afterwards.
  type Job = { as: number[]; bs: number[]; parent: number; depth: number };
  const roots: number[] = [];
  const stack: Job[] = [{ as: A.roots, bs: B.roots, parent: -1, depth: 0 }];
  const byStartA = (x: number, y: number) => spanA(x).start - spanA(y).start;
  const byStartB = (x: number, y: number) => spanB(x).start - spanB(y).start;
  while (stack.length) {
    const job = stack.pop()!;
    for (const p of alignSiblings(job.as, job.bs, spanA, spanB)) {
      const node = makeNode(p.a, p.b, job.parent, job.depth);
      if (job.parent < 0) roots.push(node);
      let as = p.a >= 0 ? spanA(p.a).children : [];
      let bs = p.b >= 0 ? spanB(p.b).children : [];
      if (p.claimedA) as = [...as, ...p.claimedA].sort(byStartA);
      if (p.claimedB) bs = [...bs, ...p.claimedB].sort(byStartB);
      if (as.length || bs.length) stack.push({ as, bs, parent: node, depth: job.depth + 1 });
    }
  }
  const ordered = renumber(nodes, roots);
  finish(ordered.nodes);
  return { nodes: ordered.nodes, roots: ordered.roots, totals: totals(A, B, ordered.nodes) };
}

interface Pair {
  a: number;
  b: number;
  claimedA?: number[]; // A spans that match children of this B-only wrapper
  claimedB?: number[];
}

// Pairs sibling spans of A and B: same key, in order of start.
export function alignSiblings(
  as: number[],
  bs: number[],
  spanA: (i: number) => Span,
  spanB: (i: number) => Span,
): Pair[] {
  const queues = new Queues(bs, spanB);
  const pairs: Pair[] = [];
  const leftA: number[] = [];
  for (const a of as) {
    const b = queues.take(keyOf(spanA(a)));
    if (b !== undefined) pairs.push({ a, b });
    else leftA.push(a);
  }
  const used = new Set<number>(pairs.map((p) => p.b));
  let leftB = bs.filter((b) => !used.has(b));
  const takenA = new Set<number>();
  const takenB = new Set<number>();
  if (leftA.length && leftB.length) {
    // B's leftovers as wrappers over A's leftovers, then the other way round.
    for (const p of claimThroughWrappers(leftB, leftA, spanB, spanA)) {
      pairs.push({ a: -1, b: p.wrapper, claimedA: p.taken });
      takenB.add(p.wrapper);
      for (const a of p.taken) takenA.add(a);
    }
    const restA = leftA.filter((a) => !takenA.has(a));
    leftB = leftB.filter((b) => !takenB.has(b));
    for (const p of claimThroughWrappers(restA, leftB, spanA, spanB)) {
      pairs.push({ a: p.wrapper, b: -1, claimedB: p.taken });
      takenA.add(p.wrapper);
      for (const b of p.taken) takenB.add(b);
    }
  }
  const restA = leftA.filter((a) => !takenA.has(a));
  const restB = leftB.filter((b) => !takenB.has(b));
  const renamed = pairRenamed(restA, restB, spanA, spanB);
  for (const p of renamed) {
    pairs.push(p);
    takenA.add(p.a);
    takenB.add(p.b);
  }
  for (const a of restA) if (!takenA.has(a)) pairs.push({ a, b: -1 });
  for (const b of restB) if (!takenB.has(b)) pairs.push({ a: -1, b });
  return pairs;
}

// Leftover siblings of the same kind (and origin, for segments) whose
// children share at least one name: the same span under another name.
function pairRenamed(as: number[], bs: number[], spanA: (i: number) => Span, spanB: (i: number) => Span): Pair[] {
  if (!as.length || !bs.length) return [];
  const kind = (s: Span) => (s.segment ? `s\u0000${s.origin ?? ''}` : 'u');
  const childKeys = (s: Span, span: (i: number) => Span) => new Set(s.children.map((c) => keyOf(span(c))));
  const free = bs.map((b) => ({ b, kind: kind(spanB(b)), keys: childKeys(spanB(b), spanB), used: false }));
  const out: Pair[] = [];
  for (const a of as) {
    const sa = spanA(a);
    if (!sa.children.length) continue;
    const k = kind(sa);
    const keys = childKeys(sa, spanA);
    const match = free.find((f) => !f.used && f.kind === k && [...f.keys].some((x) => keys.has(x)));
    if (match) {
      match.used = true;
      out.push({ a, b: match.b });
    }
  }
  return out;
}

// Spans by key, each list in the given order, taken from the front.
class Queues {
  private lists = new Map<string, { items: number[]; head: number }>();
  constructor(list: number[], span: (i: number) => Span) {
    for (const i of list) {
      const k = keyOf(span(i));
      const q = this.lists.get(k);
      if (q) q.items.push(i);
      else this.lists.set(k, { items: [i], head: 0 });
    }
  }
  take(key: string): number | undefined {
    const q = this.lists.get(key);
    return q && q.head < q.items.length ? q.items[q.head++] : undefined;
  }
}

// A leftover span W of one side whose children share names with leftover
// spans of the other side is a wrapper inserted there: W stands alone, and
// those spans are aligned with W's children.
function claimThroughWrappers(
  wrappers: number[],
  others: number[],
  spanW: (i: number) => Span,
  spanO: (i: number) => Span,
): { wrapper: number; taken: number[] }[] {
  const free = new Queues(others, spanO);
  const out: { wrapper: number; taken: number[] }[] = [];
  for (const w of wrappers) {
    const taken: number[] = [];
    for (const c of spanW(w).children) {
      const o = free.take(keyOf(spanW(c)));
      if (o !== undefined) taken.push(o);
    }
    if (taken.length) out.push({ wrapper: w, taken });
  }
  return out;
}

function renumber(nodes: DiffNode[], roots: number[]): { nodes: DiffNode[]; roots: number[] } {
  const byOffset = (x: number, y: number) => nodes[x]!.offset - nodes[y]!.offset || x - y;
  const out: DiffNode[] = [];
  const map = new Int32Array(nodes.length);
  const stack = [...roots].sort(byOffset).reverse();
  while (stack.length) {
    const i = stack.pop()!;
    map[i] = out.length;
    out.push(nodes[i]!);
    const kids = nodes[i]!.children.sort(byOffset);
    for (let k = kids.length - 1; k >= 0; k--) stack.push(kids[k]!);
  }
  for (const n of out) {
    n.parent = n.parent >= 0 ? map[n.parent]! : -1;
    n.children = n.children.map((c) => map[c]!);
  }
  return { nodes: out, roots: [...roots].sort(byOffset).map((r) => map[r]!) };
}

// Subtree facts, bottom-up (children come after their parent in tree order).
function finish(nodes: DiffNode[]): void {
  for (let i = nodes.length - 1; i >= 0; i--) {
    const n = nodes[i]!;
    n.changedBelow = n.changedBelow || n.changed;
    if (n.parent >= 0) {
      const p = nodes[n.parent]!;
      if (n.changedBelow) p.changedBelow = true;
      if (n.impact > p.impact) p.impact = n.impact;
    }
  }
}

function totals(A: SpanTree, B: SpanTree, nodes: DiffNode[]): DiffTotals {
  const t: DiffTotals = {
    aDuration: A.end - A.start,
    bDuration: B.end - B.start,
    aSpans: A.spans.length,
    bSpans: B.spans.length,
    matched: 0,
    onlyA: 0,
    onlyB: 0,
    statusChanged: 0,
    durationChanged: 0,
  };
  for (const n of nodes) {
    if (n.side === 'both') t.matched++;
    else if (n.side === 'onlyA') t.onlyA++;
    else t.onlyB++;
    if (n.statusChanged) t.statusChanged++;
    if (n.durationChanged) t.durationChanged++;
  }
  return t;
}

export type Order = 'tree' | 'impact';

// The rows to draw: collapsed subtrees skipped, unchanged subtrees hidden on
// request, siblings in trace order or by the largest difference below them.
export function visibleRows(diff: TraceDiff, collapsed: ReadonlySet<number>, hideUnchanged: boolean, order: Order): number[] {
  const { nodes } = diff;
  const sortKids = (kids: number[]) =>
    order === 'impact' ? [...kids].sort((x, y) => nodes[y]!.impact - nodes[x]!.impact || x - y) : kids;
  const out: number[] = [];
  const stack = sortKids(diff.roots).slice().reverse();
  while (stack.length) {
    const i = stack.pop()!;
    const n = nodes[i]!;
    if (hideUnchanged && !n.changedBelow) continue;
    out.push(i);
    if (collapsed.has(i)) continue;
    const kids = sortKids(n.children);
    for (let k = kids.length - 1; k >= 0; k--) stack.push(kids[k]!);
  }
  return out;
}

// The spans whose own time (less their children's) differs most, for a
// "where did the time go" list; one-sided spans count their whole self time.
export function biggestSelfDifferences(diff: TraceDiff, count = 5): number[] {
  const score = (n: DiffNode) =>
    n.side === 'both' ? Math.abs((n.aSelf ?? 0) - (n.bSelf ?? 0)) : (n.aSelf ?? n.bSelf ?? 0);
  const scored: { i: number; s: number }[] = [];
  diff.nodes.forEach((n, i) => {
    const s = score(n);
    if (s >= minDelta && (n.side !== 'both' || n.durationChanged || n.statusChanged)) scored.push({ i, s });
  });
  scored.sort((x, y) => y.s - x.s || x.i - y.i);
  return scored.slice(0, count).map((x) => x.i);
}

// Ancestors of a node, so a jump to it can expand them.
export function ancestors(diff: TraceDiff, i: number): number[] {
  const out: number[] = [];
  for (let p = diff.nodes[i]!.parent; p >= 0; p = diff.nodes[p]!.parent) out.push(p);
  return out;
}
