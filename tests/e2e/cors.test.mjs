// CORS in real Chromium: a page served from another loopback port (another
// origin) calls the API with fetch, as a browser SDK does, against a server
// with --keys and --cors-origins naming that origin. Requests are signed here
// with the SDK's own signer (@smithy/signature-v4) and sent by the page; the
// browser makes the preflights.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { BIN, startServer } from '../compat/lib/server.mjs';
import { launchBrowser } from './lib/browser.mjs';

const require = createRequire(new URL('../compat/package.json', import.meta.url));
const { SignatureV4 } = require('@smithy/signature-v4');

let dir;
let server;
let browser;
let allowedSite;
let otherSite;
let key;

// A site of one blank page on a free loopback port: an origin of its own.
async function startSite() {
  const site = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end('<!doctype html><title>app</title>');
  });
  await new Promise((resolve) => site.listen(0, '127.0.0.1', resolve));
  return { site, origin: `http://127.0.0.1:${site.address().port}` };
}

// Headers that sign a POST of `body` to the API's `path` (host included in
// the signature; the browser sends the same Host).
async function signedHeaders(path, body) {
  const sha256 = class {
    constructor(secret) { this.h = secret ? createHmac('sha256', secret) : createHash('sha256'); }
    update(data) { this.h.update(data); }
    async digest() { return new Uint8Array(this.h.digest()); }
  };
  const signer = new SignatureV4({
    service: 'xray', region: 'us-east-1', sha256,
    credentials: { accessKeyId: key.AccessKeyId, secretAccessKey: key.SecretAccessKey },
  });
  const url = new URL(server.endpoint);
  const signed = await signer.sign({
    method: 'POST', protocol: 'http:', hostname: url.hostname, port: Number(url.port), path, query: {},
    headers: { 'content-type': 'application/json', host: url.host },
    body,
  });
  return Object.fromEntries(Object.entries(signed.headers).filter(([n]) => n.toLowerCase() !== 'host'));
}

// fetch() from a page of `origin`: { status, errorType, body } or { error }.
async function fetchFrom(origin, path, body, headers) {
  const page = await browser.newPage();
  try {
    await page.goto(`${origin}/`);
    return await page.evaluate(async ({ url, headers, body }) => {
      try {
        const r = await fetch(url, { method: 'POST', headers, body });
        return { status: r.status, errorType: r.headers.get('x-amzn-errortype'), body: await r.text() };
      } catch (e) {
        return { error: String(e) };
      }
    }, { url: `${server.endpoint}${path}`, headers, body });
  } finally {
    await page.close();
  }
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'roentgen-cors-'));
  key = JSON.parse(execFileSync(BIN, ['keys', 'create', '--keys', join(dir, 'keys.json'),
    '--actions', 'xray:PutTraceSegments,xray:GetTraceSummaries'], { encoding: 'utf8' }));
  allowedSite = await startSite();
  otherSite = await startSite();
  server = await startServer({
    args: ['--keys', join(dir, 'keys.json'), '--cors-origins', allowedSite.origin, '--otlp-grpc-listen', 'off'],
  });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  allowedSite?.site.close();
  otherSite?.site.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('a page of an allowed origin puts and finds a segment with signed requests', async () => {
  const now = Date.now() / 1000;
  const traceId = `1-${Math.floor(now).toString(16).padStart(8, '0')}-${randomBytes(12).toString('hex')}`;
  const put = JSON.stringify({ TraceSegmentDocuments: [JSON.stringify({
    name: 'browser-app', id: randomBytes(8).toString('hex'), trace_id: traceId, start_time: now - 1, end_time: now,
  })] });
  const stored = await fetchFrom(allowedSite.origin, '/TraceSegments', put, await signedHeaders('/TraceSegments', put));
  assert.equal(stored.status, 200, JSON.stringify(stored));
  assert.deepEqual(JSON.parse(stored.body).UnprocessedTraceSegments, []);

  const query = JSON.stringify({ StartTime: now - 600, EndTime: now + 60 });
  const found = await fetchFrom(allowedSite.origin, '/TraceSummaries', query, await signedHeaders('/TraceSummaries', query));
  assert.equal(found.status, 200, JSON.stringify(found));
  assert.deepEqual(JSON.parse(found.body).TraceSummaries.map((t) => t.Id), [traceId]);
});

test('the page reads a refusal, x-amzn-errortype included', async () => {
  const refused = await fetchFrom(allowedSite.origin, '/TraceSummaries', '{}', { 'content-type': 'application/json' });
  assert.equal(refused.status, 403);
  assert.equal(refused.errorType, 'MissingAuthenticationTokenException');
});

test('a page of another origin is kept from the API by the browser', async () => {
  const query = JSON.stringify({ StartTime: Date.now() / 1000 - 600, EndTime: Date.now() / 1000 });
  const blocked = await fetchFrom(otherSite.origin, '/TraceSummaries', query, await signedHeaders('/TraceSummaries', query));
  assert.match(blocked.error ?? '', /TypeError: Failed to fetch/);
});
