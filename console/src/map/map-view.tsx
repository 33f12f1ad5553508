// The service map view: #/map?range=…&group=…&node=…&edge=…
// Loads the graph of the window (or group), lays it out once per shape of
// graph, draws it, and opens the selected node's or edge's panel. Range,
// group and selection live in the URL, so a reload reopens the same view.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { navigate, type Route } from '../lib/router';
import { defaultRange, describeRange, parseRange, resolveRange } from '../lib/time';
import { ErrorBanner, Loading } from '../ui/common';
import { GroupSelect } from '../ui/scope';
import { TimeRangePicker } from '../ui/time-range';
import { loadServiceGraph } from './data';
import { Details, type Selection } from './details';
import { Graph } from './graph';
import { type Layout, layoutMap } from './layout';
import { mapHash } from './links';
import { buildMap, nodeTitle, type ServiceMap, typeLabel, windowMinutes } from './model';

interface Loaded {
  map: ServiceMap;
  window: { start: number; end: number };
  pages: number;
  at: number; // when it was fetched (ms)
}

// The layout depends only on the graph's shape and labels, so a refresh that
// brings the same services back keeps every node where it was.
function shapeOf(map: ServiceMap): string {
  return map.nodes.map((n) => n.key).join('\n') + '\n\n' + map.edges.map((e) => e.key).join('\n');
}

function computeLayout(map: ServiceMap): Layout {
  performance.mark('map-layout-start');
  const layout = layoutMap({
    nodes: map.nodes.map((n) => ({ key: n.key, label: nodeTitle(n), sublabel: n.client ? '' : typeLabel(n.type) })),
    edges: map.edges.map((e) => ({ key: e.key, from: e.from, to: e.to })),
  });
  performance.mark('map-layout-end');
  performance.measure('map-layout', 'map-layout-start', 'map-layout-end');
  return layout;
}

function Legend() {
  return (
    <div class="map-legend" aria-label="Legend" role="note">
      <span><span class="legend-swatch" style={{ background: 'var(--ok)' }} />OK</span>
      <span><span class="legend-swatch" style={{ background: 'var(--error)' }} />Error (4xx)</span>
      <span><span class="legend-swatch" style={{ background: 'var(--throttle)' }} />Throttle (429)</span>
      <span><span class="legend-swatch" style={{ background: 'var(--fault)' }} />Fault (5xx)</span>
      <span class="muted">Ring: share of requests · inside: average latency, requests/min · edge width: traffic</span>
    </div>
  );
}

export default function MapView({ route }: { route: Route }) {
  const rangeText = route.params.get('range') || defaultRange;
  const group = route.params.get('group') ?? '';
  const nodeParam = route.params.get('node') ?? undefined;
  const edgeParam = route.params.get('edge') ?? undefined;
  const range = parseRange(rangeText);

  const [loaded, setLoaded] = useState<Loaded | null>(null);
  const [loading, setLoading] = useState(true);
  const [pagesSoFar, setPagesSoFar] = useState(0);
  const [error, setError] = useState<unknown>(null);
  const [reload, setReload] = useState(0);
  const [search, setSearch] = useState('');
  const layoutCache = useRef<{ shape: string; layout: Layout } | null>(null);

  useEffect(() => {
    const abort = new AbortController();
    const window = resolveRange(range);
    setLoading(true);
    setPagesSoFar(0);
    setError(null);
    loadServiceGraph(window, group, abort.signal, setPagesSoFar)
      .then((r) => {
        performance.mark('map-data');
        setLoaded({ map: buildMap(r.services), window, pages: r.pages, at: Date.now() });
        setLoading(false);
      })
      .catch((e) => {
        if (abort.signal.aborted) return;
        setError(e);
        setLoading(false);
      });
    return () => abort.abort();
  }, [rangeText, group, reload]);

  const map = loaded?.map ?? null;
  const layout = useMemo(() => {
    if (!map || map.nodes.length === 0) return null;
    const shape = shapeOf(map);
    if (layoutCache.current?.shape === shape) return layoutCache.current.layout;
    const layout = computeLayout(map);
    layoutCache.current = { shape, layout };
    return layout;
  }, [map]);

  const minutes = loaded ? windowMinutes(loaded.window.start, loaded.window.end, loaded.at / 1000) : 1;
  const go = (p: { range?: string; group?: string; node?: string | undefined; edge?: string | undefined }, replace = false) =>
    navigate(mapHash({ range: p.range ?? rangeText, group: p.group ?? group, node: p.node, edge: p.edge }), { replace });
  const keepSelection = { node: nodeParam, edge: edgeParam };

  let selection: Selection | null = null;
  if (map && nodeParam && map.byKey.has(nodeParam)) selection = { kind: 'node', node: map.byKey.get(nodeParam)! };
  else if (map && edgeParam && map.edgeByKey.has(edgeParam)) selection = { kind: 'edge', edge: map.edgeByKey.get(edgeParam)! };
  // Closing the panel returns the focus to the map, on the node it was about.
  const closePanel = () => {
    const key = selection?.kind === 'node' ? selection.node.key : selection?.kind === 'edge' ? selection.edge.from : undefined;
    go({}, true);
    if (key) requestAnimationFrame(() => document.querySelector<SVGGElement>(`.map-node[data-key="${CSS.escape(key)}"]`)?.focus({ preventScroll: true }));
  };
  const missing = map && !loading && (nodeParam || edgeParam) && !selection;

  const dimmed = useMemo(() => {
    const q = search.trim().toLowerCase();
    if (!map || !q) return null;
    return new Set(map.nodes.filter((n) => !(nodeTitle(n).toLowerCase().includes(q) || n.type.toLowerCase().includes(q))).map((n) => n.key));
  }, [map, search]);

  const onSearchKey = (e: KeyboardEvent) => {
    if (e.key !== 'Enter' || !map || !dimmed) return;
    const hit = map.nodes.find((n) => !dimmed.has(n.key));
    if (hit) go({ node: hit.key }, true);
  };

  return (
    <div class="map-view">
      <div class="toolbar" role="search" aria-label="Service map scope">
        <TimeRangePicker id="map-range" value={rangeText} onChange={(r) => go({ range: r, ...keepSelection })} />
        <GroupSelect value={group} allLabel="Default (all traces)" onChange={(g) => go({ group: g, ...keepSelection })} />
        <button type="button" onClick={() => setReload((n) => n + 1)} disabled={loading} aria-label="Refresh the map">
          Refresh
        </button>
        <label class="field map-search">
          Find a service
          <input type="search" value={search} placeholder="name or type" onInput={(e) => setSearch(e.currentTarget.value)} onKeyDown={onSearchKey} />
        </label>
        <span class="grow" />
        <span class="small muted map-status" role="status">
          {loading ? (
            <Loading label={pagesSoFar > 0 ? `Loading (${pagesSoFar} pages)` : 'Loading the map'} />
          ) : map ? (
            `${map.nodes.length} nodes · ${map.edges.length} edges · ${describeRange(range)}${loaded && loaded.pages > 1 ? ` · ${loaded.pages} pages merged` : ''}`
          ) : null}
        </span>
      </div>
      <ErrorBanner error={error} context="Could not load the service map" />
      {missing ? (
        <div class="banner warn" role="status">
          The selected {nodeParam ? 'service' : 'edge'} has no data in this range.{' '}
          <button type="button" class="link" onClick={() => go({}, true)}>
            Clear the selection
          </button>
        </div>
      ) : null}
      <div class="map-body">
        <div class="map-main">
          {map && layout ? (
            <Graph
              map={map}
              layout={layout}
              minutes={minutes}
              selectedNode={selection?.kind === 'node' ? selection.node.key : undefined}
              selectedEdge={selection?.kind === 'edge' ? selection.edge.key : undefined}
              dimmed={dimmed}
              onSelectNode={(key) => go({ node: key }, true)}
              onSelectEdge={(key) => go({ edge: key }, true)}
              onClear={() => go({}, true)}
            />
          ) : map && !loading ? (
            <div class="empty map-empty">
              <p>No traces in {describeRange(range).toLowerCase()}{group ? ` for group ${group}` : ''}.</p>
              <p class="small">Send segments to this server, or look further back:</p>
              <div class="row" style={{ justifyContent: 'center' }}>
                {['1d', '7d', '30d']
                  .filter((r) => r !== rangeText)
                  .map((r) => (
                    <button type="button" onClick={() => go({ range: r })}>
                      {describeRange(parseRange(r))}
                    </button>
                  ))}
              </div>
            </div>
          ) : !error ? (
            <div class="empty">
              <Loading label="Loading the service map" />
            </div>
          ) : null}
          {map && layout ? <Legend /> : null}
        </div>
        {map && loaded && selection ? (
          <Details
            key={selection.kind === 'node' ? `n:${selection.node.key}` : `e:${selection.edge.key}`}
            map={map}
            selection={selection}
            window={loaded.window}
            minutes={minutes}
            range={rangeText}
            group={group}
            reload={loaded.at}
            onClose={closePanel}
            onSelectNode={(key) => go({ node: key }, true)}
            onSelectEdge={(key) => go({ edge: key }, true)}
          />
        ) : null}
      </div>
    </div>
  );
}
