// Filter expressions through the real @aws-sdk/client-xray: exactly the matching
// traces come back, bad expressions are InvalidRequestException naming the column.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  PutTraceSegmentsCommand, GetTraceSummariesCommand, paginateGetTraceSummaries,
} from '@aws-sdk/client-xray';
import { startServer } from './lib/server.mjs';
import { xrayClient } from './lib/clients.mjs';

let server;
let client;
const now = Date.now() / 1000;
const window = { StartTime: new Date((now - 120) * 1000), EndTime: new Date((now + 120) * 1000) };
const newId = () => randomBytes(8).toString('hex');
const newTraceId = () => `1-${Math.floor(now).toString(16).padStart(8, '0')}-${randomBytes(12).toString('hex')}`;

// Builds a browser-style two-service trace: web-app calls api through a subsegment.
function trace({ user, email, responseTime = 0.5, status = 200, apiFault = false, annotations = {} }) {
  const traceId = newTraceId();
  const rootId = newId();
  const callId = newId();
  const start = now - 10;
  const root = {
    name: 'web-app', id: rootId, trace_id: traceId, start_time: start, end_time: start + responseTime,
    http: { request: { method: 'GET', url: 'https://app.example.com/notes' }, response: { status } },
    annotations: { ...(email ? { email } : {}), ...annotations },
    subsegments: [{
      name: 'api', id: callId, start_time: start + 0.01, end_time: start + responseTime - 0.01, namespace: 'remote',
      ...(apiFault ? { fault: true } : {}),
      http: { request: { method: 'POST', url: 'https://api.example.com/graphql' }, response: { status: apiFault ? 502 : 200 } },
    }],
  };
  if (user) root.user = user;
  if (status >= 500) root.fault = true;
  else if (status >= 400) root.error = true;
  const api = {
    name: 'api', id: newId(), trace_id: traceId, parent_id: callId, origin: 'AWS::AppSync::GraphQLAPI',
    start_time: start + 0.02, end_time: start + responseTime - 0.02,
    ...(apiFault ? { fault: true, http: { response: { status: 500 } } } : {}),
  };
  return { traceId, docs: [JSON.stringify(root), JSON.stringify(api)] };
}

const traces = {};
before(async () => {
  server = await startServer();
  client = xrayClient(server.endpoint);
  traces.aliceOk = trace({ user: 'alice', email: 'alice@example.com' });
  traces.bobSlowApiFault = trace({ user: 'bob', email: 'bob@example.com', responseTime: 3, apiFault: true });
  traces.aliceFault = trace({ user: 'alice', email: 'alice@example.com', status: 500, annotations: { age: 31 } });
  traces.carolNotFound = trace({ user: 'carol', status: 404, annotations: { vip: true, age: 22 } });
  const docs = Object.values(traces).flatMap((t) => t.docs);
  const out = await client.send(new PutTraceSegmentsCommand({ TraceSegmentDocuments: docs }));
  assert.deepEqual(out.UnprocessedTraceSegments, []);
});
after(async () => { await server.stop(); });

async function idsMatching(expr) {
  const ids = [];
  for await (const page of paginateGetTraceSummaries({ client }, { ...window, FilterExpression: expr })) {
    ids.push(...page.TraceSummaries.map((s) => s.Id));
  }
  return ids.sort();
}
const idsOf = (...names) => names.map((n) => traces[n].traceId).sort();

const cases = [
  ['annotation.email = "alice@example.com"', ['aliceOk', 'aliceFault']],
  ['annotation.email = "nobody@example.com"', []],
  ['responsetime > 2', ['bobSlowApiFault']],
  ['responseTime <= 2 AND duration < 1', ['aliceOk', 'aliceFault', 'carolNotFound']],
  ['service("api") { fault }', ['bobSlowApiFault']],
  ['edge("web-app", "api") { fault }', ['bobSlowApiFault']],
  ['fault', ['aliceFault']],
  ['error', ['carolNotFound']],
  ['fault OR error', ['aliceFault', 'carolNotFound']],
  ['!ok', ['aliceFault', 'carolNotFound']],
  ['annotation.age > 29', ['aliceFault']],
  ['annotation.vip', ['carolNotFound']],
  ['!annotation.email', ['carolNotFound']],
  ['user = "alice" AND fault', ['aliceFault']],
  ['http.url CONTAINS "/notes" AND http.status = 404', ['carolNotFound']],
  ['service("api") AND NOT service("web-app") { fault }', ['aliceOk', 'bobSlowApiFault', 'carolNotFound']],
];

for (const [expr, expected] of cases) {
  test(`FilterExpression ${expr}`, async () => {
    assert.deepEqual(await idsMatching(expr), idsOf(...expected));
  });
}

test('a bad filter expression is InvalidRequestException naming the column', async () => {
  for (const expr of ['annotation.email = alice', 'service("api") { fault', 'responsetime >', 'fault AND']) {
    await assert.rejects(
      client.send(new GetTraceSummariesCommand({ ...window, FilterExpression: expr })),
      (e) => e.name === 'InvalidRequestException' && /column \d+/.test(e.message),
      expr,
    );
  }
});

test('pagination returns every matching trace exactly once', async () => {
  const many = Array.from({ length: 230 }, () => trace({ annotations: { batch: 'paging' } }));
  for (let i = 0; i < many.length; i += 50) {
    const docs = many.slice(i, i + 50).flatMap((t) => t.docs);
    const out = await client.send(new PutTraceSegmentsCommand({ TraceSegmentDocuments: docs }));
    assert.deepEqual(out.UnprocessedTraceSegments, []);
  }
  let pages = 0;
  const ids = [];
  for await (const page of paginateGetTraceSummaries({ client }, { ...window, FilterExpression: 'annotation.batch = "paging"' })) {
    pages++;
    ids.push(...page.TraceSummaries.map((s) => s.Id));
  }
  assert.equal(ids.length, 230);
  assert.equal(new Set(ids).size, 230);
  assert.deepEqual(ids.sort(), many.map((t) => t.traceId).sort());
  assert.ok(pages >= 2, `expected several pages, got ${pages}`);
});
