// The service map and groups through the real @aws-sdk/client-xray: the seed's
// topology (browser → AppSync → Lambda → function → DynamoDB) gives exactly
// the expected nodes, edges and counts; faults and throttles land in the right
// statistics; groups scope maps and trace searches; the rollups survive a
// restart.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  PutTraceSegmentsCommand, GetServiceGraphCommand, GetTraceGraphCommand,
  GetTimeSeriesServiceStatisticsCommand, CreateGroupCommand, GetGroupCommand, GetGroupsCommand,
  UpdateGroupCommand, DeleteGroupCommand, GetTraceSummariesCommand,
} from '@aws-sdk/client-xray';
import { startServer, STORE_ENGINE } from './lib/server.mjs';
import { xrayClient } from './lib/clients.mjs';

const dataDir = mkdtempSync(join(tmpdir(), 'roentgen-service-map-'));
let server;
let client;
// Whole seconds, at the start of a minute, so every time below is exact and the
// three traces share one minute of the rollups.
const t0 = Math.floor(Date.now() / 60000) * 60 - 300;
const window = { StartTime: new Date((t0 - 60) * 1000), EndTime: new Date((t0 + 600) * 1000) };
const newTraceId = () => `1-${t0.toString(16).padStart(8, '0')}-${randomBytes(12).toString('hex')}`;
const hex16 = (n) => n.toString(16).padStart(16, '0');

// The seed's topology: browser "Web-Application" → AppSync "todo-api" → the
// Lambda service "todo-fn" → the function "todo-fn" → table "Todo-table".
function seedTrace({ start = t0, functionFault = false, dynamoThrottle = false } = {}) {
  const traceId = newTraceId();
  const base = Number(`0x${randomBytes(3).toString('hex')}`) * 16;
  const [browser, api, resolver, facade, fn, dynamo] = [1, 2, 3, 4, 5, 6].map((i) => hex16(base + i));
  const fault = functionFault ? { fault: true, http: { response: { status: 500 } } } : {};
  const docs = [
    { name: 'Web-Application', id: browser, trace_id: traceId, start_time: start, end_time: start + 0.12,
      http: { request: { method: 'POST', url: 'https://todo.example.com/graphql' }, response: { status: 200 } } },
    { name: 'todo-api', id: api, trace_id: traceId, parent_id: browser, origin: 'AWS::AppSync::GraphQLAPI',
      aws: { account_id: '123456789012' }, start_time: start + 0.005, end_time: start + 0.11,
      subsegments: [{ name: 'Lambda resolver', id: resolver, namespace: 'aws', start_time: start + 0.01,
        end_time: start + 0.1, aws: { function_name: 'todo-fn', operation: 'Invoke' }, ...fault }] },
    { name: 'todo-fn', id: facade, trace_id: traceId, parent_id: resolver, origin: 'AWS::Lambda',
      aws: { account_id: '123456789012' }, start_time: start + 0.012, end_time: start + 0.098, ...fault },
    { name: 'todo-fn', id: fn, trace_id: traceId, parent_id: facade, origin: 'AWS::Lambda::Function',
      aws: { account_id: '123456789012' }, start_time: start + 0.02, end_time: start + 0.095, ...fault,
      subsegments: [{ name: 'DynamoDB', id: dynamo, namespace: 'aws', start_time: start + 0.03, end_time: start + 0.045,
        aws: { operation: 'PutItem', table_name: 'Todo-table' },
        ...(dynamoThrottle ? { throttle: true, error: true, http: { response: { status: 429 } } } : {}) }] },
  ];
  return { traceId, docs: docs.map((d) => JSON.stringify(d)) };
}

const stats = (ok, throttle, otherError, fault, responseTime) => ({
  OkCount: ok,
  ErrorStatistics: { ThrottleCount: throttle, OtherCount: otherError, TotalCount: throttle + otherError },
  FaultStatistics: { OtherCount: fault, TotalCount: fault },
  TotalCount: ok + throttle + otherError + fault,
  TotalResponseTime: responseTime,
});
const keyOf = (s) => `${s.Name ?? ''}|${s.Type ?? ''}`;
const byKey = (services) => Object.fromEntries(services.map((s) => [keyOf(s), s]));
function edgeList(services) {
  const keys = Object.fromEntries(services.map((s) => [s.ReferenceId, keyOf(s)]));
  return services.flatMap((s) => s.Edges.map((e) => `${keys[s.ReferenceId]} -> ${keys[e.ReferenceId]}`)).sort();
}
const round = (x) => Math.round(x * 1e6) / 1e6;

const seedNodes = [
  'Todo-table|AWS::DynamoDB::Table', 'Web-Application|', 'todo-api|AWS::AppSync::GraphQLAPI',
  'todo-fn|AWS::Lambda', 'todo-fn|AWS::Lambda::Function', '|client',
];
const seedEdges = [
  'Web-Application| -> todo-api|AWS::AppSync::GraphQLAPI',
  'todo-api|AWS::AppSync::GraphQLAPI -> todo-fn|AWS::Lambda',
  'todo-fn|AWS::Lambda -> todo-fn|AWS::Lambda::Function',
  'todo-fn|AWS::Lambda::Function -> Todo-table|AWS::DynamoDB::Table',
  '|client -> Web-Application|',
];

const traces = {};
before(async () => {
  server = await startServer({ dataDir });
  client = xrayClient(server.endpoint);
  traces.ok = seedTrace();
  traces.fault = seedTrace({ start: t0 + 1, functionFault: true });
  traces.throttle = seedTrace({ start: t0 + 2, dynamoThrottle: true });
  for (const t of Object.values(traces)) {
    const out = await client.send(new PutTraceSegmentsCommand({ TraceSegmentDocuments: t.docs }));
    assert.deepEqual(out.UnprocessedTraceSegments, []);
  }
});
after(async () => {
  await server.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

function assertSeedGraph(services) {
  assert.deepEqual(services.map(keyOf).sort(), seedNodes);
  assert.deepEqual(edgeList(services), seedEdges);
  const s = byKey(services);
  assert.equal(s['Web-Application|'].Root, true);
  assert.equal(s['Web-Application|'].State, 'active');
  assert.equal(s['Todo-table|AWS::DynamoDB::Table'].State, 'unknown');
  assert.equal(s['todo-api|AWS::AppSync::GraphQLAPI'].AccountId, '123456789012');
  assert.deepEqual(s['Web-Application|'].SummaryStatistics, stats(3, 0, 0, 0, 0.36));
  assert.deepEqual(s['todo-fn|AWS::Lambda::Function'].SummaryStatistics, stats(2, 0, 0, 1, 0.225));
  assert.deepEqual(s['todo-fn|AWS::Lambda'].SummaryStatistics, stats(2, 0, 0, 1, 0.258));
  assert.deepEqual(s['Todo-table|AWS::DynamoDB::Table'].SummaryStatistics, stats(2, 1, 0, 0, 0.045));
  // Edges: the fault on API → Lambda (the resolver call), the throttle on function → table.
  assert.deepEqual(s['todo-api|AWS::AppSync::GraphQLAPI'].Edges[0].SummaryStatistics, stats(2, 0, 0, 1, 0.27));
  assert.deepEqual(s['todo-fn|AWS::Lambda::Function'].Edges[0].SummaryStatistics, stats(2, 1, 0, 0, 0.045));
  assert.deepEqual(s['|client'].Edges[0].SummaryStatistics, stats(3, 0, 0, 0, 0.36));
  const histogramCount = s['Web-Application|'].ResponseTimeHistogram.reduce((n, h) => n + h.Count, 0);
  assert.equal(histogramCount, 3);
}

test('GetServiceGraph: the seed topology with exact nodes, edges and counts', async () => {
  const out = await client.send(new GetServiceGraphCommand(window));
  assert.equal(out.StartTime.getTime(), window.StartTime.getTime());
  assert.equal(out.EndTime.getTime(), window.EndTime.getTime());
  assert.equal(out.ContainsOldGroupVersions, false);
  assert.equal(out.NextToken, undefined);
  assertSeedGraph(out.Services);
});

test('GetTraceGraph: the services of the given traces', async () => {
  const out = await client.send(new GetTraceGraphCommand({ TraceIds: [traces.throttle.traceId] }));
  assert.deepEqual(out.Services.map(keyOf).sort(), seedNodes);
  assert.deepEqual(edgeList(out.Services), seedEdges);
  const s = byKey(out.Services);
  assert.deepEqual(s['Todo-table|AWS::DynamoDB::Table'].SummaryStatistics, stats(0, 1, 0, 0, 0.015));
  assert.deepEqual(s['todo-fn|AWS::Lambda::Function'].SummaryStatistics, stats(1, 0, 0, 0, 0.075));
});

test('GetTimeSeriesServiceStatistics: service and edge series', async () => {
  const out = await client.send(new GetTimeSeriesServiceStatisticsCommand({
    ...window, EntitySelectorExpression: 'service("todo-fn")', Period: 60, ForecastStatistics: true,
  }));
  assert.equal(out.ContainsOldGroupVersions, false);
  assert.equal(out.TimeSeriesServiceStatistics.length, 1);
  const [point] = out.TimeSeriesServiceStatistics;
  assert.equal(point.Timestamp.getTime(), t0 * 1000);
  // Both todo-fn nodes (facade + function) over the three traces.
  assert.deepEqual(point.ServiceSummaryStatistics, stats(4, 0, 0, 2, round(0.258 + 0.225)));
  assert.equal(point.ServiceForecastStatistics, undefined);
  const edge = await client.send(new GetTimeSeriesServiceStatisticsCommand({
    ...window, EntitySelectorExpression: 'edge("todo-fn", "Todo-table")', Period: 300,
  }));
  assert.equal(edge.TimeSeriesServiceStatistics.length, 1);
  assert.deepEqual(edge.TimeSeriesServiceStatistics[0].EdgeSummaryStatistics, stats(2, 1, 0, 0, 0.045));
  assert.equal(edge.TimeSeriesServiceStatistics[0].ServiceSummaryStatistics, undefined);
});

test('groups: create, get, list, update, delete; scope the map and trace searches', async () => {
  const created = await client.send(new CreateGroupCommand({
    GroupName: 'todo-faults', FilterExpression: 'service("todo-fn") { fault }',
    InsightsConfiguration: { InsightsEnabled: false, NotificationsEnabled: false },
    Tags: [{ Key: 'team', Value: 'todo' }],
  }));
  assert.equal(created.Group.GroupName, 'todo-faults');
  assert.equal(created.Group.FilterExpression, 'service("todo-fn") { fault }');
  assert.match(created.Group.GroupARN, /^arn:aws:xray:us-east-1:000000000000:group\/todo-faults\/[A-Z2-7]{26}$/);
  const got = await client.send(new GetGroupCommand({ GroupARN: created.Group.GroupARN }));
  assert.deepEqual(got.Group, created.Group);
  const list = await client.send(new GetGroupsCommand({}));
  assert.deepEqual(list.Groups.map((g) => g.GroupName), ['Default', 'todo-faults']);
  assert.equal(list.Groups[0].GroupARN, 'arn:aws:xray:us-east-1:000000000000:group/Default');

  const summaries = async (expr) => (await client.send(new GetTraceSummariesCommand({ ...window, FilterExpression: expr })))
    .TraceSummaries.map((s) => s.Id).sort();
  assert.deepEqual(await summaries('group.name = "todo-faults"'), [traces.fault.traceId]);

  const faultMap = await client.send(new GetServiceGraphCommand({ ...window, GroupName: 'todo-faults' }));
  assert.deepEqual(edgeList(faultMap.Services), seedEdges);
  const f = byKey(faultMap.Services);
  assert.deepEqual(f['todo-fn|AWS::Lambda::Function'].SummaryStatistics, stats(0, 0, 0, 1, 0.075));
  assert.deepEqual(f['Web-Application|'].SummaryStatistics, stats(1, 0, 0, 0, 0.12));

  const updated = await client.send(new UpdateGroupCommand({ GroupName: 'todo-faults', FilterExpression: 'throttle' }));
  assert.equal(updated.Group.FilterExpression, 'throttle');
  assert.equal(updated.Group.GroupARN, created.Group.GroupARN);
  assert.deepEqual(await summaries('group.arn = "' + created.Group.GroupARN + '"'), [traces.throttle.traceId]);
  const series = await client.send(new GetTimeSeriesServiceStatisticsCommand({
    ...window, GroupARN: created.Group.GroupARN, EntitySelectorExpression: 'service("Todo-table")', Period: 3600,
  }));
  assert.equal(series.TimeSeriesServiceStatistics.length, 1);
  assert.deepEqual(series.TimeSeriesServiceStatistics[0].ServiceSummaryStatistics, stats(0, 1, 0, 0, 0.015));

  await client.send(new DeleteGroupCommand({ GroupName: 'todo-faults' }));
  await assert.rejects(client.send(new GetGroupCommand({ GroupName: 'todo-faults' })),
    (e) => e.name === 'InvalidRequestException' && /not found/.test(e.message));
  await assert.rejects(client.send(new CreateGroupCommand({ GroupName: 'bad', FilterExpression: 'fault AND' })),
    (e) => e.name === 'InvalidRequestException' && /column \d+/.test(e.message));
  await assert.rejects(client.send(new CreateGroupCommand({ GroupName: 'Default' })),
    (e) => e.name === 'InvalidRequestException');
});

test('the rollups are rebuilt from the store after a restart', async () => {
  await server.stop();
  server = await startServer({ dataDir, port: server.port });
  client = xrayClient(server.endpoint);
  // The block engine persists the rollups with its blocks and loads them; a
  // store shared by several servers (ClickHouse) keeps none in the process;
  // the others rebuild them by a scan of the stored traces.
  const expected = {
    block: /service-graph rollups loaded from \d+ blocks/,
    clickhouse: /service maps are answered from trace scans/,
  }[STORE_ENGINE] ?? /rollups rebuilt from 3 stored traces/;
  assert.match(server.output(), expected);
  const out = await client.send(new GetServiceGraphCommand(window));
  assertSeedGraph(out.Services);
  // A trace changed after the restart replaces its rebuilt graph (counted once).
  const again = await client.send(new PutTraceSegmentsCommand({ TraceSegmentDocuments: traces.ok.docs }));
  assert.deepEqual(again.UnprocessedTraceSegments, []);
  assertSeedGraph((await client.send(new GetServiceGraphCommand(window))).Services);
});
