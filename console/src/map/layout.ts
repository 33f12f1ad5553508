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
  // quiet: a fan's edge, whose label is drawn only when it is in focus (the
  // leaf's ring shows the same figures)
  // comb: drawn with geometry.ts combPath rather than as a spline
  edges: Map<string, { points: Point[]; label: Point; quiet?: boolean; comb?: boolean }>;
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

// How many characters fit the node's width (the view adds "…").
export function fitChars(width: number, px = 12): number {
  return Math.max(4, Math.floor((width - 8) / (px * 0.58)));
}

export function layoutMap(input: LayoutInput): Layout {
  const g = new dagre.graphlib.Graph({ multigraph: false });
  const big = input.nodes.length > 100;
  g.setGraph({
    rankdir: 'LR',
    nodesep: 28,
    ranksep: 48,
    edgesep: 12,
    marginx: 24,
    marginy: 24,
    // network-simplex gives the tidiest ranks; on large maps it costs four
    // times as much as tight-tree (200 services: ~500 ms against ~120 ms),
    // which ranks a layered call graph the same.
    ranker: big ? 'tight-tree' : 'network-simplex',
  });
  g.setDefaultEdgeLabel(() => ({}));
  const known = new Set(input.nodes.map((n) => n.key));
  const usable = input.edges.filter((e) => known.has(e.from) && known.has(e.to));
  const fans = findFans(usable);
  const inFan = new Map<string, Fan>(); // leaf node key → its fan
  for (const f of fans.values()) for (const leaf of f.leaves) inFan.set(leaf, f);
  const widthOf = new Map(input.nodes.map((n) => [n.key, nodeWidth(n.label, n.sublabel)]));

  for (const n of input.nodes) if (!inFan.has(n.key)) g.setNode(n.key, { width: widthOf.get(n.key)!, height: NODE_HEIGHT });
  for (const f of fans.values()) {
    f.cellWidth = Math.max(...f.leaves.map((k) => widthOf.get(k)!));
    const box = fanBox(f);
    g.setNode(f.block, { width: box.width, height: box.height });
    g.setEdge(f.parent, f.block, {});
  }
  for (const e of usable) {
    // A self call is kept out of dagre and drawn as a loop; a fan's edges
    // are drawn to its block's cells.
    if (e.from === e.to || inFan.has(e.to)) continue;
    g.setEdge(e.from, e.to, { width: LABEL_WIDTH, height: LABEL_HEIGHT, labelpos: 'c' });
  }
  dagre.layout(g);

  const nodes = new Map<string, NodeBox>();
  for (const n of input.nodes) {
    if (inFan.has(n.key)) continue;
    const d = g.node(n.key) as { x: number; y: number; width: number; height: number };
    // dagre centres the whole box; the ring sits at its top.
    nodes.set(n.key, { x: d.x, y: d.y - NODE_HEIGHT / 2 + RING_RADIUS + 2, width: d.width, height: d.height });
  }
  for (const f of fans.values()) {
    const d = g.node(f.block) as { x: number; y: number; width: number; height: number };
    const left = d.x - d.width / 2;
    const top = d.y - d.height / 2 + FAN_LANE;
    f.leaves.forEach((k, i) => {
      const col = i % f.columns;
      const row = Math.floor(i / f.columns);
      nodes.set(k, {
        x: left + f.cellWidth / 2 + col * (f.cellWidth + FAN_GAP),
        y: top + row * (NODE_HEIGHT + FAN_LANE) + RING_RADIUS + 2,
        width: f.cellWidth,
        height: NODE_HEIGHT,
      });
    });
    f.left = left;
  }

  const edges: Layout['edges'] = new Map();
  for (const e of usable) {
    const a = nodes.get(e.from)!;
    const b = nodes.get(e.to)!;
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
    const fan = inFan.get(e.to);
    if (fan) {
      // Into the block along the lane above the leaf's row, then down to it:
      // the fan reads as a comb rather than fifty crossing curves.
      const lane = b.y - RING_RADIUS - 2 - FAN_LANE / 2;
      const entry = { x: fan.left - 12, y: lane };
      const turn = { x: b.x - 22, y: lane };
      const points = [onRing(a, entry), entry, turn, onRing(b, { x: b.x - 14, y: lane })];
      edges.set(e.key, { points, label: { x: b.x - LABEL_WIDTH / 2 - RING_RADIUS, y: lane - LABEL_HEIGHT / 2 }, quiet: true, comb: true });
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

// A service calling many leaves (tables, queues, hosts: nodes that call
// nothing and have no other caller) would stack them in one column many
// screens tall. Such a fan is laid out as one block, its leaves in a grid
// of about as many columns as keep the block wider than tall.
const FAN_GAP = 20; // between a fan's columns
const FAN_LANE = 22; // above each row, where the edges run

interface Fan {
  parent: string;
  block: string; // the block's dagre node
  leaves: string[];
  columns: number;
  cellWidth: number;
  left: number;
}

export function findFans(edges: { from: string; to: string }[], minFan = 8): Map<string, Fan> {
  const indeg = new Map<string, number>();
  const callers = new Set<string>();
  for (const e of edges) {
    if (e.from === e.to) continue;
    indeg.set(e.to, (indeg.get(e.to) ?? 0) + 1);
    callers.add(e.from);
  }
  const leavesOf = new Map<string, string[]>();
  for (const e of edges) {
    if (e.from === e.to || indeg.get(e.to) !== 1 || callers.has(e.to)) continue;
    const list = leavesOf.get(e.from);
    if (list) list.push(e.to);
    else leavesOf.set(e.from, [e.to]);
  }
  const fans = new Map<string, Fan>();
  for (const [parent, leaves] of leavesOf) {
    if (leaves.length < minFan) continue;
    const columns = Math.min(8, Math.max(2, Math.round(Math.sqrt(leaves.length * 1.4))));
    fans.set(parent, { parent, block: `\u0000fan\u0000${parent}`, leaves, columns, cellWidth: MIN_NODE_WIDTH, left: 0 });
  }
  return fans;
}

function fanBox(f: Fan): { width: number; height: number } {
  const rows = Math.ceil(f.leaves.length / f.columns);
  return { width: f.columns * f.cellWidth + (f.columns - 1) * FAN_GAP, height: rows * (NODE_HEIGHT + FAN_LANE) + FAN_LANE };
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
