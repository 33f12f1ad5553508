// Lays the map out left to right from the clients with dagre (rankdir LR):
// each node is the ring with its name and type under it, each edge carries a
// label box (latency and rate) that dagre places clear of the nodes.
import dagre from '@dagrejs/dagre';

export const RING_RADIUS = 30;
export const RING_WIDTH = 6;
// The circle plus two lines of text under it.
export const NODE_HEIGHT = RING_RADIUS * 2 + 40;
export const LABEL_WIDTH = 84;
export const LABEL_HEIGHT = 30;
const MIN_NODE_WIDTH = 96;
const MAX_NODE_WIDTH = 176;

export interface LayoutInput {
  nodes: { key: string; label: string; sublabel: string }[];
  edges: { key: string; from: string; to: string }[];
}

export interface Point {
  x: number;
  y: number;
}

export interface NodeBox extends Point {
  width: number;
  height: number;
}

export interface Layout {
  nodes: Map<string, NodeBox>; // x, y: the ring's centre
  edges: Map<string, { points: Point[]; label: Point }>;
  width: number;
  height: number;
}

// A width for text without measuring it (the layout runs before anything is
// drawn): an average glyph of a 12px UI font, names clipped at the maximum.
export function textWidth(text: string, px = 12): number {
  return Math.ceil(text.length * px * 0.58);
}

export function nodeWidth(label: string, sublabel: string): number {
  return Math.min(MAX_NODE_WIDTH, Math.max(MIN_NODE_WIDTH, textWidth(label, 12) + 12, textWidth(sublabel, 11) + 12));
}

// How many characters of `text` fit the node's width (the view adds "…").
export function fitChars(text: string, width: number, px = 12): number {
  return Math.max(4, Math.floor((width - 8) / (px * 0.58)));
}

export function layoutMap(input: LayoutInput): Layout {
  const g = new dagre.graphlib.Graph({ multigraph: false });
  const big = input.nodes.length > 400;
  g.setGraph({
    rankdir: 'LR',
    nodesep: 28,
    ranksep: 48,
    edgesep: 12,
    marginx: 24,
    marginy: 24,
    // network-simplex gives the tidiest ranks; past a few hundred nodes the
    // cheaper ranker keeps the layout within its time budget.
    ranker: big ? 'tight-tree' : 'network-simplex',
  });
  g.setDefaultEdgeLabel(() => ({}));
  for (const n of input.nodes) g.setNode(n.key, { width: nodeWidth(n.label, n.sublabel), height: NODE_HEIGHT });
  const known = new Set(input.nodes.map((n) => n.key));
  for (const e of input.edges) {
    if (!known.has(e.from) || !known.has(e.to)) continue;
    // A self call (a service calling itself) is kept out of dagre and drawn as a loop.
    if (e.from === e.to) continue;
    g.setEdge(e.from, e.to, { width: LABEL_WIDTH, height: LABEL_HEIGHT, labelpos: 'c' });
  }
  dagre.layout(g);

  const nodes = new Map<string, NodeBox>();
  for (const n of input.nodes) {
    const d = g.node(n.key) as { x: number; y: number; width: number; height: number };
    // dagre centres the whole box; the ring sits at its top.
    nodes.set(n.key, { x: d.x, y: d.y - NODE_HEIGHT / 2 + RING_RADIUS + 2, width: d.width, height: d.height });
  }
  const edges = new Map<string, { points: Point[]; label: Point }>();
  for (const e of input.edges) {
    const a = nodes.get(e.from);
    const b = nodes.get(e.to);
    if (!a || !b) continue;
    if (e.from === e.to) {
      const top = a.y - RING_RADIUS;
      edges.set(e.key, {
        points: [
          { x: a.x - 10, y: top },
          { x: a.x - 18, y: top - 26 },
          { x: a.x + 18, y: top - 26 },
          { x: a.x + 10, y: top },
        ],
        label: { x: a.x, y: top - 40 },
      });
      continue;
    }
    const d = g.edge(e.from, e.to) as { points?: Point[]; x?: number; y?: number };
    const points = clipToRings(d.points ?? [a, b], a, b);
    const mid = points[Math.floor(points.length / 2)] ?? a;
    edges.set(e.key, { points, label: { x: d.x ?? mid.x, y: d.y ?? mid.y } });
  }
  const graph = g.graph() as { width?: number; height?: number };
  return { nodes, edges, width: graph.width ?? 0, height: graph.height ?? 0 };
}

// dagre routes edges to the node boxes' borders; the map draws rings, so the
// ends are moved onto the rings (the arrowhead then touches the circle).
function clipToRings(points: Point[], from: Point, to: Point): Point[] {
  if (points.length < 2) return [from, to];
  const inner = points.slice(1, -1).filter((p) => dist(p, from) > RING_RADIUS + 2 && dist(p, to) > RING_RADIUS + 2);
  const first = inner[0] ?? to;
  const last = inner[inner.length - 1] ?? from;
  return [onRing(from, first), ...inner, onRing(to, last)];
}

function dist(a: Point, b: Point): number {
  return Math.hypot(a.x - b.x, a.y - b.y);
}

// The point on the ring around `centre` in the direction of `toward`.
export function onRing(centre: Point, toward: Point, radius = RING_RADIUS + RING_WIDTH / 2): Point {
  const d = dist(centre, toward) || 1;
  return { x: centre.x + ((toward.x - centre.x) / d) * radius, y: centre.y + ((toward.y - centre.y) / d) * radius };
}
