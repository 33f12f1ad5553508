// The console over HTTPS (serve --tls-cert/--tls-key) in Chromium, with a
// certificate made here by Debian's openssl; the data put by the real AWS SDK
// over HTTPS.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { screenshot, startConsole } from './lib/browser.mjs';
import { scenario } from './lib/demo-data.mjs';

const require = createRequire(new URL('../compat/package.json', import.meta.url));
const { XRayClient, PutTraceSegmentsCommand } = require('@aws-sdk/client-xray');

let app;
let dir;
let facts;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'roentgen-https-'));
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
  ], { stdio: 'ignore' });
  const ca = readFileSync(cert);
  app = await startConsole({ tls: { cert, key, ca } });
  const client = new XRayClient({
    endpoint: app.server.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'any', secretAccessKey: 'any' },
    maxAttempts: 1,
    requestHandler: { httpsAgent: new https.Agent({ ca }) },
  });
  const data = scenario({ count: 30, spreadSeconds: 600, seed: 5 });
  facts = data.traces;
  const out = await client.send(new PutTraceSegmentsCommand({
    TraceSegmentDocuments: data.documents.map((d) => JSON.stringify(d)),
  }));
  assert.deepEqual(out.UnprocessedTraceSegments ?? [], []);
});

after(async () => {
  await app?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  assert.deepEqual(app?.errors ?? [], [], 'the pages reported no errors');
});

test('the console works over HTTPS', async () => {
  const page = await app.newPage();
  const response = await page.goto(app.url('#/traces?range=1h'));
  assert.equal(response.status(), 200);
  assert.match(page.url(), /^https:\/\/127\.0\.0\.1:\d+\//);
  await page.getByTestId('trace-count').filter({ hasText: `${facts.length} traces` }).waitFor();
  await page.locator('[data-trace-id]').first().waitFor();
  await screenshot(page, 'https-traces');
});
