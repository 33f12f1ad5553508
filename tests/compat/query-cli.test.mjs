// `roentgen query` against a running server: the table, JSON lines, and a bad
// expression's exit code and message.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { PutTraceSegmentsCommand } from '@aws-sdk/client-xray';
import { startServer, BIN } from './lib/server.mjs';
import { xrayClient } from './lib/clients.mjs';

let server;
const now = Date.now() / 1000;
const newId = () => randomBytes(8).toString('hex');
const newTraceId = () => `1-${Math.floor(now).toString(16).padStart(8, '0')}-${randomBytes(12).toString('hex')}`;
const alice = newTraceId();
const bob = newTraceId();

before(async () => {
  server = await startServer();
  const doc = (traceId, email, status) => JSON.stringify({
    name: 'web-app', id: newId(), trace_id: traceId, start_time: now - 2, end_time: now - 1.75,
    http: { request: { method: 'GET', url: 'https://app.example.com/' }, response: { status } },
    ...(status >= 500 ? { fault: true } : {}),
    annotations: { email },
  });
  const out = await xrayClient(server.endpoint).send(new PutTraceSegmentsCommand({
    TraceSegmentDocuments: [doc(alice, 'alice@example.com', 200), doc(bob, 'bob@example.com', 502)],
  }));
  assert.deepEqual(out.UnprocessedTraceSegments, []);
});
after(async () => { await server.stop(); });

const query = (...args) => spawnSync(BIN, ['query', '--server', `127.0.0.1:${server.port}`, ...args], { encoding: 'utf8' });

test('JSON lines hold exactly the matching summaries', () => {
  const r = query('annotation.email = "alice@example.com"', '--json', '--since', '10m');
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(lines.map((s) => s.Id), [alice]);
  assert.deepEqual(lines[0].Annotations.email[0].AnnotationValue, { StringValue: 'alice@example.com' });
});

test('the table shows id, response time, status and annotations', () => {
  const r = query('fault', '--from', String(Math.floor(now - 600)));
  assert.equal(r.status, 0, r.stderr);
  const rows = r.stdout.trim().split('\n');
  assert.match(rows[0], /^TRACE ID\s+START \(UTC\)\s+RESPONSE\s+STATUS\s+ANNOTATIONS$/);
  assert.equal(rows.length, 2);
  assert.match(rows[1], new RegExp(`^${bob}\\s+\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\.\\d{3}\\s+0\\.250s\\s+502 FAULT\\s+email=bob@example.com$`));
  assert.equal(r.stderr, '1 trace\n');
});

test('a bad expression exits 2 with the column', () => {
  const r = query('annotation.email = alice');
  assert.equal(r.status, 2);
  assert.match(r.stderr, /^error: InvalidRequestException: .*column \d+/);
});
