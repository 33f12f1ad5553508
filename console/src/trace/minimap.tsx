// The whole trace in miniature (every span, one thin bar each, on a canvas)
// with the waterfall's view window over it: drag the window to pan, its edges
// to resize, or drag across the rest to choose a new window.
import { useEffect, useRef, useState } from 'preact/hooks';
import { useElementWidth } from '../ui/size';
import { palette, useTheme } from '../ui/theme';
import type { SpanTree } from './spans';
import { clampWindow, dragWindow, isFull, minimapBars, zoomWindow, type ViewWindow } from './timescale';

const height = 48;

interface Props {
  tree: SpanTree;
  window: ViewWindow;
  onWindow: (w: ViewWindow) => void;
}

type Drag = { mode: 'move' | 'from' | 'to'; x: number; start: ViewWindow } | { mode: 'new'; a: number; b: number };

export function Minimap({ tree, window, onWindow }: Props) {
  const theme = useTheme();
  const box = useRef<HTMLDivElement>(null);
  const canvas = useRef<HTMLCanvasElement>(null);
  const width = useElementWidth(box);
  const [drag, setDrag] = useState<Drag | null>(null);

  useEffect(() => {
    const c = canvas.current;
    if (!c || width <= 0) return;
    const dpr = globalThis.devicePixelRatio || 1;
    c.width = Math.round(width * dpr);
    c.height = Math.round(height * dpr);
    const ctx = c.getContext('2d');
    if (!ctx) return;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, width, height);
    const p = palette();
    const colours: Record<string, string> = { ok: p.ok, error: p.error, throttle: p.throttle, fault: p.fault };
    const bars = minimapBars(tree.spans, tree.order, tree.start, tree.end - tree.start, width, height);
    // One fill style change per status, not per bar.
    for (const status of ['ok', 'error', 'throttle', 'fault']) {
      ctx.fillStyle = colours[status]!;
      ctx.globalAlpha = status === 'ok' ? 0.75 : 1;
      for (const b of bars) if (b.status === status) ctx.fillRect(b.x, b.y, b.w, b.h);
    }
    ctx.globalAlpha = 1;
  }, [tree, width, theme]);

  const frac = (e: PointerEvent) => {
    const r = box.current!.getBoundingClientRect();
    return Math.min(1, Math.max(0, (e.clientX - r.left) / Math.max(1, r.width)));
  };
  const begin = (mode: 'move' | 'from' | 'to') => (e: PointerEvent) => {
    if (e.button !== 0) return;
    e.stopPropagation();
    box.current!.setPointerCapture(e.pointerId);
    setDrag({ mode, x: frac(e), start: window });
  };
  const onDown = (e: PointerEvent) => {
    if (e.button !== 0) return;
    box.current!.setPointerCapture(e.pointerId);
    const a = frac(e);
    setDrag({ mode: 'new', a, b: a });
  };
  const onMove = (e: PointerEvent) => {
    if (!drag) return;
    if (drag.mode === 'new') setDrag({ ...drag, b: frac(e) });
    else onWindow(dragWindow(drag.start, drag.mode, frac(e) - drag.x));
  };
  const onUp = (e: PointerEvent) => {
    if (!drag) return;
    setDrag(null);
    if (drag.mode !== 'new') return;
    const b = frac(e);
    if (Math.abs(b - drag.a) * width >= 4) {
      onWindow(clampWindow({ from: Math.min(drag.a, b), to: Math.max(drag.a, b) }));
    } else {
      // A click centres the window there.
      const half = (window.to - window.from) / 2;
      onWindow(clampWindow({ from: b - half, to: b + half }));
    }
  };
  const onKey = (e: KeyboardEvent) => {
    const w = window.to - window.from;
    let next: ViewWindow | null = null;
    if (e.key === 'ArrowLeft') next = dragWindow(window, 'move', -w / 4);
    else if (e.key === 'ArrowRight') next = dragWindow(window, 'move', w / 4);
    else if (e.key === '+' || e.key === '=') next = zoomWindow(window, 0.5);
    else if (e.key === '-') next = zoomWindow(window, 2);
    else if (e.key === '0') next = { from: 0, to: 1 };
    if (next) {
      e.preventDefault();
      onWindow(next);
    }
  };

  const shown = drag?.mode === 'new' ? { from: Math.min(drag.a, drag.b), to: Math.max(drag.a, drag.b) } : window;
  return (
    <div
      ref={box}
      class="tv-minimap"
      style={{ height: `${height}px` }}
      onPointerDown={onDown}
      onPointerMove={onMove}
      onPointerUp={onUp}
      onPointerCancel={() => setDrag(null)}
    >
      <canvas ref={canvas} style={{ width: '100%', height: `${height}px` }} aria-hidden="true" />
      <div class="tv-mm-shade" style={{ left: 0, width: `${shown.from * 100}%` }} />
      <div class="tv-mm-shade" style={{ left: `${shown.to * 100}%`, right: 0 }} />
      <div
        class={`tv-mm-window${isFull(window) && !drag ? ' full' : ''}`}
        style={{ left: `${shown.from * 100}%`, width: `${(shown.to - shown.from) * 100}%` }}
        role="slider"
        tabIndex={0}
        aria-label="Time window shown in the waterfall (arrow keys pan, + and − zoom, 0 resets)"
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={Math.round(window.from * 100)}
        aria-valuetext={`${Math.round(window.from * 100)}% to ${Math.round(window.to * 100)}% of the trace`}
        onPointerDown={begin('move')}
        onKeyDown={onKey}
      >
        <span class="tv-mm-handle from" onPointerDown={begin('from')} aria-hidden="true" />
        <span class="tv-mm-handle to" onPointerDown={begin('to')} aria-hidden="true" />
      </div>
    </div>
  );
}
