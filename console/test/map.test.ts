import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Service, SummaryStatistics } from '../src/api/types';
import { seriesColumns } from '../src/map/data';
import { choosePeriod, edgeFilter, entityRef, mapHash, nodeFilter, tracesHash, withResponseTime } from '../src/map/links';
import {
  averageLatency,
  buildMap,
  countsOf,
  formatRate,
  health,
  mergePages,
  nodeKey,
  perMinute,
  shares,
  typeLabel,
  windowMinutes,
} from '../src/map/model';

function stats(ok: number, error: number, throttle: number, fault: number, time: number): SummaryStatistics {
  return {
    OkCount: ok,
    ErrorStatistics: { ThrottleCount: throttle, OtherCount: error, TotalCount: error + throttle },
    FaultStatistics: { OtherCount: fault, TotalCount: fault },
    TotalCount: ok + error + throttle + fault,
    TotalResponseTime: time,
  };
}

// The seed scenario's shape: client → Web-Application → notes-api → notes-fn
// (Lambda) → notes-fn (function) → notes (table).
function scenario(): Service[] {
  return [
    { ReferenceId: 1, Type: 'client', Edges: [{ ReferenceId: 2, SummaryStatistics: stats(8, 1, 0, 1, 5) }], SummaryStatistics: stats(8, 1, 0, 1, 5) },
    { ReferenceId: 2, Name: 'Web-Application', Root: true, Edges: [{ ReferenceId: 3, SummaryStatistics: stats(8, 1, 0, 1, 4.5) }], SummaryStatistics: stats(8, 1, 0, 1, 5) },
    {
      ReferenceId: 3,
      Name: 'notes-api',
      Type: 'AWS::AppSync::GraphQLAPI',
      AccountId: '123456789012',
      Edges: [{ ReferenceId: 4, SummaryStatistics: stats(9, 0, 0, 0, 3) }],
      SummaryStatistics: stats(8, 1, 0, 1, 4.2),
    },
    { ReferenceId: 4, Name: 'notes-fn', Type: 'AWS::Lambda', Edges: [{ ReferenceId: 5, SummaryStatistics: stats(9, 0, 0, 0, 2.9) }], SummaryStatistics: stats(9, 0, 0, 0, 3) },
    {
      ReferenceId: 5,
      Name: 'notes-fn',
      Type: 'AWS::Lambda::Function',
      AccountId: '123456789012',
      Edges: [{ ReferenceId: 6, SummaryStatistics: stats(20, 0, 2, 0, 1), ResponseTimeHistogram: [{ Value: 0.01, Count: 22 }] }],
      SummaryStatistics: stats(7, 0, 1, 1, 2.8),
      ResponseTimeHistogram: [{ Value: 0.2, Count: 8 }, { Value: 0.5, Count: 1 }],
    },
    { ReferenceId: 6, Name: 'notes', Type: 'AWS::DynamoDB::Table', Edges: [], SummaryStatistics: stats(20, 0, 2, 0, 1) },
  ];
}

test('node keys are name|type|account without empty trailing parts', () => {
  assert.equal(nodeKey({ Name: 'Web-Application' }), 'Web-Application');
  assert.equal(nodeKey({ Name: 'notes-fn', Type: 'AWS::Lambda::Function', AccountId: '123' }), 'notes-fn|AWS::Lambda::Function|123');
  assert.equal(nodeKey({ Type: 'client' }), '|client');
  assert.equal(nodeKey({ Name: 'x', AccountId: '1' }), 'x||1');
});

test('counts split errors into 4xx and throttles, and fill what the server left out', () => {
  assert.deepEqual(countsOf(stats(5, 2, 1, 3, 1.5)), { total: 11, ok: 5, error: 2, throttle: 1, fault: 3, responseTime: 1.5 });
  assert.deepEqual(countsOf({ TotalCount: 4, ErrorStatistics: { ThrottleCount: 1, OtherCount: 1 } }), {
    total: 4,
    ok: 2,
    error: 1,
    throttle: 1,
    fault: 0,
    responseTime: 0,
  });
  assert.deepEqual(countsOf(undefined), { total: 0, ok: 0, error: 0, throttle: 0, fault: 0, responseTime: 0 });
});

test('the map keys nodes and edges and keeps both notes-fn nodes apart', () => {
  const map = buildMap(scenario());
  assert.equal(map.nodes.length, 6);
  assert.equal(map.edges.length, 5);
  assert.ok(map.byKey.get('|client')!.client);
  assert.ok(map.byKey.get('Web-Application')!.root);
  assert.ok(map.byKey.has('notes-fn|AWS::Lambda'));
  assert.ok(map.byKey.has('notes-fn|AWS::Lambda::Function|123456789012'));
  const e = map.edgeByKey.get('notes-fn|AWS::Lambda::Function|123456789012~notes|AWS::DynamoDB::Table')!;
  assert.equal(e.counts.total, 22);
  assert.equal(e.histogram[0]!.Count, 22);
});

test('requests per minute, average latency and shares', () => {
  const c = countsOf(stats(7, 0, 1, 2, 5));
  assert.equal(perMinute(c, 5), 2);
  assert.equal(averageLatency(c), 0.5);
  assert.equal(averageLatency(countsOf(undefined)), undefined);
  assert.deepEqual(shares(c), { ok: 0.7, error: 0, throttle: 0.1, fault: 0.2 });
  assert.deepEqual(shares(countsOf(undefined)), { ok: 0, error: 0, throttle: 0, fault: 0 });
  assert.equal(health(c), 'fault');
  assert.equal(health(countsOf(stats(3, 1, 0, 0, 1))), 'error');
  // A relative window's minute of future slack does not dilute the rate.
  assert.equal(windowMinutes(1000, 1000 + 3600 + 60, 1000 + 3600), 60);
  assert.equal(windowMinutes(0, 600, 10_000), 10);
});

test('pages of a group-scoped map add up per service and per edge, whatever their ReferenceIds', () => {
  const a: Service[] = [
    { ReferenceId: 1, Type: 'client', Edges: [{ ReferenceId: 2, SummaryStatistics: stats(2, 0, 0, 1, 3), StartTime: 10 }], SummaryStatistics: stats(2, 0, 0, 1, 3) },
    {
      ReferenceId: 2,
      Name: 'api',
      Root: true,
      StartTime: 10,
      EndTime: 20,
      Edges: [],
      SummaryStatistics: stats(2, 0, 0, 1, 3),
      ResponseTimeHistogram: [{ Value: 1, Count: 3 }],
    },
  ];
  const b: Service[] = [
    { ReferenceId: 7, Type: 'client', Edges: [{ ReferenceId: 8, SummaryStatistics: stats(1, 1, 1, 0, 2), StartTime: 5 }], SummaryStatistics: stats(1, 1, 1, 0, 2) },
    {
      ReferenceId: 8,
      Name: 'api',
      StartTime: 5,
      EndTime: 15,
      Edges: [{ ReferenceId: 9, SummaryStatistics: stats(1, 0, 0, 0, 0.1) }],
      SummaryStatistics: stats(1, 1, 1, 0, 2),
      ResponseTimeHistogram: [{ Value: 1, Count: 1 }, { Value: 0.5, Count: 2 }],
    },
    { ReferenceId: 9, Name: 'db', Type: 'remote', Edges: [], SummaryStatistics: stats(1, 0, 0, 0, 0.1) },
  ];
  const merged = mergePages([a, b]);
  assert.equal(merged.length, 3);
  const api = merged.find((s) => s.Name === 'api')!;
  assert.deepEqual(countsOf(api.SummaryStatistics), { total: 6, ok: 3, error: 1, throttle: 1, fault: 1, responseTime: 5 });
  assert.equal(api.Root, true);
  assert.equal(api.StartTime, 5);
  assert.equal(api.EndTime, 20);
  assert.deepEqual(api.ResponseTimeHistogram, [{ Value: 0.5, Count: 2 }, { Value: 1, Count: 4 }]);
  const map = buildMap(merged);
  assert.equal(map.edgeByKey.get('|client~api')!.counts.total, 6);
  assert.equal(map.edgeByKey.get('api~db|remote')!.counts.total, 1);
  assert.equal(map.edges.length, 2);
  assert.equal(mergePages([a]), a);
});

test('filters and selectors name a node by name unless another node shares it', () => {
  const map = buildMap(scenario());
  const n = (k: string) => map.byKey.get(k)!;
  assert.equal(nodeFilter(n('Web-Application'), map), 'service("Web-Application")');
  assert.equal(nodeFilter(n('notes|AWS::DynamoDB::Table'), map), 'service("notes")');
  assert.equal(nodeFilter(n('|client'), map), 'service(id(type: "client"))');
  assert.equal(
    nodeFilter(n('notes-fn|AWS::Lambda::Function|123456789012'), map),
    'service(id(name: "notes-fn", type: "AWS::Lambda::Function"))',
  );
  assert.equal(edgeFilter(map.edgeByKey.get('|client~Web-Application')!, map), 'edge(id(type: "client"), "Web-Application")');
  assert.equal(
    edgeFilter(map.edgeByKey.get('notes-fn|AWS::Lambda~notes-fn|AWS::Lambda::Function|123456789012')!, map),
    'edge(id(name: "notes-fn", type: "AWS::Lambda"), id(name: "notes-fn", type: "AWS::Lambda::Function"))',
  );
  // Same name and type in two accounts: the account tells them apart.
  const two = buildMap([
    { ReferenceId: 1, Name: 'q "x"', Type: 'AWS::SQS::Queue', AccountId: '1', Edges: [] },
    { ReferenceId: 2, Name: 'q "x"', Type: 'AWS::SQS::Queue', AccountId: '2', Edges: [] },
  ]);
  assert.equal(entityRef(two.nodes[1]!, two), 'id(name: "q \\"x\\"", type: "AWS::SQS::Queue", account.id: "2")');
});

test('the traces link carries the filter, range and group; a picked range narrows the sub-filter', () => {
  assert.equal(withResponseTime('service("a")', [0.2, 0.5]), 'service("a") { responsetime >= 0.2 AND responsetime < 0.5 }');
  assert.equal(withResponseTime('edge("a", "b")', [1.25, Infinity]), 'edge("a", "b") { responsetime >= 1.25 }');
  assert.equal(withResponseTime('service("a")', null), 'service("a")');
  const hash = tracesHash('service("notes-fn")', { range: '1h', group: 'prod' });
  assert.ok(hash.startsWith('#/traces?'));
  const params = new URLSearchParams(hash.slice(hash.indexOf('?') + 1));
  assert.equal(params.get('q'), 'service("notes-fn")');
  assert.equal(params.get('range'), '1h');
  assert.equal(params.get('group'), 'prod');
  const plain = new URLSearchParams(tracesHash('fault', { range: '6h', group: '' }).split('?')[1]);
  assert.equal(plain.has('group'), false);
  const m = mapHash({ range: '1h', group: '', node: 'notes-fn|AWS::Lambda' });
  assert.equal(new URLSearchParams(m.split('?')[1]).get('node'), 'notes-fn|AWS::Lambda');
});

test('the time-series period keeps about 300 points or fewer', () => {
  assert.equal(choosePeriod(3600), 60);
  assert.equal(choosePeriod(5 * 3600), 60);
  assert.equal(choosePeriod(6 * 3600), 300);
  assert.equal(choosePeriod(86400), 300);
  assert.equal(choosePeriod(7 * 86400), 3600);
  assert.equal(choosePeriod(30 * 86400), 3600);
});

test('time-series columns fill the periods the server left out with zeros', () => {
  const cols = seriesColumns(
    [
      { Timestamp: 120, ServiceSummaryStatistics: stats(3, 1, 0, 0, 2), EdgeSummaryStatistics: stats(1, 0, 0, 0, 1) },
      { Timestamp: 300, ServiceSummaryStatistics: stats(0, 0, 1, 1, 4) },
    ],
    'service',
    100,
    400,
    60,
  );
  assert.deepEqual(cols.t, [60, 120, 180, 240, 300, 360]);
  assert.deepEqual(cols.requests, [0, 4, 0, 0, 2, 0]);
  assert.deepEqual(cols.errors, [0, 1, 0, 0, 0, 0]);
  assert.deepEqual(cols.throttles, [0, 0, 0, 0, 1, 0]);
  assert.deepEqual(cols.faults, [0, 0, 0, 0, 1, 0]);
  assert.deepEqual(cols.latency, [null, 0.5, null, null, 2, null]);
  const edge = seriesColumns([{ Timestamp: 120, EdgeSummaryStatistics: stats(1, 0, 0, 0, 1) }], 'edge', 120, 180, 60);
  assert.deepEqual(edge.requests, [1]);
});

test('type labels are short and readable', () => {
  assert.equal(typeLabel('AWS::Lambda::Function'), 'Lambda function');
  assert.equal(typeLabel('AWS::DynamoDB::Table'), 'DynamoDB table');
  assert.equal(typeLabel('AWS::Kinesis::Stream'), 'Kinesis Stream');
  assert.equal(typeLabel(''), 'Service');
});

test('rates read as requests per minute', () => {
  assert.equal(formatRate(0), '0/min');
  assert.equal(formatRate(1234.4), '1,234/min');
  assert.equal(formatRate(12.46), '12.5/min');
  assert.equal(formatRate(0.3456), '0.35/min');
  assert.equal(formatRate(0.001), '<0.01/min');
});
