// The trace's own map (GetTraceGraph) as nodes and edges laid out left to
// right by dagre, with each node's ok / error / throttle / fault shares as
// ring arcs. Pure (dagre runs anywhere), so the layout is tested directly.
import dagre from '@dagrejs/dagre';
import type { Service, SummaryStatistics } from '../api/types';
import type { Status } from '../lib/format';

export type Shares = Record<Status, number>;

export interface GraphNode {
  id: number; // ReferenceId
  name: string;
  type: string;
  root: boolean;
  count: number;
  avg: number | undefined; // seconds
  shares: Shares;
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface GraphEdge {
  from: number;
  to: number;
  count: number;
  avg: number | undefined;
  shares: Shares;
  points: { x: number; y: number }[];
}

export interface TraceGraph {
  nodes: GraphNode[];
  edges: GraphEdge[];
  width: number;
  height: number;
}

export function shares(stats: SummaryStatistics | undefined): { count: number; avg: number | undefined; shares: Shares } {
  const ok = stats?.OkCount ?? 0;
  const throttle = stats?.ErrorStatistics?.ThrottleCount ?? 0;
  const error = stats?.ErrorStatistics?.OtherCount ?? Math.max(0, (stats?.ErrorStatistics?.TotalCount ?? 0) - throttle);
  const fault = stats?.FaultStatistics?.TotalCount ?? 0;
  const sum = ok + error + throttle + fault;
  const count = stats?.TotalCount ?? sum;
  const avg = count > 0 && stats?.TotalResponseTime !== undefined ? stats.TotalResponseTime / count : undefined;
  const d = sum || 1;
  return { count, avg, shares: { ok: ok / d, error: error / d, throttle: throttle / d, fault: fault / d } };
}

export function nodeName(s: Pick<Service, 'Name' | 'Names' | 'Type'>): string {
  return s.Name ?? s.Names?.[0] ?? (s.Type === 'client' ? 'Client' : s.Type ?? '(unnamed)');
}

// The node's worst status with any share (the colour of its name).
export function dominantStatus(sh: Shares): Status {
  if (sh.fault > 0) return 'fault';
  if (sh.throttle > 0) return 'throttle';
  if (sh.error > 0) return 'error';
  return 'ok';
}

export const nodeRadius = 16;

export function layoutGraph(services: Service[]): TraceGraph {
  const g = new dagre.graphlib.Graph<object, { width: number; height: number; x?: number; y?: number }, { points?: { x: number; y: number }[] }>();
  g.setGraph({ rankdir: 'LR', nodesep: 18, ranksep: 56, marginx: 12, marginy: 12 });
  g.setDefaultEdgeLabel(() => ({}));
  const known = new Set(services.map((s) => s.ReferenceId));
  const nodes: GraphNode[] = services.map((s) => {
    const name = nodeName(s);
    const width = Math.max(2 * nodeRadius + 8, Math.min(180, name.length * 7 + 12));
    const height = 2 * nodeRadius + 46;
    g.setNode(String(s.ReferenceId), { width, height });
    return {
      id: s.ReferenceId,
      name,
      type: s.Type ?? '',
      root: s.Root === true,
      ...shares(s.SummaryStatistics),
      x: 0,
      y: 0,
      width,
      height,
    };
  });
  const edges: GraphEdge[] = [];
  for (const s of services) {
    for (const e of s.Edges ?? []) {
      if (!known.has(e.ReferenceId) || e.ReferenceId === s.ReferenceId) continue;
      g.setEdge(String(s.ReferenceId), String(e.ReferenceId));
      edges.push({ from: s.ReferenceId, to: e.ReferenceId, ...shares(e.SummaryStatistics), points: [] });
    }
  }
  dagre.layout(g);
  for (const n of nodes) {
    const laid = g.node(String(n.id));
    n.x = laid?.x ?? 0;
    n.y = laid?.y ?? 0;
  }
  for (const e of edges) e.points = g.edge(String(e.from), String(e.to))?.points ?? [];
  const label = g.graph() as { width?: number; height?: number };
  return { nodes, edges, width: Math.ceil(label.width ?? 0), height: Math.ceil(label.height ?? 0) };
}

// SVG arcs for a ring of shares around (0, 0), clockwise from the top; a
// share of 1 is a full circle (two half arcs, as one arc cannot close).
export function ringArcs(sh: Shares, r: number): { status: Status; d: string }[] {
  const out: { status: Status; d: string }[] = [];
  let a = 0;
  const point = (t: number) => {
    const angle = t * 2 * Math.PI - Math.PI / 2;
    return `${(r * Math.cos(angle)).toFixed(2)} ${(r * Math.sin(angle)).toFixed(2)}`;
  };
  for (const status of ['ok', 'error', 'throttle', 'fault'] as Status[]) {
    const share = sh[status];
    if (!(share > 0)) continue;
    if (share >= 0.9999) {
      out.push({ status, d: `M ${point(0)} A ${r} ${r} 0 1 1 ${point(0.5)} A ${r} ${r} 0 1 1 ${point(0)}` });
      return out;
    }
    const b = a + share;
    out.push({ status, d: `M ${point(a)} A ${r} ${r} 0 ${share > 0.5 ? 1 : 0} 1 ${point(b)}` });
    a = b;
  }
  return out;
}

// An edge's points as an SVG path.
export function edgePath(points: { x: number; y: number }[]): string {
  return points.map((p, i) => `${i ? 'L' : 'M'} ${p.x.toFixed(1)} ${p.y.toFixed(1)}`).join(' ');
}
