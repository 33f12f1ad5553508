// What was acknowledged survives kill -9: a 200 from PutTraceSegments or an
// OTLP export, a datagram the UDP spool took. Restart, all there.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { PutTraceSegmentsCommand, BatchGetTracesCommand, paginateGetTraceSummaries } from '@aws-sdk/client-xray';
import { startServer } from './lib/server.mjs';
import { xrayClient, eventually } from './lib/clients.mjs';
import { AWSXRay, useDaemon } from './lib/sdk.mjs';
import { SpanKind } from '@opentelemetry/api';
import { OTLPTraceExporter as ProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { otel, xrayTraceId } from './lib/otel.mjs';

const newId = () => randomBytes(8).toString('hex');
const newTraceId = () => `1-${Math.floor(Date.now() / 1000).toString(16).padStart(8, '0')}-${randomBytes(12).toString('hex')}`;

// PutTraceSegments answers once its documents are durable in the API spool
// and applied by the writers (the store makes them durable after): kill -9
// right after the answers, and the restarted server replays the spool; with
// --api-spool-max-bytes 0 it answers once they are durable in the store.
for (const [mode, args] of [['through the API spool', []], ['without the API spool', ['--api-spool-max-bytes', '0']]]) {
  test(`segments acknowledged by PutTraceSegments survive kill -9 (${mode})`, async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'roentgen-durability-'));
    try {
      const first = await startServer({ dataDir, args });
      const client = xrayClient(first.endpoint);
      const traceIds = [];
      const now = Date.now() / 1000;
      // Acknowledged writes, issued concurrently so they share group commits.
      await Promise.all(Array.from({ length: 20 }, async (_, batch) => {
        const docs = [];
        const ids = [];
        for (let i = 0; i < 10; i++) {
          const traceId = newTraceId();
          traceIds.push(traceId);
          ids.push(traceId);
          docs.push(JSON.stringify({ name: `svc-${batch}`, id: newId(), trace_id: traceId, start_time: now - 1, end_time: now }));
        }
        const out = await client.send(new PutTraceSegmentsCommand({ TraceSegmentDocuments: docs }));
        assert.deepEqual(out.UnprocessedTraceSegments, []);
        // Answered once applied: this request's traces are readable at once.
        const read = await client.send(new BatchGetTracesCommand({ TraceIds: ids.slice(0, 5) }));
        assert.deepEqual(read.UnprocessedTraceIds, []);
      }));
      const spooled = await metric(first.endpoint, 'roentgen_spool_appended_total\\{spool="api"\\}');
      assert.equal(spooled, args.length === 0 ? traceIds.length : 0);
      const killed = await first.kill9();
      assert.equal(killed.signal, 'SIGKILL');

      const second = await startServer({ dataDir, port: first.port, args });
      try {
        const found = await readBack(second.endpoint, traceIds);
        const missing = traceIds.filter((id) => !found.has(id));
        assert.deepEqual(missing, [], `${missing.length} of ${traceIds.length} acknowledged traces lost`);
      } finally {
        await second.stop();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
}

// Reads `traceIds` back with BatchGetTraces until all are there (a restarted
// server delivers its spools' backlog first); throws after 20 s. The ids found.
async function readBack(endpoint, traceIds) {
  const client = xrayClient(endpoint);
  const found = new Set();
  await eventually(async () => {
    for (let i = 0; i < traceIds.length; i += 5) {
      const ids = traceIds.slice(i, i + 5).filter((id) => !found.has(id));
      if (ids.length === 0) continue;
      const out = await client.send(new BatchGetTracesCommand({ TraceIds: ids }));
      for (const t of out.Traces) found.add(t.Id);
    }
    return found.size === traceIds.length;
  }, { timeoutMs: 20000 });
  return found;
}

// The daemon protocol has no acknowledgement: a datagram the server has
// received is spooled to disk before it is parsed, so kill -9 loses none of
// them (the restarted server delivers the spool's backlog first).
test('UDP segments from aws-xray-sdk-core that reached the spool survive kill -9', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'roentgen-durability-udp-'));
  try {
    const first = await startServer({ dataDir });
    useDaemon(first.port);
    const traceIds = [];
    for (let i = 0; i < 200; i++) {
      const segment = new AWSXRay.Segment(`udp-svc-${i % 4}`);
      segment.addAnnotation('n', i);
      traceIds.push(segment.trace_id);
      segment.close();
    }
    const spooled = await eventually(async () => {
      const text = await (await fetch(`${first.endpoint}/metrics`)).text();
      const m = text.match(/^roentgen_spool_appended_total\{spool="udp"\} (\d+)$/m);
      return m && Number(m[1]) >= traceIds.length ? Number(m[1]) : undefined;
    });
    assert.equal(spooled, traceIds.length);
    const killed = await first.kill9();
    assert.equal(killed.signal, 'SIGKILL');

    const second = await startServer({ dataDir, port: first.port });
    try {
      const found = await readBack(second.endpoint, traceIds);
      assert.equal(found.size, traceIds.length);
    } finally {
      await second.stop();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

// An OTLP export is answered once its spans are durable in the OTLP spool,
// before they are indexed: kill -9 right after the answers loses none.
test('OTLP spans answered 200 survive kill -9', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'roentgen-durability-otlp-'));
  try {
    const first = await startServer({ dataDir, args: ['--otlp-grpc-listen', 'off'] });
    const o = otel('otel-durable', new ProtoExporter({ url: `${first.endpoint}/v1/traces` }));
    const traceIds = [];
    try {
      // Ten exports in flight at a time (the exporter refuses more than 30).
      for (let i = 0; i < 100; i++) {
        const span = o.tracer.startSpan(`GET /items/${i}`, { kind: SpanKind.SERVER });
        span.end();
        traceIds.push(xrayTraceId(span.spanContext().traceId));
        if (i % 10 === 9) await o.flush();  // every export so far answered 200
      }
    } finally {
      const killed = await first.kill9();
      assert.equal(killed.signal, 'SIGKILL');
    }

    const second = await startServer({ dataDir, port: first.port, args: ['--otlp-grpc-listen', 'off'] });
    try {
      const found = await readBack(second.endpoint, traceIds);
      assert.equal(found.size, traceIds.length);
    } finally {
      await second.stop();
    }
    await o.shutdown();
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

async function metric(endpoint, pattern) {
  const text = await (await fetch(`${endpoint}/metrics`)).text();
  const m = text.match(new RegExp(`^${pattern} (\\d+)$`, 'm'));
  return m ? Number(m[1]) : 0;
}

// Every trace id GetTraceSummaries lists in [start, end] (seconds).
async function listedTraceIds(endpoint, start, end) {
  const ids = new Set();
  const pages = paginateGetTraceSummaries({ client: xrayClient(endpoint) },
    { StartTime: new Date(start * 1000), EndTime: new Date(end * 1000) });
  for await (const page of pages) for (const s of page.TraceSummaries) ids.add(s.Id);
  return ids;
}

// Sustained ingest over both transports, killed mid-stream. Acknowledged:
// an HTTP 200, and a datagram the server counted as spooled
// (roentgen_spool_appended_total, read just before the kill). Datagrams are
// spooled in the order they arrive and synced in that order, so with no
// datagram lost in the kernel the first N sent are the N spooled.
test('kill -9 during sustained HTTP and UDP ingest loses nothing acknowledged', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'roentgen-durability-sustained-'));
  try {
    const first = await startServer({ dataDir, args: ['--otlp-grpc-listen', 'off'] });
    const start = Date.now() / 1000;
    let running = true;
    const acknowledged = [];
    const httpWorker = async (w) => {
      const client = xrayClient(first.endpoint);
      while (running) {
        const now = Date.now() / 1000;
        const ids = Array.from({ length: 10 }, newTraceId);
        const docs = ids.map((id) => JSON.stringify({ name: `http-${w}`, id: newId(), trace_id: id, start_time: now - 0.1, end_time: now }));
        try {
          const out = await client.send(new PutTraceSegmentsCommand({ TraceSegmentDocuments: docs }));
          assert.deepEqual(out.UnprocessedTraceSegments, []);
          acknowledged.push(...ids);
        } catch {
          // The kill: not acknowledged.
        }
      }
    };
    const sent = [];
    const udpSender = async () => {
      const sock = dgram.createSocket('udp4');
      while (running) {
        for (let i = 0; i < 20; i++) {
          const now = Date.now() / 1000;
          const id = newTraceId();
          sent.push(id);
          const doc = JSON.stringify({ name: 'udp-sustained', id: newId(), trace_id: id, start_time: now - 0.1, end_time: now });
          await new Promise((resolve) => sock.send(`{"format":"json","version":1}\n${doc}`, first.port, '127.0.0.1', resolve));
        }
        await new Promise((r) => setTimeout(r, 10));  // ~2,000 datagrams a second
      }
      sock.close();
    };
    const workers = [0, 1, 2, 3].map(httpWorker);
    const udp = udpSender();
    // Ingest for 1.5 s, longer where each acknowledgement waits for a remote
    // store (ClickHouse): at most 15 s, until over 100 HTTP traces are in.
    const ingestUntil = Date.now() + 15000;
    await new Promise((r) => setTimeout(r, 1500));
    while (acknowledged.length <= 100 && Date.now() < ingestUntil) await new Promise((r) => setTimeout(r, 100));
    const spooled = await metric(first.endpoint, 'roentgen_spool_appended_total\\{spool="udp"\\}');
    const kernelDrops = await metric(first.endpoint, 'roentgen_udp_datagrams_dropped_total\\{reason="kernel_buffer_full"\\}');
    const ackedAtKill = acknowledged.length;
    const killed = await first.kill9();
    running = false;
    await Promise.all([...workers, udp]);
    assert.equal(killed.signal, 'SIGKILL');
    assert.ok(ackedAtKill > 100 && spooled > 100, `too little ingest before the kill: ${ackedAtKill} HTTP, ${spooled} UDP`);
    t.diagnostic(`killed after ${acknowledged.length} acknowledged HTTP traces and ${spooled} spooled of ${sent.length} datagrams sent`);

    const second = await startServer({ dataDir, port: first.port, args: ['--otlp-grpc-listen', 'off'] });
    try {
      const udpAcknowledged = kernelDrops === 0 ? sent.slice(0, spooled) : [];
      const listed = await eventually(async () => {
        const ids = await listedTraceIds(second.endpoint, start - 5, Date.now() / 1000 + 5);
        const missing = [...acknowledged, ...udpAcknowledged].filter((id) => !ids.has(id));
        return missing.length === 0 && sent.filter((id) => ids.has(id)).length >= spooled ? ids : undefined;
      }, { timeoutMs: 20000, intervalMs: 500 }).catch(() => undefined);
      const ids = listed ?? await listedTraceIds(second.endpoint, start - 5, Date.now() / 1000 + 5);
      assert.deepEqual(acknowledged.filter((id) => !ids.has(id)), [], `of ${acknowledged.length} acknowledged HTTP traces`);
      assert.deepEqual(udpAcknowledged.filter((id) => !ids.has(id)), [], `of ${spooled} spooled datagrams`);
      assert.ok(sent.filter((id) => ids.has(id)).length >= spooled);
    } finally {
      await second.stop();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
