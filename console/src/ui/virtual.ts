// Windowing for long lists of fixed-height rows: only the rows in view (plus
// an overscan) are rendered, so 10,000 trace rows or 5,000 spans cost what a
// screenful costs.
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';

export interface Window {
  first: number; // first rendered row
  last: number; // one past the last rendered row
  offset: number; // px from the top of the content to the first rendered row
  total: number; // content height, px
}

export function visibleWindow(scrollTop: number, viewport: number, rowHeight: number, count: number, overscan = 8): Window {
  const first = Math.max(0, Math.floor(scrollTop / rowHeight) - overscan);
  const last = Math.min(count, Math.ceil((scrollTop + viewport) / rowHeight) + overscan);
  return { first, last, offset: first * rowHeight, total: count * rowHeight };
}

// Tracks a scroll container's position and size; returns the window to draw.
export function useVirtual(count: number, rowHeight: number, overscan = 8) {
  const ref = useRef<HTMLDivElement>(null);
  const [state, setState] = useState({ top: 0, height: 600 });
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    let frame = 0;
    const update = () => {
      frame = 0;
      setState((s) => (s.top === el.scrollTop && s.height === el.clientHeight ? s : { top: el.scrollTop, height: el.clientHeight }));
    };
    const onScroll = () => {
      if (!frame) frame = requestAnimationFrame(update);
    };
    update();
    el.addEventListener('scroll', onScroll, { passive: true });
    const ro = new ResizeObserver(update);
    ro.observe(el);
    return () => {
      el.removeEventListener('scroll', onScroll);
      ro.disconnect();
      if (frame) cancelAnimationFrame(frame);
    };
  }, []);
  const win = visibleWindow(state.top, state.height, rowHeight, count, overscan);
  // Keeps row `index` in view (keyboard navigation).
  const scrollToRow = (index: number) => {
    const el = ref.current;
    if (!el) return;
    const top = index * rowHeight;
    if (top < el.scrollTop) el.scrollTop = top;
    else if (top + rowHeight > el.scrollTop + el.clientHeight) el.scrollTop = top + rowHeight - el.clientHeight;
  };
  return { ref, win, scrollToRow, viewport: state.height };
}

// Calls `load` when the window comes within `margin` rows of the end.
export function useLoadMore(win: Window, count: number, canLoad: boolean, load: () => void, margin = 50) {
  const loading = useRef(false);
  useEffect(() => {
    if (canLoad && !loading.current && win.last >= count - margin) {
      loading.current = true;
      Promise.resolve(load()).finally(() => {
        loading.current = false;
      });
    }
  }, [win.last, count, canLoad]);
}
