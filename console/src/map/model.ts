// The service map as the view reads it: nodes keyed by (name, type, account)
// rather than ReferenceId, so a key survives page merges, refreshes and URLs;
// pages of a group-scoped map added together; and the per-node figures the
// map shows (requests per minute, average latency, status shares).
import type { Edge, HistogramEntry, Service, SummaryStatistics } from '../api/types';

export interface Counts {
  total: number;
  ok: number;
  error: number; // 4xx other than 429
  throttle: number; // 429
  fault: number; // 5xx
  responseTime: number; // seconds, summed over `total`
}

export interface MapNode {
  key: string;
  name: string; // '' for the client
  names: string[];
  type: string; // '' when the service sent no origin
  account: string;
  client: boolean;
  root: boolean;
  counts: Counts;
  histogram: HistogramEntry[];
}

export interface MapEdge {
  key: string; // "<from key>~<to key>"
  from: string;
  to: string;
  counts: Counts;
  histogram: HistogramEntry[];
}

export interface ServiceMap {
  nodes: MapNode[];
  edges: MapEdge[];
  byKey: Map<string, MapNode>;
  edgeByKey: Map<string, MapEdge>;
}

// name|type|account with empty trailing parts left out: "Web-Application",
// "notes-fn|AWS::Lambda::Function|123456789012", "|client".
export function nodeKey(s: Pick<Service, 'Name' | 'Type' | 'AccountId'>): string {
  const parts = [s.Name ?? '', s.Type ?? '', s.AccountId ?? ''];
  while (parts.length > 1 && parts[parts.length - 1] === '') parts.pop();
  return parts.join('|');
}

export const edgeKey = (from: string, to: string) => `${from}~${to}`;

export function countsOf(s: SummaryStatistics | undefined): Counts {
  const total = s?.TotalCount ?? 0;
  const fault = s?.FaultStatistics?.TotalCount ?? 0;
  const throttle = s?.ErrorStatistics?.ThrottleCount ?? 0;
  const errorTotal = s?.ErrorStatistics?.TotalCount ?? throttle + (s?.ErrorStatistics?.OtherCount ?? 0);
  const error = Math.max(0, errorTotal - throttle);
  const ok = s?.OkCount ?? Math.max(0, total - fault - errorTotal);
  return { total, ok, error, throttle, fault, responseTime: s?.TotalResponseTime ?? 0 };
}

export function addCounts(a: Counts, b: Counts): Counts {
  return {
    total: a.total + b.total,
    ok: a.ok + b.ok,
    error: a.error + b.error,
    throttle: a.throttle + b.throttle,
    fault: a.fault + b.fault,
    responseTime: a.responseTime + b.responseTime,
  };
}

export const emptyCounts = (): Counts => ({ total: 0, ok: 0, error: 0, throttle: 0, fault: 0, responseTime: 0 });

function toStatistics(c: Counts): SummaryStatistics {
  return {
    OkCount: c.ok,
    ErrorStatistics: { ThrottleCount: c.throttle, OtherCount: c.error, TotalCount: c.error + c.throttle },
    FaultStatistics: { OtherCount: c.fault, TotalCount: c.fault },
    TotalCount: c.total,
    TotalResponseTime: c.responseTime,
  };
}

export function addHistograms(a: HistogramEntry[] | undefined, b: HistogramEntry[] | undefined): HistogramEntry[] {
  if (!a?.length) return b ? [...b] : [];
  if (!b?.length) return [...a];
  const sum = new Map<number, number>();
  for (const e of a) sum.set(e.Value, (sum.get(e.Value) ?? 0) + e.Count);
  for (const e of b) sum.set(e.Value, (sum.get(e.Value) ?? 0) + e.Count);
  return [...sum.entries()].sort((x, y) => x[0] - y[0]).map(([Value, Count]) => ({ Value, Count }));
}

// Pages of a group-scoped GetServiceGraph: each is the graph of its own slice
// of the window, so statistics and histograms add up per service and per
// edge. ReferenceIds are only trusted within their own page.
export function mergePages(pages: Service[][]): Service[] {
  if (pages.length === 1) return pages[0]!;
  const merged = new Map<string, Service>();
  const edgeTargets = new Map<string, Map<string, Edge>>(); // caller key → callee key → edge
  const refIds = new Map<string, number>();
  for (const page of pages) {
    const keyOf = new Map(page.map((s) => [s.ReferenceId, nodeKey(s)]));
    for (const s of page) {
      const key = nodeKey(s);
      const prev = merged.get(key);
      if (!prev) {
        refIds.set(key, s.ReferenceId);
        merged.set(key, { ...s, Edges: [] });
        edgeTargets.set(key, new Map());
      } else {
        prev.Root = Boolean(prev.Root || s.Root);
        prev.Names = [...new Set([...(prev.Names ?? []), ...(s.Names ?? [])])];
        prev.StartTime = minDefined(prev.StartTime, s.StartTime);
        prev.EndTime = maxDefined(prev.EndTime, s.EndTime);
        prev.SummaryStatistics = toStatistics(addCounts(countsOf(prev.SummaryStatistics), countsOf(s.SummaryStatistics)));
        prev.ResponseTimeHistogram = addHistograms(prev.ResponseTimeHistogram, s.ResponseTimeHistogram);
        prev.DurationHistogram = addHistograms(prev.DurationHistogram, s.DurationHistogram);
      }
      const targets = edgeTargets.get(key)!;
      for (const e of s.Edges ?? []) {
        const to = keyOf.get(e.ReferenceId);
        if (to === undefined) continue;
        const prevEdge = targets.get(to);
        if (!prevEdge) targets.set(to, { ...e });
        else {
          prevEdge.StartTime = minDefined(prevEdge.StartTime, e.StartTime);
          prevEdge.EndTime = maxDefined(prevEdge.EndTime, e.EndTime);
          prevEdge.SummaryStatistics = toStatistics(addCounts(countsOf(prevEdge.SummaryStatistics), countsOf(e.SummaryStatistics)));
          prevEdge.ResponseTimeHistogram = addHistograms(prevEdge.ResponseTimeHistogram, e.ResponseTimeHistogram);
        }
      }
    }
  }
  // Edges point at the ReferenceId each callee has in the merged result.
  for (const [key, s] of merged) {
    s.Edges = [...edgeTargets.get(key)!.entries()].map(([to, e]) => ({ ...e, ReferenceId: refIds.get(to)! }));
  }
  return [...merged.values()];
}

function minDefined(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined ? b : b === undefined ? a : Math.min(a, b);
}
function maxDefined(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined ? b : b === undefined ? a : Math.max(a, b);
}

export function buildMap(services: Service[]): ServiceMap {
  const keyOf = new Map<number, string>();
  const nodes: MapNode[] = [];
  const byKey = new Map<string, MapNode>();
  for (const s of services) {
    const key = nodeKey(s);
    keyOf.set(s.ReferenceId, key);
    if (byKey.has(key)) continue;
    const node: MapNode = {
      key,
      name: s.Name ?? '',
      names: s.Names ?? (s.Name ? [s.Name] : []),
      type: s.Type ?? '',
      account: s.AccountId ?? '',
      client: s.Type === 'client',
      root: Boolean(s.Root),
      counts: countsOf(s.SummaryStatistics),
      histogram: s.ResponseTimeHistogram ?? [],
    };
    nodes.push(node);
    byKey.set(key, node);
  }
  const edges: MapEdge[] = [];
  const edgeByKey = new Map<string, MapEdge>();
  for (const s of services) {
    const from = keyOf.get(s.ReferenceId)!;
    for (const e of s.Edges ?? []) {
      const to = keyOf.get(e.ReferenceId);
      if (to === undefined) continue;
      const key = edgeKey(from, to);
      if (edgeByKey.has(key)) continue;
      const edge: MapEdge = { key, from, to, counts: countsOf(e.SummaryStatistics), histogram: e.ResponseTimeHistogram ?? [] };
      edges.push(edge);
      edgeByKey.set(key, edge);
    }
  }
  return { nodes, edges, byKey, edgeByKey };
}

// Minutes of the window the map covers, for requests per minute: a relative
// range's future slack (time.ts resolveRange) does not count.
export function windowMinutes(start: number, end: number, nowSeconds = Date.now() / 1000): number {
  return Math.max(1 / 60, (Math.min(end, nowSeconds) - start) / 60);
}

export const perMinute = (c: Counts, minutes: number) => c.total / minutes;
export const averageLatency = (c: Counts): number | undefined => (c.total > 0 ? c.responseTime / c.total : undefined);

export interface Shares {
  ok: number;
  error: number;
  throttle: number;
  fault: number;
}

export function shares(c: Counts): Shares {
  if (c.total <= 0) return { ok: 0, error: 0, throttle: 0, fault: 0 };
  return { ok: c.ok / c.total, error: c.error / c.total, throttle: c.throttle / c.total, fault: c.fault / c.total };
}

// The node's worst status with a share worth flagging, for the outline X-Ray
// draws around unhealthy nodes.
export function health(c: Counts): 'ok' | 'error' | 'throttle' | 'fault' {
  if (c.fault > 0) return 'fault';
  if (c.throttle > 0) return 'throttle';
  if (c.error > 0) return 'error';
  return 'ok';
}

// Short type labels for the map (the panel shows the full type).
const typeLabels: [RegExp, string][] = [
  [/^client$/, 'Client'],
  [/^AWS::Lambda::Function$/, 'Lambda function'],
  [/^AWS::Lambda$/, 'Lambda'],
  [/^AWS::DynamoDB::Table$/, 'DynamoDB table'],
  [/^AWS::DynamoDB$/, 'DynamoDB'],
  [/^AWS::AppSync::GraphQLAPI$/, 'AppSync API'],
  [/^AWS::ApiGateway::Stage$/, 'API Gateway stage'],
  [/^AWS::SQS::Queue$/, 'SQS queue'],
  [/^AWS::SNS::Topic$/, 'SNS topic'],
  [/^AWS::S3::Bucket$/, 'S3 bucket'],
  [/^AWS::EC2::Instance$/, 'EC2 instance'],
  [/^AWS::ECS::Container$/, 'ECS container'],
  [/^AWS::EKS::Container$/, 'EKS container'],
  [/^AWS::ElasticBeanstalk::Environment$/, 'Elastic Beanstalk'],
  [/^AWS::StepFunctions::StateMachine$/, 'Step Functions'],
  [/^Database::SQL$/, 'SQL database'],
  [/^remote$/, 'Remote'],
];

export function typeLabel(type: string): string {
  if (!type) return 'Service';
  for (const [re, label] of typeLabels) if (re.test(type)) return label;
  return type.replace(/^AWS::/, '').replace(/::/g, ' ');
}

// One or two letters drawn in the node for its kind.
export function typeGlyph(type: string): string {
  if (type === 'remote') return '⇄';
  if (type === 'Database::SQL') return 'SQL';
  if (/^AWS::Lambda/.test(type)) return 'λ';
  if (/^AWS::DynamoDB/.test(type)) return 'DDB';
  if (/^AWS::SQS/.test(type)) return 'SQS';
  if (/^AWS::SNS/.test(type)) return 'SNS';
  if (/^AWS::S3/.test(type)) return 'S3';
  if (/^AWS::AppSync/.test(type)) return 'GQL';
  if (/^AWS::ApiGateway/.test(type)) return 'API';
  if (/^AWS::EC2/.test(type)) return 'EC2';
  if (/^AWS::ECS/.test(type)) return 'ECS';
  if (/^AWS::EKS/.test(type)) return 'EKS';
  return '';
}

export function nodeTitle(n: MapNode): string {
  return n.client ? 'Client' : n.name || '(unnamed)';
}

// Requests per minute as the map prints it: "1,234/min", "12.5/min", "0.35/min".
export function formatRate(perMin: number): string {
  if (!(perMin > 0)) return '0/min';
  if (perMin >= 100) return `${Math.round(perMin).toLocaleString('en-US')}/min`;
  if (perMin >= 1) return `${(Math.round(perMin * 10) / 10).toLocaleString('en-US')}/min`;
  if (perMin >= 0.01) return `${Number(perMin.toPrecision(2))}/min`;
  return '<0.01/min';
}
