// The waterfall's rows: the span tree with runs of repeated siblings (the
// same call made over and over, e.g. 15 DynamoDB GetItems in a loop) folded
// into one group row, flattened to the rows the collapse state leaves open.
// Pure, and linear in the number of spans.
import type { Status } from '../lib/format';
import { worstStatus, type SpanTree } from './spans';

// Runs shorter than this stay as they are.
export const minGroupRun = 3;

export interface GroupInfo {
  name: string;
  members: number[]; // span indexes, by start
  count: number;
  start: number;
  end: number;
  total: number; // sum of the members' durations
  wall: number; // time covered by at least one member (the union)
  intervals: [number, number][]; // the union, merged, for drawing
  status: Status;
  inProgress: boolean;
  statusCounts: Record<Status, number>;
}

export interface DisplayNode {
  key: string; // a span's index as text, or 'g' + the first member's index
  span: number; // the span (a group: its first member)
  group?: GroupInfo;
  children: DisplayNode[];
  parent: DisplayNode | null;
}

export interface DisplayTree {
  roots: DisplayNode[];
  byKey: Map<string, DisplayNode>;
  nodeOfSpan: Int32Array; // span index → index into `nodes`
  nodes: DisplayNode[];
}

// Union of intervals, merged; at most `limit` pieces (the smallest gaps are
// closed until it fits).
export function unionIntervals(list: [number, number][], limit = 200): [number, number][] {
  const sorted = list.slice().sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const out: [number, number][] = [];
  for (const [s, e] of sorted) {
    const last = out[out.length - 1];
    if (last && s <= last[1]) last[1] = Math.max(last[1], e);
    else out.push([s, e]);
  }
  if (out.length <= limit) return out;
  const gaps = out.slice(1).map((iv, i) => iv[0] - out[i]![1]).sort((a, b) => a - b);
  const maxClosed = gaps[out.length - limit - 1]!;
  const merged: [number, number][] = [];
  for (const iv of out) {
    const last = merged[merged.length - 1];
    if (last && iv[0] - last[1] <= maxClosed) last[1] = Math.max(last[1], iv[1]);
    else merged.push([iv[0], iv[1]]);
  }
  return merged;
}

// The union (wall time, pieces to draw) is worked out when first read: most
// groups of a long trace are never on screen.
class Group implements GroupInfo {
  readonly name: string;
  readonly count: number;
  start = Infinity;
  end = -Infinity;
  total = 0;
  status: Status = 'ok';
  inProgress = false;
  readonly statusCounts: Record<Status, number> = { ok: 0, error: 0, throttle: 0, fault: 0 };
  private union?: { wall: number; intervals: [number, number][] };

  constructor(
    private readonly tree: SpanTree,
    readonly members: number[],
  ) {
    this.name = tree.spans[members[0]!]!.name;
    this.count = members.length;
    for (const m of members) {
      const s = tree.spans[m]!;
      if (s.start < this.start) this.start = s.start;
      if (s.end > this.end) this.end = s.end;
      this.total += s.end - s.start;
      this.status = worstStatus(this.status, s.status);
      this.statusCounts[s.status]++;
      if (s.inProgress) this.inProgress = true;
    }
  }

  private get merged(): { wall: number; intervals: [number, number][] } {
    if (!this.union) {
      const spans = this.tree.spans;
      const all = unionIntervals(
        this.members.map((m): [number, number] => [spans[m]!.start, spans[m]!.end]),
        Infinity,
      );
      const wall = all.reduce((n, [s, e]) => n + (e - s), 0);
      this.union = { wall, intervals: all.length > 200 ? unionIntervals(all, 200) : all };
    }
    return this.union;
  }
  get wall(): number {
    return this.merged.wall;
  }
  get intervals(): [number, number][] {
    return this.merged.intervals;
  }
}

export function groupInfo(tree: SpanTree, members: number[]): GroupInfo {
  return new Group(tree, members);
}

function sameCall(tree: SpanTree, a: number, b: number): boolean {
  const x = tree.spans[a]!;
  const y = tree.spans[b]!;
  return x.name === y.name && x.kind === y.kind && x.doc.namespace === y.doc.namespace;
}

export function buildDisplayTree(tree: SpanTree, group: boolean): DisplayTree {
  const byKey = new Map<string, DisplayNode>();
  const nodes: DisplayNode[] = [];
  const nodeOfSpan = new Int32Array(tree.spans.length).fill(-1);
  const make = (span: number, parent: DisplayNode | null, info?: GroupInfo): DisplayNode => {
    const node: DisplayNode = { key: info ? `g${span}` : String(span), span, children: [], parent };
    if (info) node.group = info;
    byKey.set(node.key, node);
    if (!info) nodeOfSpan[span] = nodes.length;
    nodes.push(node);
    return node;
  };
  const fill = (node: DisplayNode, children: number[]) => {
    let i = 0;
    while (i < children.length) {
      let j = i + 1;
      if (group) while (j < children.length && sameCall(tree, children[i]!, children[j]!)) j++;
      if (j - i >= minGroupRun) {
        const members = children.slice(i, j);
        const g = make(members[0]!, node, groupInfo(tree, members));
        node.children.push(g);
        for (const m of members) g.children.push(make(m, g));
      } else {
        for (let k = i; k < j; k++) node.children.push(make(children[k]!, node));
      }
      i = j;
    }
  };
  const top: DisplayNode = { key: '', span: -1, children: [], parent: null };
  fill(top, tree.roots);
  // Depth first, iteratively (deep trees must not exhaust the stack).
  const stack = top.children.slice().reverse();
  while (stack.length) {
    const n = stack.pop()!;
    if (n.group) {
      for (let k = n.children.length - 1; k >= 0; k--) stack.push(n.children[k]!);
      continue;
    }
    fill(n, tree.spans[n.span]!.children);
    for (let k = n.children.length - 1; k >= 0; k--) stack.push(n.children[k]!);
  }
  for (const r of top.children) r.parent = null;
  return { roots: top.children, byKey, nodeOfSpan, nodes };
}

// Which nodes are open: a default for spans and one for groups (what
// "expand all" / "collapse all" set), and the user's toggles over them.
export interface OpenState {
  spans: boolean;
  groups: boolean;
  toggled: Map<string, boolean>;
}

export const initialOpen: OpenState = { spans: true, groups: false, toggled: new Map() };

export function isOpen(state: OpenState, node: DisplayNode): boolean {
  return state.toggled.get(node.key) ?? (node.group ? state.groups : state.spans);
}

export function setOpen(state: OpenState, nodes: DisplayNode[], open: boolean): OpenState {
  const toggled = new Map(state.toggled);
  for (const n of nodes) toggled.set(n.key, open);
  return { ...state, toggled };
}

export interface Row {
  node: DisplayNode;
  depth: number;
  open: boolean;
  hasChildren: boolean;
}

export function flatten(tree: DisplayTree, state: OpenState): Row[] {
  const rows: Row[] = [];
  const stack: { node: DisplayNode; depth: number }[] = [];
  for (let k = tree.roots.length - 1; k >= 0; k--) stack.push({ node: tree.roots[k]!, depth: 0 });
  while (stack.length) {
    const { node, depth } = stack.pop()!;
    const hasChildren = node.children.length > 0;
    const open = hasChildren && isOpen(state, node);
    rows.push({ node, depth, open, hasChildren });
    if (open) for (let k = node.children.length - 1; k >= 0; k--) stack.push({ node: node.children[k]!, depth: depth + 1 });
  }
  return rows;
}

// The nodes to open so `node` is visible.
export function closedAncestors(state: OpenState, node: DisplayNode): DisplayNode[] {
  const out: DisplayNode[] = [];
  for (let p = node.parent; p; p = p.parent) if (!isOpen(state, p)) out.push(p);
  return out;
}
