// The side panel of a selected node or edge: its statistics, its
// response-time distribution (drag to pick a range), its time series, its
// connections, and "View traces" to the traces view with its filter (and
// the picked response-time range).
import { useState } from 'preact/hooks';
import type { HistogramEntry } from '../api/types';
import { formatCount, formatDuration, formatPercent } from '../lib/format';
import { navigate } from '../lib/router';
import { Histogram } from '../ui/histogram';
import { choosePeriod, edgeFilter, edgeSelector, nodeFilter, nodeSelector, tracesHash, withResponseTime } from './links';
import { averageLatency, type Counts, formatRate, type MapEdge, type MapNode, nodeTitle, perMinute, type ServiceMap, shares, typeLabel } from './model';
import { TimeSeries } from './timeseries';

export type Selection = { kind: 'node'; node: MapNode } | { kind: 'edge'; edge: MapEdge };

interface Props {
  map: ServiceMap;
  selection: Selection;
  window: { start: number; end: number };
  minutes: number;
  range: string;
  group: string;
  reload: number;
  onClose: () => void;
  onSelectNode: (key: string) => void;
  onSelectEdge: (key: string) => void;
}

function Stats({ c, minutes }: { c: Counts; minutes: number }) {
  const s = shares(c);
  const rows: [string, string, number, number][] = [
    ['ok', 'OK', c.ok, s.ok],
    ['error', 'Errors (4xx)', c.error, s.error],
    ['throttle', 'Throttles (429)', c.throttle, s.throttle],
    ['fault', 'Faults (5xx)', c.fault, s.fault],
  ];
  return (
    <>
      <dl class="map-figures">
        <div>
          <dt>Requests</dt>
          <dd>{formatCount(c.total)}</dd>
        </div>
        <div>
          <dt>Rate</dt>
          <dd>{formatRate(perMinute(c, minutes))}</dd>
        </div>
        <div>
          <dt>Avg latency</dt>
          <dd>{formatDuration(averageLatency(c))}</dd>
        </div>
      </dl>
      <div class="map-sharebar" aria-hidden="true">
        {rows.map(([k, , n, share]) => (n > 0 ? <span class={k} style={{ width: `${share * 100}%` }} /> : null))}
      </div>
      <table class="data map-status-table">
        <caption class="sr-only">Requests by status</caption>
        <thead>
          <tr>
            <th scope="col">Status</th>
            <th scope="col" class="num">Count</th>
            <th scope="col" class="num">Share</th>
          </tr>
        </thead>
        <tbody>
          {rows.map(([k, label, n, share]) => (
            <tr>
              <th scope="row">
                <span class={`status ${k}`}>{label}</span>
              </th>
              <td class="num">{formatCount(n)}</td>
              <td class="num">{c.total ? formatPercent(share) : '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

function Connections({ map, node, minutes, onSelectNode, onSelectEdge }: { map: ServiceMap; node: MapNode; minutes: number; onSelectNode: (k: string) => void; onSelectEdge: (k: string) => void }) {
  const incoming = map.edges.filter((e) => e.to === node.key);
  const outgoing = map.edges.filter((e) => e.from === node.key);
  const item = (e: MapEdge, other: string) => {
    const n = map.byKey.get(other);
    return (
      <li>
        <button type="button" class="link" onClick={() => onSelectEdge(e.key)} aria-label={`Edge ${incoming.includes(e) ? 'from' : 'to'} ${n ? nodeTitle(n) : other}`}>
          {n ? nodeTitle(n) : other}
          {n && !n.client && n.type ? <span class="muted small"> {typeLabel(n.type)}</span> : null}
        </button>
        <span class="muted small">
          {formatDuration(averageLatency(e.counts))} · {formatRate(perMinute(e.counts, minutes))}
          {e.counts.fault ? ` · ${formatPercent(shares(e.counts).fault)} faults` : ''}
        </span>
        {n ? (
          <button type="button" class="icon map-goto" aria-label={`Select ${nodeTitle(n)}`} title="Select this node" onClick={() => onSelectNode(n.key)}>
            →
          </button>
        ) : null}
      </li>
    );
  };
  if (!incoming.length && !outgoing.length) return null;
  return (
    <section class="map-section">
      {incoming.length ? (
        <>
          <h3>Called by</h3>
          <ul class="map-connections">{incoming.map((e) => item(e, e.from))}</ul>
        </>
      ) : null}
      {outgoing.length ? (
        <>
          <h3>Calls</h3>
          <ul class="map-connections">{outgoing.map((e) => item(e, e.to))}</ul>
        </>
      ) : null}
    </section>
  );
}

export function Details({ map, selection, window, minutes, range, group, reload, onClose, onSelectNode, onSelectEdge }: Props) {
  const [rt, setRt] = useState<[number, number] | null>(null);
  let title: string;
  let subtitle: string;
  let counts: Counts;
  let histogram: HistogramEntry[];
  let filter: string;
  let selector: string;
  if (selection.kind === 'node') {
    const n = selection.node;
    title = nodeTitle(n);
    subtitle = n.client ? 'Client' : [n.type || 'Service (no type)', n.account ? `account ${n.account}` : ''].filter(Boolean).join(' · ');
    counts = n.counts;
    histogram = n.histogram;
    filter = nodeFilter(n, map);
    selector = nodeSelector(n, map);
  } else {
    const e = selection.edge;
    const from = map.byKey.get(e.from);
    const to = map.byKey.get(e.to);
    title = `${from ? nodeTitle(from) : '?'} → ${to ? nodeTitle(to) : '?'}`;
    subtitle = 'Edge: the calls from one service to the other';
    counts = e.counts;
    histogram = e.histogram;
    filter = edgeFilter(e, map);
    selector = edgeSelector(e, map);
  }
  const tracesFilter = withResponseTime(filter, rt);
  const period = choosePeriod(window.end - window.start);
  const rtText = rt ? `${formatDuration(rt[0])} – ${Number.isFinite(rt[1]) ? formatDuration(rt[1]) : 'slower'}` : '';
  return (
    <aside
      class="map-details"
      aria-label={`Details of ${title}`}
      onKeyDown={(e) => {
        if (e.key === 'Escape' && !(e.target instanceof HTMLInputElement)) {
          e.preventDefault();
          onClose();
        }
      }}
    >
      <div class="map-details-head">
        <div class="grow">
          <h2 class="ellipsis" title={title}>
            {title}
          </h2>
          <div class="muted small ellipsis" title={subtitle}>
            {subtitle}
          </div>
        </div>
        <button type="button" class="icon" aria-label="Close details" title="Close (Esc)" onClick={onClose}>
          ✕
        </button>
      </div>
      <div class="map-details-body">
        <div class="map-actions">
          <button type="button" class="primary" onClick={() => navigate(tracesHash(tracesFilter, { range, group }))}>
            View traces
          </button>
          <code class="map-filter small" title="The filter expression the traces view opens with">
            {tracesFilter}
          </code>
        </div>
        <Stats c={counts} minutes={minutes} />
        <section class="map-section">
          <h3>Response time distribution</h3>
          <Histogram
            label={`Response time distribution of ${title}`}
            series={[{ label: title, entries: histogram }]}
            selection={rt}
            onSelect={setRt}
            height={120}
          />
          <div class="map-rt small">
            {rt ? (
              <>
                <span>
                  Selected: <strong>{rtText}</strong>: View traces shows the traces whose {selection.kind === 'node' ? 'requests to this service' : 'calls on this edge'} took this long
                </span>
                <button type="button" class="link" onClick={() => setRt(null)}>
                  Clear
                </button>
              </>
            ) : (
              <span class="muted">Drag across the chart to pick a response-time range.</span>
            )}
          </div>
        </section>
        <section class="map-section">
          <h3>Activity</h3>
          <TimeSeries selector={selector} kind={selection.kind === 'node' ? 'service' : 'edge'} window={window} period={period} group={group} reload={reload} />
        </section>
        {selection.kind === 'node' ? (
          <Connections map={map} node={selection.node} minutes={minutes} onSelectNode={onSelectNode} onSelectEdge={onSelectEdge} />
        ) : (
          <section class="map-section">
            <h3>Ends</h3>
            <ul class="map-connections">
              {[selection.edge.from, selection.edge.to].map((k, i) => {
                const n = map.byKey.get(k);
                return n ? (
                  <li>
                    <span class="muted small">{i === 0 ? 'From' : 'To'}</span>
                    <button type="button" class="link" onClick={() => onSelectNode(k)}>
                      {nodeTitle(n)}
                    </button>
                    <span class="muted small">{n.client ? '' : typeLabel(n.type)}</span>
                  </li>
                ) : null;
              })}
            </ul>
          </section>
        )}
      </div>
    </aside>
  );
}
