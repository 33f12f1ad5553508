// The trace's own map: the services this one trace passed through, left to
// right, each ringed by its ok / error / throttle / fault shares. Clicking a
// node shows its segment in the timeline.
import { useMemo } from 'preact/hooks';
import type { Service } from '../api/types';
import { formatDuration } from '../lib/format';
import { ErrorBanner, Loading } from '../ui/common';
import { dominantStatus, edgePath, layoutGraph, nodeRadius, ringArcs, type GraphNode } from './trace-graph';
import type { GraphState } from './use-trace';

interface Props {
  state: GraphState;
  onNode: (name: string, type: string) => void;
}

export function TraceMap({ state, onNode }: Props) {
  if (state.status === 'loading') return <div class="empty"><Loading label="Loading the trace map" /></div>;
  if (state.status === 'error') return <ErrorBanner error={state.error} context="Trace map" />;
  const services = state.graph.Services ?? [];
  if (services.length === 0) return <div class="empty">The server returned no map for this trace.</div>;
  return <Graph services={services} onNode={onNode} />;
}

function Graph({ services, onNode }: { services: Service[]; onNode: Props['onNode'] }) {
  const g = useMemo(() => layoutGraph(services), [services]);
  const byId = new Map(g.nodes.map((n) => [n.id, n]));
  const label = (n: GraphNode) =>
    `${n.name}${n.type ? ` (${n.type})` : ''}: ${n.count} request${n.count === 1 ? '' : 's'}${n.avg !== undefined ? `, average ${formatDuration(n.avg)}` : ''}, ${(['fault', 'throttle', 'error'] as const)
      .filter((s) => n.shares[s] > 0)
      .map((s) => `${Math.round(n.shares[s] * 100)}% ${s}`)
      .join(', ') || 'all ok'}`;
  return (
    <div class="tv-map">
      <p class="small muted tv-map-legend">
        Each service's ring shows its shares of <span class="tv-sw s-ok" /> OK <span class="tv-sw s-error" /> error{' '}
        <span class="tv-sw s-throttle" /> throttle <span class="tv-sw s-fault" /> fault in this trace; edges are labelled with their average latency.
        Choose a service to see its segment in the timeline.
      </p>
      <svg
        width={g.width}
        height={g.height}
        viewBox={`0 0 ${g.width} ${g.height}`}
        role="group"
        aria-label={`Trace map: ${g.nodes.length} services, ${g.edges.length} calls`}
      >
        <defs>
          <marker id="tv-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
            <path d="M 0 0 L 10 5 L 0 10 z" class="tv-map-arrow" />
          </marker>
        </defs>
        {g.edges.map((e) => {
          const from = byId.get(e.from);
          const to = byId.get(e.to);
          const mid = e.points[Math.floor(e.points.length / 2)];
          return (
            <g class={`tv-map-edge s-${dominantStatus(e.shares)}`}>
              <title>{`${from?.name ?? '?'} → ${to?.name ?? '?'}: ${e.count} call${e.count === 1 ? '' : 's'}${e.avg !== undefined ? `, ${formatDuration(e.avg)}` : ''}`}</title>
              <path d={edgePath(e.points)} marker-end="url(#tv-arrow)" />
              {mid && e.avg !== undefined ? (
                <text x={mid.x} y={mid.y - 4} text-anchor="middle" class="tv-map-edge-label">
                  {formatDuration(e.avg)}
                </text>
              ) : null}
            </g>
          );
        })}
        {g.nodes.map((n) => {
          const cy = n.y - n.height / 2 + nodeRadius + 2;
          return (
            <g
              class="tv-map-node"
              transform={`translate(${n.x} ${cy})`}
              role="button"
              tabIndex={0}
              aria-label={label(n)}
              onClick={() => onNode(n.name, n.type)}
              onKeyDown={(e) => {
                if (e.key === 'Enter' || e.key === ' ') {
                  e.preventDefault();
                  onNode(n.name, n.type);
                }
              }}
            >
              <title>{label(n)}</title>
              <circle r={nodeRadius - 3} class="tv-map-disc" />
              {ringArcs(n.shares, nodeRadius - 1).map((a) => (
                <path d={a.d} class={`tv-map-ring s-${a.status}`} />
              ))}
              <text y={nodeRadius + 14} text-anchor="middle" class="tv-map-name">
                {n.name.length > 24 ? `${n.name.slice(0, 23)}…` : n.name}
              </text>
              <text y={nodeRadius + 26} text-anchor="middle" class="tv-map-type">
                {n.type.replace(/^AWS::/, '')}
              </text>
              {n.avg !== undefined ? (
                <text y={nodeRadius + 38} text-anchor="middle" class="tv-map-type">
                  {formatDuration(n.avg)}
                  {n.count > 1 ? ` · ${n.count} calls` : ''}
                </text>
              ) : null}
            </g>
          );
        })}
      </svg>
    </div>
  );
}
