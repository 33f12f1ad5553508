// Hash routing: every view's state lives in the URL after '#', so a link or a
// reload reopens exactly what was on screen, and no server path is taken from
// the X-Ray API (whose paths are the same port's).
//
//   #/traces?q=…&range=…&group=…&trt=…&rt=…     the traces view
//   #/trace/ID?span=…                          one trace
//   #/map?range=…&group=…&node=…               the service map
//   #/compare?a=…&b=…&range=…                  two sets of traces
//   #/diff/ID_A/ID_B                           two traces span by span
import { useEffect, useState } from 'preact/hooks';

export type View = 'traces' | 'trace' | 'map' | 'compare' | 'diff';

export interface Route {
  view: View;
  parts: string[]; // path segments after the view (trace ids)
  params: URLSearchParams;
}

export function parseHash(hash: string): Route {
  const text = hash.replace(/^#\/?/, '');
  const q = text.indexOf('?');
  const path = q >= 0 ? text.slice(0, q) : text;
  const params = new URLSearchParams(q >= 0 ? text.slice(q + 1) : '');
  const [first, ...parts] = path.split('/').filter(Boolean).map(decodeURIComponent);
  const views: View[] = ['traces', 'trace', 'map', 'compare', 'diff'];
  const view = views.includes(first as View) ? (first as View) : 'traces';
  return { view, parts, params };
}

export function formatHash(view: View, parts: string[] = [], params?: Record<string, string | undefined>): string {
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(params ?? {})) if (v !== undefined && v !== '') search.set(k, v);
  const qs = search.toString();
  return `#/${[view, ...parts.map(encodeURIComponent)].join('/')}${qs ? '?' + qs : ''}`;
}

export function navigate(hash: string, options: { replace?: boolean } = {}): void {
  if (hash === location.hash) return;
  if (options.replace) {
    history.replaceState(null, '', hash);
    window.dispatchEvent(new HashChangeEvent('hashchange'));
  } else {
    location.hash = hash;
  }
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseHash(location.hash));
  useEffect(() => {
    const update = () => setRoute(parseHash(location.hash));
    window.addEventListener('hashchange', update);
    return () => window.removeEventListener('hashchange', update);
  }, []);
  return route;
}
