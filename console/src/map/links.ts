// From a selected node or edge to the queries about it: the filter expression
// of its traces, the entity selector of its time series, and the traces
// view's URL. A node is named as briefly as the map allows: by name when no
// other node shares it, else by id(name, type[, account]) as X-Ray's console
// does, and the client by id(type: "client") (the only form that matches it).
import { quote, responseTimeTerm } from '../lib/filter';
import { formatHash } from '../lib/router';
import type { MapEdge, MapNode, ServiceMap } from './model';

export function entityRef(node: MapNode, map: Pick<ServiceMap, 'nodes'>): string {
  if (node.client) return 'id(type: "client")';
  const sameName = map.nodes.filter((n) => !n.client && n.name === node.name);
  if (sameName.length <= 1) return quote(node.name);
  const parts = [`name: ${quote(node.name)}`];
  if (node.type) parts.push(`type: ${quote(node.type)}`);
  const sameType = sameName.filter((n) => n.type === node.type);
  if (sameType.length > 1 && node.account) parts.push(`account.id: ${quote(node.account)}`);
  return `id(${parts.join(', ')})`;
}

export const nodeFilter = (node: MapNode, map: Pick<ServiceMap, 'nodes'>) => `service(${entityRef(node, map)})`;

export function edgeFilter(edge: MapEdge, map: Pick<ServiceMap, 'nodes' | 'byKey'>): string {
  const from = map.byKey.get(edge.from);
  const to = map.byKey.get(edge.to);
  if (!from || !to) return '';
  return `edge(${entityRef(from, map)}, ${entityRef(to, map)})`;
}

// GetTimeSeriesServiceStatistics takes the same service(…) and edge(…) forms.
export const nodeSelector = nodeFilter;
export const edgeSelector = edgeFilter;

// The time-series period: the finest of X-Ray's usual periods that keeps the
// chart at about 300 points or fewer.
export function choosePeriod(windowSeconds: number): number {
  for (const p of [60, 300, 3600]) if (windowSeconds / p <= 300) return p;
  return 3600;
}

// A range picked on a node's or edge's response-time distribution narrows
// that node's segments (or that edge's calls), not the traces' own response
// time (the traces view's `rt`): the range goes into the sub-filter, as
// X-Ray's console writes it.
export function withResponseTime(filter: string, rt: [number, number] | null): string {
  if (!rt || !filter) return filter;
  const term = Number.isFinite(rt[1]) ? responseTimeTerm(rt[0], rt[1]) : `responsetime >= ${Math.round(rt[0] * 1e6) / 1e6}`;
  return `${filter} { ${term} }`;
}

export function tracesHash(filter: string, scope: { range: string; group: string }): string {
  return formatHash('traces', [], { q: filter, range: scope.range, group: scope.group || undefined });
}

// The map's own URL: range and group, and what is selected.
export function mapHash(p: { range: string; group: string; node?: string | undefined; edge?: string | undefined }): string {
  return formatHash('map', [], { range: p.range, group: p.group || undefined, node: p.node, edge: p.edge });
}
