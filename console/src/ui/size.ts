// An element's width, kept current as it resizes.
import { type RefObject } from 'preact';
import { useLayoutEffect, useState } from 'preact/hooks';

export function useElementWidth(ref: RefObject<HTMLElement>, initial = 0): number {
  const [width, setWidth] = useState(initial);
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    const ro = new ResizeObserver(() => setWidth(el.clientWidth));
    ro.observe(el);
    setWidth(el.clientWidth);
    return () => ro.disconnect();
  }, []);
  return width;
}
