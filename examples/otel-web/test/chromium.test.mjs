// The OpenTelemetry web SDK recipe (src/tracing.js, bundled by build.mjs) in
// real Chromium (Debian's, driven by playwright-core as the console's e2e
// tests do): a page on loopback calls its API with fetch inside a span that
// carries the user's email as an X-Ray annotation; the trace goes over
// OTLP/HTTP to a real Roentgen, either through the page's backend relay
// (relay.mjs: Roentgen with --keys, the relay signs with a key allowed only
// xray:PutSpans) or straight to /v1/traces (Roentgen without keys, the page's
// origin in --cors-origins). The trace is found with @aws-sdk/client-xray's
// GetTraceSummaries by the annotation, and the X-Amzn-Trace-Id the API
// received is checked against it: Root the trace, Parent the fetch span; the
// API continues the trace with aws-xray-sdk-core's middleware (segments to
// Roentgen over UDP), its segment under the page's fetch subsegment.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { after, before, test } from 'node:test';
import { BIN, startServer } from '../../../tests/compat/lib/server.mjs';
import { eventually, xrayClient } from '../../../tests/compat/lib/clients.mjs';
import { launchBrowser } from '../../../tests/e2e/lib/browser.mjs';
import { createOtlpRelay } from '../relay.mjs';

const require = createRequire(new URL('../../../tests/compat/package.json', import.meta.url));
const { BatchGetTracesCommand, GetTraceSummariesCommand } = require('@aws-sdk/client-xray');
const AWSXRay = require('aws-xray-sdk-core');

const BUNDLE = new URL('../dist/otel-web.js', import.meta.url);
let dir;
let signed; // Roentgen with --keys, reached through the relay
let open; // Roentgen without keys, reached directly (CORS)
let admin;
let reader;
let writerKey; // allowed PutTraceSegments, not PutSpans
let browser;
let app;
const received = []; // what the page's API saw: { path, traceHeader }

const page = (exporterUrl) => `<!doctype html><title>notes</title>
<script type="module">
import { startTracing, withUserSpan } from '/otel-web.js';
const delay = Number(new URLSearchParams(location.search).get('delay') ?? 200);
const { provider, tracer } = startTracing({ serviceName: 'Web-Application', exporterUrl: ${JSON.stringify(exporterUrl)}, scheduledDelayMillis: delay });
window.flush = () => provider.forceFlush();
window.act = (email) => withUserSpan(tracer, 'AddNote', email, async (span) => {
  const res = await fetch('/api/notes?user=' + encodeURIComponent(email), { method: 'POST', body: '{"text":"hi"}' });
  return { status: res.status, traceId: span.spanContext().traceId, spanId: span.spanContext().spanId };
});
window.ready = true;
</script>`;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'roentgen-otel-web-'));
  const keys = join(dir, 'keys.json');
  const create = (...a) => JSON.parse(execFileSync(BIN, ['keys', 'create', '--keys', keys, ...a], { encoding: 'utf8' }));
  const adminKey = create('--actions', 'xray:*', '--name', 'admin');
  const relayKey = create('--actions', 'xray:PutSpans', '--name', 'web-relay');
  writerKey = create('--actions', 'xray:PutTraceSegments', '--name', 'segments-only');
  let relay;
  app = http.createServer(async (req, res) => {
    const url = new URL(req.url, 'http://x');
    if (url.pathname === '/relay') {
      res.writeHead(200, { 'content-type': 'text/html' }).end(page('/v1/traces'));
    } else if (url.pathname === '/direct') {
      res.writeHead(200, { 'content-type': 'text/html' }).end(page(`${open.endpoint}/v1/traces`));
    } else if (url.pathname === '/otel-web.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' }).end(readFileSync(BUNDLE));
    } else if (url.pathname === '/v1/traces') {
      await relay(req, res);
    } else {
      AWSXRay.middleware.traceRequestResponseCycle(req, res);
      for await (const _ of req); // eslint-disable-line no-unused-vars
      received.push({ path: url.pathname + url.search, traceHeader: req.headers['x-amzn-trace-id'] });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"id":"n1"}');
    }
  });
  await new Promise((resolve) => app.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${app.address().port}`;
  app.origin = origin;
  const quiet = ['--otlp-grpc-listen', 'off', '--log-level', 'warn'];
  signed = await startServer({ args: ['--keys', keys, ...quiet] });
  open = await startServer({ args: ['--cors-origins', origin, ...quiet] });
  relay = createOtlpRelay({ endpoint: signed.endpoint, credentials: { accessKeyId: relayKey.AccessKeyId, secretAccessKey: relayKey.SecretAccessKey } });
  admin = xrayClient(signed.endpoint, { accessKeyId: adminKey.AccessKeyId, secretAccessKey: adminKey.SecretAccessKey });
  reader = xrayClient(open.endpoint);
  AWSXRay.setLogger({ error() {}, warn() {}, info() {}, debug() {} });
  AWSXRay.middleware.setDefaultName('notes-api');
  AWSXRay.middleware.disableCentralizedSampling(); // the local default rule: the header's Sampled=1 decides
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await signed?.stop();
  await open?.stop();
  app?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

// Every entity of the trace: segments, their subsegments (nested) and
// subsegments that arrived as documents of their own.
function entities(docs) {
  const all = [];
  const walk = (e) => { all.push(e); (e.subsegments ?? []).forEach(walk); };
  docs.forEach(walk);
  return all;
}

// The trace that `annotation.email` finds, once its fetch subsegment and the
// API's segment are in.
async function traceOf(client, email) {
  const now = Date.now();
  return eventually(async () => {
    const out = await client.send(new GetTraceSummariesCommand({ StartTime: new Date(now - 300_000), EndTime: new Date(now + 60_000),
      FilterExpression: `annotation.email = "${email}"` }));
    if (out.TraceSummaries.length === 0) return undefined;
    const ids = out.TraceSummaries.map((t) => t.Id);
    const traces = await client.send(new BatchGetTracesCommand({ TraceIds: ids }));
    const docs = traces.Traces.flatMap((t) => t.Segments.map((s) => JSON.parse(s.Document)));
    const all = entities(docs.filter((d) => d.name !== 'notes-api')); // the page's
    const complete = all.some((e) => e.http?.request?.url?.includes('/api/notes')) && docs.some((d) => d.name === 'notes-api');
    return complete ? { ids, docs, all } : undefined;
  }, { timeoutMs: 15000 });
}

async function run(path, server, client, email) {
  AWSXRay.setDaemonAddress(`127.0.0.1:${server.port}`);
  const p = await browser.newPage();
  const problems = [];
  p.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  p.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`));
  await p.goto(`${app.origin}${path}`);
  await p.waitForFunction(() => window.ready);
  const r = await p.evaluate((e) => window.act(e), email);
  assert.equal(r.status, 200);

  const { ids, docs, all } = await traceOf(client, email);
  await p.evaluate(() => window.flush());
  assert.deepEqual(problems, []);
  await p.close();

  // An X-Ray trace id: the OpenTelemetry id split after its first 8 hex
  // digits, which are the epoch seconds of its start (AWSXRayIdGenerator).
  const root = `1-${r.traceId.slice(0, 8)}-${r.traceId.slice(8)}`;
  assert.deepEqual(ids, [root]);
  assert.ok(Math.abs(parseInt(r.traceId.slice(0, 8), 16) - Date.now() / 1000) < 120, `epoch in ${r.traceId}`);

  const segment = docs.find((d) => d.id === r.spanId && d.name === 'Web-Application');
  assert.ok(segment, 'the user span is the segment');
  assert.equal(segment.name, 'Web-Application');
  assert.equal(segment.user, email);
  assert.deepEqual(segment.annotations, { email });

  const call = all.find((e) => e.http?.request?.url?.includes('/api/notes'));
  assert.equal(call.namespace, 'remote');
  assert.equal(call.http.request.method, 'POST');
  assert.equal(call.http.request.url, `${app.origin}/api/notes`, 'no query string');
  assert.equal(call.http.response.status, 200);
  assert.ok(call.parent_id === undefined ? segment.subsegments?.includes(call) : call.parent_id === segment.id,
    'the fetch span is under the user span');

  const header = received.find((x) => x.path.includes(encodeURIComponent(email))).traceHeader;
  assert.equal(header, `Root=${root};Parent=${call.id};Sampled=1`);
  const api = docs.find((d) => d.name === 'notes-api');
  assert.deepEqual([api.trace_id, api.parent_id], [root, call.id], 'the API\'s segment is under the fetch subsegment');
}

test('through the backend relay to Roentgen with --keys: the trace found by annotation, the API got Root and Parent and continued it', async () => {
  await run('/relay', signed, admin, 'alice@example.com');
});

test('straight to /v1/traces of Roentgen without keys (CORS): the same trace', async () => {
  await run('/direct', open, reader, 'bob@example.com');
});

test('spans still waiting in the batch when the page goes away are sent (the processor flushes on page hide)', async () => {
  AWSXRay.setDaemonAddress(`127.0.0.1:${signed.port}`);
  const p = await browser.newPage();
  await p.goto(`${app.origin}/relay?delay=600000`);
  await p.waitForFunction(() => window.ready);
  const r = await p.evaluate(() => window.act('carol@example.com'));
  await new Promise((resolve) => setTimeout(resolve, 300)); // the fetch span ends after the response
  await p.goto('about:blank');
  const { ids, docs } = await traceOf(admin, 'carol@example.com');
  assert.deepEqual(ids, [`1-${r.traceId.slice(0, 8)}-${r.traceId.slice(8)}`]);
  assert.ok(docs.some((d) => d.id === r.spanId));
  await p.close();
});

test('with --keys, an unsigned export is refused; the relay passes on a refusal of a key without xray:PutSpans and forwards gzip', async () => {
  const body = JSON.stringify({ resourceSpans: [] });
  const unsigned = await fetch(`${signed.endpoint}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  assert.equal(unsigned.status, 403);
  await unsigned.arrayBuffer();

  const wrong = createOtlpRelay({ endpoint: signed.endpoint, credentials: { accessKeyId: writerKey.AccessKeyId, secretAccessKey: writerKey.SecretAccessKey } });
  const front = http.createServer((req, res) => wrong(req, res));
  await new Promise((resolve) => front.listen(0, '127.0.0.1', resolve));
  try {
    const url = `http://127.0.0.1:${front.address().port}/v1/traces`;
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    assert.equal(res.status, 403);
    assert.match(await res.text(), /PutSpans/);
    const other = await fetch(url, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hi' });
    assert.equal(other.status, 415);
  } finally {
    front.close();
  }
  // The right key, a gzipped body: forwarded with its Content-Encoding.
  const zipped = await fetch(`${app.origin}/v1/traces`, { method: 'POST',
    headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' }, body: gzipSync(body) });
  assert.equal(zipped.status, 200, await zipped.clone().text());
  await zipped.arrayBuffer();
});
