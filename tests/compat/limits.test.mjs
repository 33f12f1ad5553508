// Limits (docs/api.md "Limits") as clients meet them: each refused with
// X-Ray's error and a message naming it, and counted in
// roentgen_limits_exceeded_total{limit}. The reporter's cases: a document over
// 64 KB reported under its Id with the rest of the batch stored (the real
// @aws-sdk/client-xray), and a body that stops mid-stream answered 408 (a raw
// socket: no client sends half a body on purpose).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import {
  PutTraceSegmentsCommand, BatchGetTracesCommand, GetTraceSummariesCommand,
} from '@aws-sdk/client-xray';
import { startServer } from './lib/server.mjs';
import { xrayClient, sleep, eventually } from './lib/clients.mjs';

let server;
let client;
before(async () => {
  server = await startServer({ args: ['--http-request-timeout', '2s', '--retention', '7d'] });
  client = xrayClient(server.endpoint);
});
after(async () => { await server.stop(); });

const newTraceId = () =>
  `1-${Math.floor(Date.now() / 1000).toString(16).padStart(8, '0')}-${randomBytes(12).toString('hex')}`;
const newId = () => randomBytes(8).toString('hex');

// The count of one limit, read on a connection that closes at once (a
// kept-alive one would later meet the idle timeout itself).
async function limitCount(port, limit) {
  const { text } = await rawExchange(port, 'GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
  const m = text.match(new RegExp(`^roentgen_limits_exceeded_total\\{limit="${limit}"\\} (\\d+)\r?$`, 'm'));
  return m ? Number(m[1]) : 0;
}

// Writes `head` on a fresh connection and collects what comes back until
// the server closes it: { text, ms } (ms: from the write to the close).
function rawExchange(port, head) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let text = '';
    let sent = 0;
    socket.on('connect', () => { sent = Date.now(); socket.write(head); });
    socket.on('data', (d) => { text += d; });
    socket.on('error', reject);
    socket.on('close', () => resolve({ text, ms: Date.now() - sent }));
  });
}

test('a document over 64 KB comes back under its Id and the rest of the batch is stored', async () => {
  const now = Date.now() / 1000;
  const good = { name: 'checkout', id: newId(), trace_id: newTraceId(), start_time: now - 1, end_time: now };
  // The id comes after the blob: it is found without parsing the document.
  const big = {
    name: 'upload', trace_id: newTraceId(), start_time: now - 1, end_time: now,
    metadata: { default: { blob: 'x'.repeat(70 * 1024) } }, id: newId(),
  };
  const before = await limitCount(server.port, 'document_size');
  const out = await client.send(new PutTraceSegmentsCommand({
    TraceSegmentDocuments: [JSON.stringify(big), JSON.stringify(good)],
  }));
  const bigText = JSON.stringify(big);
  assert.deepEqual(out.UnprocessedTraceSegments, [{
    Id: big.id, ErrorCode: 'TooLarge',
    Message: `document is ${Buffer.byteLength(bigText)} bytes, over the 65536-byte limit`,
  }]);
  const batch = await client.send(new BatchGetTracesCommand({ TraceIds: [good.trace_id, big.trace_id] }));
  assert.deepEqual(batch.Traces.map((t) => t.Id), [good.trace_id]);
  assert.deepEqual(batch.UnprocessedTraceIds, [big.trace_id]);
  assert.equal(await limitCount(server.port, 'document_size'), before + 1);
});

test('a body that stops mid-stream is answered 408 RequestTimeoutException and counted', async () => {
  const before = await limitCount(server.port, 'request_timeout');
  const body = JSON.stringify({ TraceSegmentDocuments: ['{}'] });
  const head = `POST /TraceSegments HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n` +
    `Content-Length: ${body.length}\r\n\r\n${body.slice(0, body.length / 2)}`;
  const { text, ms } = await rawExchange(server.port, head);
  assert.match(text, /^HTTP\/1\.1 408 Request Timeout\r\n/);
  assert.match(text, /\r\nx-amzn-ErrorType: RequestTimeoutException\r\n/i);
  assert.match(text, /\r\nConnection: close\r\n/i);
  const answer = JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4));
  assert.equal(answer.__type, 'RequestTimeoutException');
  assert.match(answer.message, /within 2 s of its first byte.*--http-request-timeout/);
  assert.ok(ms >= 1900 && ms < 6000, `closed after ${ms} ms`);
  assert.equal(await limitCount(server.port, 'request_timeout'), before + 1);
  // The server goes on serving.
  const ok = await client.send(new GetTraceSummariesCommand({
    StartTime: new Date(Date.now() - 60e3), EndTime: new Date(),
  }));
  assert.ok(Array.isArray(ok.TraceSummaries));
});

test('a query range longer than the retention and a day is an InvalidRequestException naming it', async () => {
  const before = await limitCount(server.port, 'query_range');
  const end = new Date();
  await assert.rejects(
    client.send(new GetTraceSummariesCommand({ StartTime: new Date(end - 9 * 86400e3), EndTime: end })),
    (e) => {
      assert.equal(e.name, 'InvalidRequestException');
      assert.equal(e.$metadata.httpStatusCode, 400);
      assert.match(e.message, /^EndTime: the time range is 9d, longer than the 8d a query may span \(roentgen serve --max-query-range\)/);
      return true;
    });
  const within = await client.send(new GetTraceSummariesCommand({ StartTime: new Date(end - 8 * 86400e3), EndTime: end }));
  assert.ok(Array.isArray(within.TraceSummaries));
  assert.equal(await limitCount(server.port, 'query_range'), before + 1);
});

test('BatchGetTraces over 5 ids is refused and counted', async () => {
  const before = await limitCount(server.port, 'trace_ids');
  await assert.rejects(
    client.send(new BatchGetTracesCommand({ TraceIds: Array.from({ length: 6 }, newTraceId) })),
    { name: 'InvalidRequestException', message: 'TraceIds: at most 5 trace ids per call, got 6' });
  assert.equal(await limitCount(server.port, 'trace_ids'), before + 1);
});

test('an idle connection is closed unanswered and counted', async () => {
  const idle = await startServer({ args: ['--http-idle-timeout', '1s'] });
  try {
    await sleep(1500);  // the start-up's /healthz connection has been closed
    const before = await limitCount(idle.port, 'idle_timeout');
    const { text, ms } = await rawExchange(idle.port, '');
    assert.equal(text, '');
    assert.ok(ms >= 900 && ms < 5000, `closed after ${ms} ms`);
    // Counted just after the close (the socket's timer closes it first).
    assert.equal(await eventually(async () => {
      const n = await limitCount(idle.port, 'idle_timeout');
      return n > before && n;
    }, { timeoutMs: 3000 }), before + 1);
  } finally {
    await idle.stop();
  }
});
