// The built SDK in real Chromium (Debian's, driven by playwright-core as the
// console's e2e tests do): a page served on loopback gets short-lived
// write-only keys from its own backend (which asks Roentgen's
// CreateSessionKeys), traces a GraphQL call, an XMLHttpRequest and a fetch to
// another origin, and sends its segments to a real Roentgen with --keys and
// --cors-origins. The trace is read back with @aws-sdk/client-xray and
// compared with the X-Amzn-Trace-Id headers the page's API received.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { BIN, startServer } from '../../../tests/compat/lib/server.mjs';
import { eventually, xrayClient } from '../../../tests/compat/lib/clients.mjs';
import { launchBrowser } from '../../../tests/e2e/lib/browser.mjs';

const require = createRequire(new URL('../../../tests/compat/package.json', import.meta.url));
const { SignatureV4 } = require('@smithy/signature-v4');
const { BatchGetTracesCommand, CreateSamplingRuleCommand, GetTraceSummariesCommand } = require('@aws-sdk/client-xray');

const BUNDLE = new URL('../dist/xray.js', import.meta.url);
let dir;
let server;
let admin;
let backendKey;
let browser;
let app;
let other;
const received = []; // { path, traceHeader } as the page's API saw them

const sha256 = class {
  constructor(secret) { this.h = secret ? createHmac('sha256', secret) : createHash('sha256'); }
  update(data) { this.h.update(data); }
  async digest() { return new Uint8Array(this.h.digest()); }
};

// The application's backend hands the page write-only keys for 15 minutes,
// made by Roentgen with its own (long-lived) key.
async function sessionKeys() {
  const body = JSON.stringify({ Actions: ['xray:PutTraceSegments', 'xray:GetSamplingRules', 'xray:GetSamplingTargets'], DurationSeconds: 900, Name: 'web' });
  const url = new URL(`${server.endpoint}/roentgen/CreateSessionKeys`);
  const signer = new SignatureV4({ service: 'xray', region: 'us-east-1', sha256,
    credentials: { accessKeyId: backendKey.AccessKeyId, secretAccessKey: backendKey.SecretAccessKey } });
  const signed = await signer.sign({ method: 'POST', protocol: 'http:', hostname: url.hostname, port: Number(url.port), path: url.pathname,
    query: {}, headers: { 'content-type': 'application/json', host: url.host }, body });
  const res = await fetch(url, { method: 'POST', headers: signed.headers, body });
  assert.equal(res.status, 200, await res.clone().text());
  return res.text();
}

const page = (endpoint, otherOrigin) => `<!doctype html><title>notes</title>
<script type="module">
import { XRay } from '/xray.js';
const interval = Number(new URLSearchParams(location.search).get('interval') ?? 200);
window.errors = [];
const xray = new XRay({
  name: 'Web-Application', endpoint: ${JSON.stringify(endpoint)}, region: 'us-east-1', flushIntervalMs: interval,
  credentials: () => fetch('/keys').then((r) => r.json()),
  onError: (e) => window.errors.push(String(e)),
});
xray.instrumentXHR();
window.xray = xray;
window.ready = xray.sampling.refreshRules();
window.act = async (email, name = 'Web-Application') => {
  const seg = xray.beginSegment(name, { user: email, annotations: { email } });
  const answer = await xray.graphql('/graphql', { query: 'mutation AddNote($text: String!) { addNote(text: $text) { id } }', variables: { text: 'hi' } });
  await new Promise((resolve) => { const x = new XMLHttpRequest(); x.open('GET', '/api/notes?user=' + email); x.onloadend = resolve; x.send(); });
  await xray.fetch(${JSON.stringify(otherOrigin)} + '/ping');
  xray.endSegment(seg);
  return { traceId: seg.trace_id, id: seg.id, sampled: seg.sampled, answer, subs: seg.subsegments.map((s) => ({ id: s.id, name: s.name })) };
};
</script>`;

async function listen(handler) {
  const s = http.createServer(handler);
  await new Promise((resolve) => s.listen(0, '127.0.0.1', resolve));
  return { s, origin: `http://127.0.0.1:${s.address().port}` };
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'roentgen-sdk-chromium-'));
  const keys = join(dir, 'keys.json');
  const create = (...a) => JSON.parse(execFileSync(BIN, ['keys', 'create', '--keys', keys, ...a], { encoding: 'utf8' }));
  const adminKey = create('--actions', 'xray:*,roentgen:*', '--name', 'admin');
  backendKey = create('--actions', 'roentgen:CreateSessionKeys,xray:PutTraceSegments,xray:GetSamplingRules,xray:GetSamplingTargets', '--name', 'backend');
  other = await listen((req, res) => {
    received.push({ path: `other${req.url}`, traceHeader: req.headers['x-amzn-trace-id'] });
    res.writeHead(200, { 'access-control-allow-origin': '*', 'content-type': 'text/plain' });
    res.end('pong');
  });
  app = await listen(async (req, res) => {
    const url = new URL(req.url, 'http://x');
    if (url.pathname === '/') {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(page(server.endpoint, other.origin));
    } else if (url.pathname === '/xray.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' });
      res.end(readFileSync(BUNDLE));
    } else if (url.pathname === '/keys') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(await sessionKeys());
    } else {
      let body = '';
      for await (const chunk of req) body += chunk;
      received.push({ path: url.pathname + url.search, traceHeader: req.headers['x-amzn-trace-id'], body });
      const answer = url.pathname === '/graphql' ? '{"data":{"addNote":{"id":"n1"}}}' : '[]';
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': answer.length });
      res.end(answer);
    }
  });
  server = await startServer({ args: ['--keys', keys, '--cors-origins', app.origin, '--otlp-grpc-listen', 'off', '--log-level', 'warn'] });
  admin = xrayClient(server.endpoint, { accessKeyId: adminKey.AccessKeyId, secretAccessKey: adminKey.SecretAccessKey });
  const rule = (RuleName, ServiceName, FixedRate, Priority) => ({ SamplingRule: { RuleName, ServiceName, FixedRate, ReservoirSize: 0,
    Priority, ServiceType: '*', Host: '*', HTTPMethod: '*', URLPath: '*', ResourceARN: '*', Version: 1 } });
  await admin.send(new CreateSamplingRuleCommand(rule('web-all', 'Web-Application', 1, 1)));
  await admin.send(new CreateSamplingRuleCommand(rule('quiet-none', 'Quiet-Application', 0, 2)));
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  app?.s.close();
  other?.s.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function openApp(query = '') {
  const p = await browser.newPage();
  const problems = [];
  p.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  p.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`));
  await p.goto(`${app.origin}/${query}`);
  await p.waitForFunction(() => window.ready);
  await p.evaluate(() => window.ready);
  return { p, problems };
}

async function traceOf(email) {
  const now = Date.now();
  const ids = await eventually(async () => {
    const out = await admin.send(new GetTraceSummariesCommand({ StartTime: new Date(now - 300_000), EndTime: new Date(now + 60_000),
      FilterExpression: `annotation.email = "${email}"` }));
    return out.TraceSummaries.length ? out.TraceSummaries.map((t) => t.Id) : undefined;
  });
  const out = await admin.send(new BatchGetTracesCommand({ TraceIds: ids }));
  return { ids, docs: out.Traces.flatMap((t) => t.Segments.map((s) => JSON.parse(s.Document))) };
}

test('a page traces its calls and sends the segment with session keys; the API got Root and Parent', async () => {
  const { p, problems } = await openApp();
  const r = await p.evaluate(() => window.act('alice@example.com'));
  await p.evaluate(() => window.xray.flush());
  assert.deepEqual(await p.evaluate(() => window.errors), []);
  assert.equal(r.sampled, true);
  assert.deepEqual(r.answer, { data: { addNote: { id: 'n1' } } });
  assert.deepEqual(r.subs.map((s) => s.name), ['AddNote', '127.0.0.1', '127.0.0.1']);

  const { ids, docs } = await traceOf('alice@example.com');
  assert.deepEqual(ids, [r.traceId]);
  const [doc] = docs;
  assert.equal(doc.id, r.id);
  assert.equal(doc.name, 'Web-Application');
  assert.equal(doc.user, 'alice@example.com');
  assert.deepEqual(doc.annotations, { email: 'alice@example.com' });
  const [gql, xhr, ping] = doc.subsegments;
  assert.deepEqual({ id: gql.id, name: gql.name, namespace: gql.namespace, http: gql.http }, {
    id: r.subs[0].id, name: 'AddNote', namespace: 'remote',
    http: { request: { method: 'POST', url: `${app.origin}/graphql`, traced: true }, response: { status: 200, content_length: 32 } } });
  assert.deepEqual(xhr.http, { request: { method: 'GET', url: `${app.origin}/api/notes`, traced: true }, response: { status: 200, content_length: 2 } });
  assert.equal(ping.http.request.url, `${other.origin}/ping`);
  assert.equal(ping.http.request.traced, undefined);

  const at = (path) => received.find((x) => x.path.startsWith(path));
  assert.equal(at('/graphql').traceHeader, `Root=${r.traceId};Parent=${gql.id};Sampled=1`);
  assert.deepEqual(JSON.parse(at('/graphql').body).variables, { text: 'hi' });
  assert.equal(at('/api/notes?user=alice').traceHeader, `Root=${r.traceId};Parent=${xhr.id};Sampled=1`);
  assert.equal(at('other/ping').traceHeader, undefined, 'no header to another origin unless propagateTo names it');
  assert.deepEqual(problems, []);
  await p.close();
});

test('segments still queued when the page goes away are sent with keepalive', async () => {
  const { p, problems } = await openApp('?interval=600000');
  const r = await p.evaluate(() => window.act('bob@example.com'));
  assert.equal(await p.evaluate(() => window.xray.stats.queued), 1, 'waiting for the (long) interval');
  await p.goto('about:blank');
  const { ids } = await traceOf('bob@example.com');
  assert.deepEqual(ids, [r.traceId]);
  assert.deepEqual(problems, []);
  await p.close();
});

test('a segment still open when the page goes away arrives in progress', async () => {
  const { p, problems } = await openApp();
  const r = await p.evaluate(() => {
    const seg = window.xray.beginSegment('Web-Application', { user: 'dave@example.com', annotations: { email: 'dave@example.com' } });
    return { traceId: seg.trace_id, id: seg.id };
  });
  await p.goto('about:blank');
  const { ids, docs } = await traceOf('dave@example.com');
  assert.deepEqual(ids, [r.traceId]);
  assert.deepEqual([docs[0].id, docs[0].in_progress, docs[0].end_time], [r.id, true, undefined]);
  assert.deepEqual(problems, []);
  await p.close();
});

test('a trace the server\'s rules do not sample sends Sampled=0 and no segment', async () => {
  const { p, problems } = await openApp();
  const r = await p.evaluate(() => window.act('carol@example.com', 'Quiet-Application'));
  await p.evaluate(() => window.xray.flush());
  assert.equal(r.sampled, false);
  const header = received.find((x) => x.path === '/graphql' && x.traceHeader?.includes(r.traceId)).traceHeader;
  assert.equal(header, `Root=${r.traceId};Parent=${r.subs[0].id};Sampled=0`);
  assert.deepEqual(await p.evaluate(() => window.xray.stats), { sent: 0, dropped: 0, rejected: 0, queued: 0 });
  assert.deepEqual(await p.evaluate(() => window.errors), []);
  assert.deepEqual(problems, []);
  await p.close();
});
