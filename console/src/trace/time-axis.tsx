// The waterfall's column header: the names column (resizable), the duration
// column, and the time axis, where dragging across selects a span of time to
// zoom into.
import { useRef, useState } from 'preact/hooks';
import { selectWithin, tickLabel, type Tick, type ViewWindow } from './timescale';

interface Props {
  ticks: Tick[];
  window: ViewWindow;
  onWindow: (w: ViewWindow) => void;
  nameWidth: number;
  onNameWidth: (px: number) => void;
  axisWidth: number;
}

export function TimeAxis({ ticks, window, onWindow, nameWidth, onNameWidth, axisWidth }: Props) {
  const axis = useRef<HTMLDivElement>(null);
  const [drag, setDrag] = useState<{ a: number; b: number } | null>(null);
  const step = ticks.length > 1 ? ticks[1]!.offset - ticks[0]!.offset : 1;
  const last = ticks[ticks.length - 1]?.offset ?? 0;
  // A label needs about 56 px to the right of its tick.
  const labelRoom = 100 - (56 / Math.max(56, axisWidth)) * 100;

  const at = (e: PointerEvent) => {
    const r = axis.current!.getBoundingClientRect();
    return Math.min(1, Math.max(0, (e.clientX - r.left) / Math.max(1, r.width)));
  };
  const onDown = (e: PointerEvent) => {
    if (e.button !== 0) return;
    (e.currentTarget as HTMLElement).setPointerCapture(e.pointerId);
    const a = at(e);
    setDrag({ a, b: a });
  };
  const onMove = (e: PointerEvent) => {
    if (drag) setDrag({ a: drag.a, b: at(e) });
  };
  const onUp = (e: PointerEvent) => {
    if (!drag) return;
    const b = at(e);
    setDrag(null);
    const width = axis.current!.getBoundingClientRect().width;
    if (Math.abs(b - drag.a) * width >= 4) onWindow(selectWithin(window, drag.a, b));
  };

  const splitter = useRef<{ x: number; w: number } | null>(null);
  return (
    <div class="tv-head tv-cols" role="presentation">
      <div class="tv-head-name">
        Span
        <div
          class="tv-splitter"
          role="separator"
          aria-orientation="vertical"
          aria-label="Width of the span names column"
          aria-valuenow={nameWidth}
          aria-valuemin={160}
          tabIndex={0}
          onKeyDown={(e) => {
            if (e.key === 'ArrowLeft' || e.key === 'ArrowRight') {
              e.preventDefault();
              onNameWidth(nameWidth + (e.key === 'ArrowLeft' ? -24 : 24));
            }
          }}
          onPointerDown={(e) => {
            (e.currentTarget as HTMLElement).setPointerCapture(e.pointerId);
            splitter.current = { x: e.clientX, w: nameWidth };
          }}
          onPointerMove={(e) => {
            if (splitter.current) onNameWidth(splitter.current.w + e.clientX - splitter.current.x);
          }}
          onPointerUp={() => {
            splitter.current = null;
          }}
        />
      </div>
      <div class="tv-head-dur">Duration</div>
      <div
        ref={axis}
        class="tv-axis"
        title="Drag across the time axis to zoom in"
        onPointerDown={onDown}
        onPointerMove={onMove}
        onPointerUp={onUp}
        onPointerCancel={() => setDrag(null)}
      >
        {ticks.map((t) => (
          <span class="tv-tick" style={{ left: `${t.percent}%` }}>
            {t.percent <= labelRoom ? <span>{tickLabel(t.offset, step, last)}</span> : null}
          </span>
        ))}
        {drag ? (
          <span
            class="tv-axis-sel"
            style={{ left: `${Math.min(drag.a, drag.b) * 100}%`, width: `${Math.abs(drag.b - drag.a) * 100}%` }}
          />
        ) : null}
      </div>
    </div>
  );
}
