// Time on the waterfall's axis. The view window is a pair of fractions of the
// trace's span [0, 1] (what the minimap shows and the axis zooms); positions
// are percentages of the bar column, so rows need no pixel widths.

export interface ViewWindow {
  from: number;
  to: number;
}

export const fullWindow: ViewWindow = { from: 0, to: 1 };
// The narrowest window: a thousandth of the trace.
export const minWindow = 0.001;

export interface Scale {
  start: number; // trace start, epoch seconds
  duration: number; // > 0
  window: ViewWindow;
}

export function makeScale(start: number, end: number, window: ViewWindow = fullWindow): Scale {
  // A trace of one instant still needs a width to draw in.
  return { start, duration: Math.max(end - start, 1e-6), window };
}

// Epoch seconds → fraction of the trace.
export function fraction(scale: Scale, t: number): number {
  return (t - scale.start) / scale.duration;
}

// Epoch seconds → percent of the bar column (outside [0, 100] when off view).
export function percent(scale: Scale, t: number): number {
  const { from, to } = scale.window;
  return ((fraction(scale, t) - from) / (to - from)) * 100;
}

// A bar's left and width in percent, clipped to the view (with a little
// overhang so clipped ends stay off screen), or null when wholly outside.
export function barBox(scale: Scale, start: number, end: number): { left: number; width: number } | null {
  const a = percent(scale, start);
  const b = percent(scale, end);
  if (b < 0 || a > 100) return null;
  const left = Math.max(a, -1);
  return { left, width: Math.max(0, Math.min(b, 101) - left) };
}

// A round step (1, 2 or 5 × 10^k seconds) giving about `target` ticks.
export function niceStep(range: number, target: number): number {
  const raw = range / Math.max(1, target);
  if (!(raw > 0) || !Number.isFinite(raw)) return 1;
  const pow = 10 ** Math.floor(Math.log10(raw));
  const m = raw / pow;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * pow;
}

export interface Tick {
  offset: number; // seconds since the trace's start
  percent: number; // position in the bar column
}

// Ticks over the view window, labelled by their offset from the trace start.
export function ticks(scale: Scale, target = 6): Tick[] {
  const { from, to } = scale.window;
  const a = from * scale.duration;
  const b = to * scale.duration;
  const step = niceStep(b - a, target);
  const out: Tick[] = [];
  for (let k = Math.ceil(a / step - 1e-9); k * step <= b + step * 1e-9; k++) {
    const offset = k * step;
    out.push({ offset, percent: ((offset / scale.duration - from) / (to - from)) * 100 });
    if (out.length > 50) break;
  }
  return out;
}

// A tick's label, in the unit the window's far end calls for (so one axis
// never mixes units), with the decimals its step needs.
export function tickLabel(offset: number, step: number, last = offset): string {
  if (offset === 0) return '0';
  const unit = last >= 1 ? 1 : last >= 0.001 ? 1e-3 : 1e-6;
  const x = step / unit;
  let digits = 0;
  while (digits < 3 && Math.abs(Math.round(x * 10 ** digits) - x * 10 ** digits) > 1e-6 * 10 ** digits) digits++;
  const text = String(Number((offset / unit).toFixed(digits)));
  return `${text} ${unit === 1 ? 's' : unit === 1e-3 ? 'ms' : 'µs'}`;
}

export function clampWindow(w: ViewWindow): ViewWindow {
  let width = Math.min(1, Math.max(minWindow, w.to - w.from));
  let from = Math.min(Math.max(0, w.from), 1 - width);
  if (!Number.isFinite(from)) from = 0;
  if (!Number.isFinite(width)) width = 1;
  return { from, to: from + width };
}

// The window after dragging its body (`move`) or one edge by `delta` (a
// fraction of the whole minimap).
export function dragWindow(w: ViewWindow, mode: 'move' | 'from' | 'to', delta: number): ViewWindow {
  if (mode === 'move') {
    const width = w.to - w.from;
    const from = Math.min(Math.max(0, w.from + delta), 1 - width);
    return { from, to: from + width };
  }
  if (mode === 'from') return { from: Math.max(0, Math.min(w.from + delta, w.to - minWindow)), to: w.to };
  return { from: w.from, to: Math.min(1, Math.max(w.to + delta, w.from + minWindow)) };
}

// Two positions across the current view (fractions of the bar column, in
// either order) → the window they select, in fractions of the trace.
export function selectWithin(w: ViewWindow, a: number, b: number): ViewWindow {
  const lo = Math.max(0, Math.min(a, b));
  const hi = Math.min(1, Math.max(a, b));
  const width = w.to - w.from;
  return clampWindow({ from: w.from + lo * width, to: w.from + hi * width });
}

// Zoom by `factor` (< 1 zooms in) about the window's centre.
export function zoomWindow(w: ViewWindow, factor: number): ViewWindow {
  const centre = (w.from + w.to) / 2;
  const half = ((w.to - w.from) * factor) / 2;
  return clampWindow({ from: centre - half, to: centre + half });
}

export function isFull(w: ViewWindow): boolean {
  return w.from <= 0 && w.to >= 1;
}

export interface MiniBar {
  x: number;
  y: number;
  w: number;
  h: number;
  status: string;
}

// Every span in `order` as a thin bar on a width × height canvas: rows share
// the height (several spans a pixel row when there are many), at least a
// pixel wide and tall so nothing vanishes.
export function minimapBars(
  spans: { start: number; end: number; status: string }[],
  order: number[],
  start: number,
  duration: number,
  width: number,
  height: number,
): MiniBar[] {
  const n = order.length;
  const rowH = n > 0 ? height / n : height;
  const h = Math.max(1, Math.min(rowH - (rowH > 3 ? 1 : 0), 6));
  const out: MiniBar[] = [];
  const d = Math.max(duration, 1e-6);
  for (let k = 0; k < n; k++) {
    const s = spans[order[k]!]!;
    const x = ((s.start - start) / d) * width;
    const w = Math.max(1, ((s.end - s.start) / d) * width);
    out.push({ x, y: Math.min(height - h, k * rowH), w, h, status: s.status });
  }
  return out;
}
