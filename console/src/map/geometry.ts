// The map's drawing maths: the status ring's arcs, edge paths and widths,
// the pan/zoom viewport, and which node an arrow key moves to.
import type { Point } from './layout';
import type { Shares } from './model';

export type StatusName = keyof Shares;
export const statusOrder: StatusName[] = ['ok', 'error', 'throttle', 'fault'];

export interface Arc {
  status: StatusName;
  d: string; // an SVG path, drawn with a stroke
}

const fmt = (x: number) => String(Math.round(x * 100) / 100);

function polar(cx: number, cy: number, r: number, turn: number): Point {
  // 0 is 12 o'clock, clockwise
  const a = turn * 2 * Math.PI - Math.PI / 2;
  return { x: cx + r * Math.cos(a), y: cy + r * Math.sin(a) };
}

// One arc per non-zero status share, clockwise from 12 o'clock in the order
// ok, error, throttle, fault. A share of the whole circle is two half arcs
// (an SVG arc cannot start and end at one point). Tiny non-zero shares are
// widened to `minTurn` so a single fault stays visible.
export function ringArcs(cx: number, cy: number, r: number, s: Shares, minTurn = 0.02): Arc[] {
  const present = statusOrder.filter((k) => s[k] > 0);
  if (present.length === 0) return [];
  if (present.length === 1) {
    const k = present[0]!;
    const top = polar(cx, cy, r, 0);
    const bottom = polar(cx, cy, r, 0.5);
    return [
      {
        status: k,
        d: `M${fmt(top.x)} ${fmt(top.y)}A${fmt(r)} ${fmt(r)} 0 1 1 ${fmt(bottom.x)} ${fmt(bottom.y)}A${fmt(r)} ${fmt(r)} 0 1 1 ${fmt(top.x)} ${fmt(top.y)}`,
      },
    ];
  }
  // Widen small shares, taking the room from the largest.
  const turns = present.map((k) => Math.max(s[k], minTurn));
  const excess = turns.reduce((a, b) => a + b, 0) - 1;
  const largest = turns.indexOf(Math.max(...turns));
  turns[largest] = turns[largest]! - excess;
  const arcs: Arc[] = [];
  let at = 0;
  present.forEach((k, i) => {
    const turn = turns[i]!;
    const a = polar(cx, cy, r, at);
    const b = polar(cx, cy, r, at + turn);
    arcs.push({ status: k, d: `M${fmt(a.x)} ${fmt(a.y)}A${fmt(r)} ${fmt(r)} 0 ${turn > 0.5 ? 1 : 0} 1 ${fmt(b.x)} ${fmt(b.y)}` });
    at += turn;
  });
  return arcs;
}

// A smooth path through dagre's bend points (a Catmull-Rom spline as cubic
// Béziers), straight when there are only two.
export function edgePath(points: Point[]): string {
  if (points.length === 0) return '';
  const p = points;
  let d = `M${fmt(p[0]!.x)} ${fmt(p[0]!.y)}`;
  if (p.length === 2) return d + `L${fmt(p[1]!.x)} ${fmt(p[1]!.y)}`;
  for (let i = 0; i < p.length - 1; i++) {
    const p0 = p[i - 1] ?? p[i]!;
    const p1 = p[i]!;
    const p2 = p[i + 1]!;
    const p3 = p[i + 2] ?? p2;
    const c1 = { x: p1.x + (p2.x - p0.x) / 6, y: p1.y + (p2.y - p0.y) / 6 };
    const c2 = { x: p2.x - (p3.x - p1.x) / 6, y: p2.y - (p3.y - p1.y) / 6 };
    d += `C${fmt(c1.x)} ${fmt(c1.y)} ${fmt(c2.x)} ${fmt(c2.y)} ${fmt(p2.x)} ${fmt(p2.y)}`;
  }
  return d;
}

// A fan's edge (layout.ts): a curve from the caller to the block, straight
// along the lane above the leaf's row, and a turn down onto the leaf.
export function combPath(points: Point[]): string {
  if (points.length !== 4) return edgePath(points);
  const [p0, p1, p2, p3] = points as [Point, Point, Point, Point];
  const dx = (p1.x - p0.x) / 2;
  return (
    `M${fmt(p0.x)} ${fmt(p0.y)}C${fmt(p0.x + dx)} ${fmt(p0.y)} ${fmt(p1.x - dx)} ${fmt(p1.y)} ${fmt(p1.x)} ${fmt(p1.y)}` +
    `L${fmt(p2.x)} ${fmt(p2.y)}Q${fmt(p3.x)} ${fmt(p2.y)} ${fmt(p3.x)} ${fmt(p3.y)}`
  );
}

// Stroke width by traffic: logarithmic, so a 1,000-fold busier edge is a few
// pixels wider, not a wall.
export function edgeWidth(rate: number, maxRate: number): number {
  if (!(rate > 0) || !(maxRate > 0)) return 1.25;
  const t = Math.log1p(rate) / Math.log1p(maxRate);
  return Math.round((1.25 + 3.75 * Math.min(1, t)) * 100) / 100;
}

// The pan/zoom transform: screen = world * k + (x, y).
export interface Viewport {
  x: number;
  y: number;
  k: number;
}

export const MIN_ZOOM = 0.02;
export const MAX_ZOOM = 3;
const clampZoom = (k: number) => Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, k));

// The whole map in view, centred, never magnified past 1:1 (a small map
// should look like a small map, not a poster).
export function fitView(contentW: number, contentH: number, viewW: number, viewH: number, padding = 24): Viewport {
  if (contentW <= 0 || contentH <= 0 || viewW <= 0 || viewH <= 0) return { x: 0, y: 0, k: 1 };
  const k = clampZoom(Math.min(1, (viewW - 2 * padding) / contentW, (viewH - 2 * padding) / contentH));
  return { k, x: (viewW - contentW * k) / 2, y: (viewH - contentH * k) / 2 };
}

// How much of the map is drawn at a zoom: 0 rings and edges, 1 and names,
// 2 and the figures in the rings and the types, 3 and the edge labels.
// Text too small to read is not drawn at all, which keeps a 200-node
// overview cheap to render and paint.
export function detailLevel(k: number): 0 | 1 | 2 | 3 {
  return k < 0.2 ? 0 : k < 0.3 ? 1 : k < 0.55 ? 2 : 3;
}

// Zoom by `factor` keeping the world point under (px, py) where it is.
export function zoomAt(v: Viewport, factor: number, px: number, py: number): Viewport {
  const k = clampZoom(v.k * factor);
  const f = k / v.k;
  return { k, x: px - (px - v.x) * f, y: py - (py - v.y) * f };
}

// Pan so that world point p sits at the view's centre (when it is not
// already comfortably inside it).
export function reveal(v: Viewport, p: Point, viewW: number, viewH: number, margin = 60): Viewport {
  const sx = p.x * v.k + v.x;
  const sy = p.y * v.k + v.y;
  if (sx > margin && sx < viewW - margin && sy > margin && sy < viewH - margin) return v;
  return { k: v.k, x: viewW / 2 - p.x * v.k, y: viewH / 2 - p.y * v.k };
}

export type Direction = 'left' | 'right' | 'up' | 'down';

// The node an arrow key moves to: the nearest one in that direction within
// a 45° cone either side, distance across the direction counting double (so
// "right" prefers the node straight across over one diagonally nearer).
export function nearestInDirection(from: string, positions: Map<string, Point>, dir: Direction): string | undefined {
  const o = positions.get(from);
  if (!o) return undefined;
  let best: string | undefined;
  let bestScore = Infinity;
  for (const [key, p] of positions) {
    if (key === from) continue;
    const dx = p.x - o.x;
    const dy = p.y - o.y;
    const along = dir === 'right' ? dx : dir === 'left' ? -dx : dir === 'down' ? dy : -dy;
    const across = Math.abs(dir === 'left' || dir === 'right' ? dy : dx);
    if (along <= 0 || across > along) continue;
    const score = along + 2 * across;
    if (score < bestScore) {
      bestScore = score;
      best = key;
    }
  }
  return best;
}
