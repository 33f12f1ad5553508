// Two Roentgen servers over one ClickHouse database (docs/storage.md,
// "ClickHouse engine"): each receives part of every trace's segments, one
// over PutTraceSegments (the real @aws-sdk/client-xray), the other as UDP
// daemon datagrams, and both answer as one server would: the same complete
// summaries (durations, services, fault flags over segments that reached the
// other node), every segment by BatchGetTraces, the same service map; a node
// killed with kill -9 loses nothing it acknowledged.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  PutTraceSegmentsCommand, GetTraceSummariesCommand, BatchGetTracesCommand, GetServiceGraphCommand,
} from '@aws-sdk/client-xray';
import { startServer } from './lib/server.mjs';
import { startClickHouse } from './lib/clickhouse.mjs';
import { xrayClient, eventually } from './lib/clients.mjs';

const root = mkdtempSync(join(tmpdir(), 'roentgen-ch-nodes-'));
let clickhouse;
let nodes = [];
let clients = [];
let store;

const t0 = Math.floor(Date.now() / 60000) * 60 - 300;
const window = { StartTime: new Date((t0 - 60) * 1000), EndTime: new Date((t0 + 600) * 1000) };
const newTraceId = () => `1-${t0.toString(16).padStart(8, '0')}-${randomBytes(12).toString('hex')}`;
const hex16 = (n) => n.toString(16).padStart(16, '0');

// The seed's topology: browser → AppSync → Lambda → function, one document
// per service, so that which node got which document shows in the summary.
function seedTrace(i, { fault = false } = {}) {
  const traceId = newTraceId();
  const start = t0 + i * 0.01;
  const base = Number(`0x${randomBytes(3).toString('hex')}`) * 16;
  const [browser, api, resolver, facade, fn] = [1, 2, 3, 4, 5].map((k) => hex16(base + k));
  const faulted = fault ? { fault: true, http: { response: { status: 500 } } } : {};
  const docs = [
    { name: 'Web-Application', id: browser, trace_id: traceId, start_time: start, end_time: start + 0.12,
      annotations: { n: i },
      http: { request: { method: 'POST', url: 'https://todo.example.com/graphql' }, response: { status: 200 } } },
    { name: 'todo-api', id: api, trace_id: traceId, parent_id: browser, origin: 'AWS::AppSync::GraphQLAPI',
      start_time: start + 0.005, end_time: start + 0.11,
      subsegments: [{ name: 'Lambda resolver', id: resolver, namespace: 'aws', start_time: start + 0.01,
        end_time: start + 0.1, aws: { function_name: 'todo-fn', operation: 'Invoke' }, ...faulted }] },
    { name: 'todo-fn', id: facade, trace_id: traceId, parent_id: resolver, origin: 'AWS::Lambda',
      start_time: start + 0.012, end_time: start + 0.098, ...faulted },
    { name: 'todo-fn', id: fn, trace_id: traceId, parent_id: facade, origin: 'AWS::Lambda::Function',
      start_time: start + 0.02, end_time: start + 0.095, ...faulted },
  ];
  return { traceId, docs: docs.map((d) => JSON.stringify(d)) };
}

function sendUdp(port, docs) {
  const sock = dgram.createSocket('udp4');
  return Promise.all(docs.map((doc) => new Promise((resolve, reject) => {
    sock.send(Buffer.from(`{"format": "json", "version": 1}\n${doc}`), port, '127.0.0.1',
      (e) => (e ? reject(e) : resolve()));
  }))).finally(() => sock.close());
}

const services = (s) => s.ServiceIds.map((x) => `${x.Name}|${(x.Names ?? []).join(',')}|${x.Type ?? ''}`).sort();

async function summariesOn(client, expr) {
  const all = [];
  let NextToken;
  do {
    const out = await client.send(new GetTraceSummariesCommand({ ...window, FilterExpression: expr, NextToken }));
    all.push(...out.TraceSummaries);
    NextToken = out.NextToken;
  } while (NextToken);
  return all;
}

before(async () => {
  clickhouse = await startClickHouse(join(root, 'clickhouse'));
  store = clickhouse.urlFor('nodes_test');
  for (const name of ['a', 'b']) {
    const node = await startServer({ dataDir: join(root, name), args: ['--store', store] });
    nodes.push(node);
    clients.push(xrayClient(node.endpoint));
  }
});
after(async () => {
  for (const node of nodes) await node.stop();
  await clickhouse?.stop();
  rmSync(root, { recursive: true, force: true });
});

test('segments of one trace sent to two nodes: both answer the whole trace', async () => {
  const traces = Array.from({ length: 60 }, (_, i) => seedTrace(i, { fault: i % 3 === 0 }));
  // Sent at once: node a takes the browser and Lambda documents by
  // PutTraceSegments, node b the API and function documents over UDP.
  await Promise.all(traces.map(async (t) => {
    const [browser, api, facade, fn] = t.docs;
    const [put] = await Promise.all([
      clients[0].send(new PutTraceSegmentsCommand({ TraceSegmentDocuments: [browser, facade] })),
      sendUdp(nodes[1].port, [api, fn]),
    ]);
    assert.deepEqual(put.UnprocessedTraceSegments, []);
  }));
  const expectedServices = [
    'Web-Application|Web-Application|', 'todo-api|todo-api|AWS::AppSync::GraphQLAPI',
    'todo-fn|todo-fn|AWS::Lambda', 'todo-fn|todo-fn|AWS::Lambda::Function',
  ];
  for (const client of clients) {
    const all = await eventually(async () => {
      const s = await summariesOn(client, '');
      return s.length === traces.length && s.every((x) => x.ServiceIds.length === 4) ? s : undefined;
    }, { timeoutMs: 20000 });
    for (const s of all) {
      assert.deepEqual(services(s), expectedServices, s.Id);
      assert.equal(s.Duration, 0.12, s.Id);
      assert.equal(s.ResponseTime, 0.12, s.Id);
    }
    const faults = await summariesOn(client, 'service("todo-fn") { fault }');
    assert.deepEqual(faults.map((s) => s.Id).sort(),
      traces.filter((_, i) => i % 3 === 0).map((t) => t.traceId).sort());
    const one = await summariesOn(client, 'annotation.n = 7');
    assert.deepEqual(one.map((s) => s.Id), [traces[7].traceId]);
    const got = await client.send(new BatchGetTracesCommand({ TraceIds: traces.slice(0, 5).map((t) => t.traceId) }));
    assert.equal(got.Traces.length, 5);
    for (const t of got.Traces) assert.equal(t.Segments.length, 4, t.Id);
  }
  // The same map from either node: built from the shared store, not from
  // what each node received.
  const maps = await Promise.all(clients.map((c) => c.send(new GetServiceGraphCommand(window))));
  const edges = (m) => m.Services.map((s) => `${s.Name}|${s.Type ?? ''} ${s.SummaryStatistics.TotalCount}`).sort();
  assert.deepEqual(edges(maps[0]), edges(maps[1]));
  const fn = maps[0].Services.find((s) => s.Type === 'AWS::Lambda::Function');
  assert.equal(fn.SummaryStatistics.TotalCount, traces.length);
  assert.equal(fn.SummaryStatistics.FaultStatistics.TotalCount, 20);
});

test('a node killed with kill -9 loses nothing it acknowledged; the other goes on', async () => {
  const traces = Array.from({ length: 20 }, (_, i) => seedTrace(100 + i));
  for (const t of traces) {
    const out = await clients[0].send(new PutTraceSegmentsCommand({ TraceSegmentDocuments: t.docs }));
    assert.deepEqual(out.UnprocessedTraceSegments, []);
  }
  await nodes[0].kill9();
  const ids = traces.map((t) => t.traceId);
  // BatchGetTraces takes 5 ids a call.
  const batchGet = async (client) => {
    const found = [];
    for (let i = 0; i < ids.length; i += 5) {
      const out = await client.send(new BatchGetTracesCommand({ TraceIds: ids.slice(i, i + 5) }));
      assert.deepEqual(out.UnprocessedTraceIds, []);
      found.push(...out.Traces);
    }
    return found;
  };
  await eventually(async () => {
    const found = await batchGet(clients[1]);
    return found.length === ids.length && found.every((t) => t.Segments.length === 4);
  }, { timeoutMs: 20000 });
  // Restarted on its data dir (its spools), it serves the same store.
  nodes[0] = await startServer({ dataDir: join(root, 'a'), args: ['--store', store] });
  clients[0] = xrayClient(nodes[0].endpoint);
  const again = await batchGet(clients[0]);
  assert.deepEqual(again.map((t) => t.Id).sort(), [...ids].sort());
  for (const t of again) assert.equal(t.Segments.length, 4, t.Id);
});
