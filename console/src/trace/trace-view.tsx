// One trace: #/trace/<id>?span=<segment or subsegment id>[&tab=map]. The
// header, the waterfall (or the trace's map) and the selected span's details;
// the URL holds the trace, the selected span and the tab, so a reload or a
// shared link reopens exactly this.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { Trace } from '../api/types';
import { formatHash, navigate, type Route } from '../lib/router';
import { ErrorBanner, Loading } from '../ui/common';
import { criticalPath, sectionsBySpan } from './critical-path';
import { DetailPanel } from './detail-panel';
import type { SpanTree } from './spans';
import { TraceHeader } from './trace-header';
import { TraceMap } from './trace-map';
import { useTrace, useTraceGraph, type GraphState } from './use-trace';
import { Waterfall } from './waterfall';
import { useWaterfallState } from './waterfall-state';

export default function TraceView({ route }: { route: Route }) {
  const id = route.parts[0] ?? '';
  const [reload, setReload] = useState(0);
  const trace = useTrace(id, reload);
  const graph = useTraceGraph(id, reload, trace.status === 'ready');
  useEffect(() => {
    const before = document.title;
    if (id) document.title = `Trace ${id} · Roentgen`;
    return () => {
      document.title = before;
    };
  }, [id]);

  if (!id) return <OpenTrace />;
  if (trace.status === 'ready') return <TraceLoaded key={id} id={id} route={route} trace={trace.trace} tree={trace.tree} graph={graph} />;
  return (
    <div class="tv-page">
      <header class="tv-header">
        <h1 class="tv-title">
          Trace <span class="mono tv-id">{id}</span>
        </h1>
      </header>
      {trace.status === 'notfound' ? (
        <div class="banner warn" role="alert">
          <strong>Trace not found.</strong> The server has no trace <span class="mono">{id}</span> (it came back in
          UnprocessedTraceIds): the id may be mistyped, the trace may have expired, or its segments have not arrived yet.{' '}
          <button type="button" onClick={() => setReload((n) => n + 1)}>
            Try again
          </button>{' '}
          <a href={formatHash('traces')}>Back to the traces list</a>
        </div>
      ) : trace.status === 'error' ? (
        <>
          <ErrorBanner error={trace.error} context="Could not load the trace" />
          <div class="tv-retry">
            <button type="button" onClick={() => setReload((n) => n + 1)}>
              Try again
            </button>
          </div>
        </>
      ) : (
        <div class="empty">
          <Loading label="Loading the trace" />
        </div>
      )}
    </div>
  );
}

function clampPanel(px: number): number {
  return Math.max(340, Math.min(px, Math.round(window.innerWidth * 0.6), 900));
}

// #/trace with no id: ask for one.
function OpenTrace() {
  const [text, setText] = useState('');
  return (
    <div class="tv-page">
      <form
        class="tv-open panel"
        onSubmit={(e) => {
          e.preventDefault();
          const id = text.trim();
          if (id) navigate(formatHash('trace', [id]));
        }}
      >
        <label class="field" for="tv-open-id">
          Trace id
        </label>
        <div class="row">
          <input id="tv-open-id" type="text" class="mono grow" placeholder="1-5759e988-bd862e3fe1be46a994272793" value={text} onInput={(e) => setText((e.target as HTMLInputElement).value)} />
          <button type="submit" class="primary">
            Open trace
          </button>
        </div>
      </form>
    </div>
  );
}

function TraceLoaded({ id, route, trace, tree, graph }: { id: string; route: Route; trace: Trace; tree: SpanTree; graph: GraphState }) {
  const state = useWaterfallState(tree, id, route.params);
  const critical = useMemo(() => sectionsBySpan(criticalPath(tree)), [tree]);
  const [showCritical, setShowCritical] = useState(true);
  const tab = route.params.get('tab') === 'map' ? 'map' : 'timeline';
  const gridRef = useRef<HTMLDivElement | null>(null);
  const panelRef = useRef<HTMLElement | null>(null);
  const [panelWidth, setPanelWidth] = useState(() => clampPanel(Math.round(window.innerWidth * 0.36)));
  const resizing = useRef<{ x: number; w: number } | null>(null);

  const setTab = (t: 'timeline' | 'map') => {
    const next: Record<string, string | undefined> = Object.fromEntries(route.params.entries());
    next.tab = t === 'map' ? 'map' : undefined;
    navigate(formatHash('trace', [id], next), { replace: true });
  };
  // Showing a span always shows the timeline.
  const selectSpan = (i: number) => state.selectSpan(i, { tab: undefined });
  const onMapNode = (name: string, type: string) => {
    const hit =
      tree.order.find((i) => tree.spans[i]!.kind === 'segment' && tree.spans[i]!.name === name && (!type || tree.spans[i]!.doc.origin === type)) ??
      tree.order.find((i) => tree.spans[i]!.name === name);
    if (hit !== undefined) selectSpan(hit);
    else setTab('timeline');
  };
  const openDetails = () => {
    // Enter: into the details (the selected tab), Escape comes back.
    requestAnimationFrame(() => panelRef.current?.querySelector<HTMLElement>('[role="tab"][aria-selected="true"]')?.focus());
  };
  const closeDetails = () => {
    state.select(null);
    gridRef.current?.focus({ preventScroll: true });
  };

  return (
    <div class="tv-page">
      <TraceHeader trace={trace} tree={tree} onSelectSpan={selectSpan} />
      {tree.partial ? (
        <div class="banner warn tv-banner" role="status">
          <strong>Partial trace:</strong> some segments are still in progress (no end time yet); their bars run to the trace's last known moment, hatched.
        </div>
      ) : null}
      {tree.orphans ? (
        <div class="banner warn tv-banner" role="status">
          {tree.orphans === 1 ? 'One segment names a parent' : `${tree.orphans} segments name parents`} this trace does not hold: shown at the top level, marked
          “orphan”.
        </div>
      ) : null}
      {trace.LimitExceeded ? (
        <div class="banner tv-banner" role="status">
          This trace is larger than X-Ray's 500 KB limit (X-Ray would cut it short); Roentgen returned every segment.
        </div>
      ) : null}
      {state.missingSpan ? (
        <div class="banner warn tv-banner" role="status">
          The span <span class="mono">{state.missingSpan}</span> named in the link is not in this trace.
        </div>
      ) : null}
      <div class="tv-main">
        <section class="tv-left panel" aria-label="Trace">
          <div class="tabs tv-view-tabs" role="tablist" aria-label="Trace views">
            {(['timeline', 'map'] as const).map((t) => (
              <button
                type="button"
                role="tab"
                id={`tv-view-${t}`}
                aria-selected={tab === t}
                tabIndex={tab === t ? 0 : -1}
                onClick={() => setTab(t)}
                onKeyDown={(e) => {
                  if (e.key === 'ArrowRight' || e.key === 'ArrowLeft') {
                    e.preventDefault();
                    const other = t === 'map' ? 'timeline' : 'map';
                    setTab(other);
                    document.getElementById(`tv-view-${other}`)?.focus();
                  }
                }}
              >
                {t === 'timeline' ? 'Timeline' : 'Trace map'}
              </button>
            ))}
          </div>
          <div class="tv-left-body" role="tabpanel" aria-labelledby={`tv-view-${tab}`}>
            {tab === 'timeline' ? (
              <Waterfall
                tree={tree}
                state={state}
                critical={critical}
                showCritical={showCritical}
                onShowCritical={setShowCritical}
                onOpenDetails={openDetails}
                gridRef={gridRef}
              />
            ) : (
              <TraceMap state={graph} onNode={onMapNode} />
            )}
          </div>
        </section>
        {state.selected ? (
          <div
            class="tv-panel-splitter"
            role="separator"
            aria-orientation="vertical"
            aria-label="Width of the details panel"
            aria-valuenow={panelWidth}
            tabIndex={0}
            onKeyDown={(e) => {
              if (e.key === 'ArrowLeft' || e.key === 'ArrowRight') {
                e.preventDefault();
                setPanelWidth(clampPanel(panelWidth + (e.key === 'ArrowLeft' ? 32 : -32)));
              }
            }}
            onPointerDown={(e) => {
              (e.currentTarget as HTMLElement).setPointerCapture(e.pointerId);
              resizing.current = { x: e.clientX, w: panelWidth };
            }}
            onPointerMove={(e) => {
              if (resizing.current) setPanelWidth(clampPanel(resizing.current.w - (e.clientX - resizing.current.x)));
            }}
            onPointerUp={() => {
              resizing.current = null;
            }}
          />
        ) : null}
        {state.selected ? (
          <DetailPanel
            width={panelWidth}
            tree={tree}
            node={state.selected}
            critical={showCritical ? critical : null}
            onSelectSpan={selectSpan}
            onClose={closeDetails}
            panelRef={panelRef}
          />
        ) : null}
      </div>
    </div>
  );
}
