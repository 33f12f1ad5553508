// The console against a server that requires signed requests (serve --keys):
// it asks for keys, signs every request with SigV4, keeps the keys for the
// tab only, asks again when they are refused, and shows AccessDenied plainly.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { BIN } from '../compat/lib/server.mjs';
import { screenshot, startConsole } from './lib/browser.mjs';
import { scenario } from './lib/demo-data.mjs';

// The real AWS SDK client (the compatibility tests' pinned copy) loads data.
const require = createRequire(new URL('../compat/package.json', import.meta.url));
const { XRayClient, PutTraceSegmentsCommand } = require('@aws-sdk/client-xray');

let app;
let dir;
let admin;
let writer;
let facts;

const createKey = (actions) =>
  JSON.parse(execFileSync(BIN, ['keys', 'create', '--keys', join(dir, 'keys.json'), '--actions', actions], { encoding: 'utf8' }));

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'roentgen-keys-'));
  admin = createKey('xray:*,roentgen:*');
  writer = createKey('xray:PutTraceSegments');
  app = await startConsole({ serverArgs: ['--keys', join(dir, 'keys.json')] });
  const client = new XRayClient({
    endpoint: app.server.endpoint,
    region: 'eu-west-1',
    credentials: { accessKeyId: writer.AccessKeyId, secretAccessKey: writer.SecretAccessKey },
    maxAttempts: 1,
  });
  const data = scenario({ count: 40, spreadSeconds: 600, seed: 3 });
  facts = data.traces;
  for (let i = 0; i < data.documents.length; i += 100) {
    const out = await client.send(
      new PutTraceSegmentsCommand({ TraceSegmentDocuments: data.documents.slice(i, i + 100).map((d) => JSON.stringify(d)) }),
    );
    assert.deepEqual(out.UnprocessedTraceSegments ?? [], []);
  }
});

after(async () => {
  await app?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  assert.deepEqual(app?.errors ?? [], []);
});

async function enterKeys(page, key, { region, refused = false } = {}) {
  const dialog = page.getByRole('dialog', { name: 'Access keys' });
  await dialog.waitFor();
  await dialog.getByLabel('Access key ID').fill(key.AccessKeyId);
  await dialog.getByLabel('Secret access key').fill(key.SecretAccessKey);
  if (region) await dialog.getByLabel('Region').fill(region);
  await dialog.getByRole('button', { name: 'Use keys' }).click();
  // A refusal can bring the dialog back before a poll sees it gone: wait for
  // its reason instead.
  if (refused) await dialog.getByRole('alert').filter({ hasText: /refused these keys/ }).waitFor();
  else await dialog.waitFor({ state: 'detached' });
}

test('the console asks for keys, then signs every request with them', async () => {
  const page = await app.newPage();
  const signed = [];
  page.on('request', (r) => {
    if (r.method() === 'POST') signed.push(r.headers().authorization ?? '');
  });
  await page.goto(app.url('#/traces?range=1h'));
  const dialog = page.getByRole('dialog', { name: 'Access keys' });
  await dialog.waitFor();
  assert.match(await dialog.getByRole('alert').textContent(), /requires signed requests \(MissingAuthenticationTokenException\)/);
  await screenshot(page, 'keys-dialog');
  await enterKeys(page, admin, { region: 'eu-west-1' });

  await page.getByTestId('trace-count').filter({ hasText: `${facts.length} traces` }).waitFor();
  await page.locator('[data-trace-id]').first().waitFor();
  const afterKeys = signed.slice(signed.findIndex((a) => a.startsWith('AWS4-HMAC-SHA256')));
  assert.ok(afterKeys.length >= 3);
  for (const auth of afterKeys) assert.match(auth, new RegExp(`^AWS4-HMAC-SHA256 Credential=${admin.AccessKeyId}/\\d{8}/eu-west-1/xray/aws4_request, SignedHeaders=`));

  // The keys last for the tab: a reload keeps them, a new tab asks again.
  await page.reload();
  await page.locator('[data-trace-id]').first().waitFor();
  assert.equal(await page.getByRole('dialog', { name: 'Access keys' }).count(), 0);
  const other = await app.newPage();
  await other.goto(app.url('#/map?range=1h'));
  await other.getByRole('dialog', { name: 'Access keys' }).waitFor();
  await other.close();

  // Other views sign too: the map and a trace.
  await page.goto(app.url(`#/trace/${facts[0].id}`));
  await page.getByText(facts[0].id).first().waitFor();
  await page.getByRole('row', { name: /^Web-Application/ }).first().waitFor();
  await page.close();
});

test('refused keys bring the dialog back with the reason', async () => {
  const page = await app.newPage();
  await page.goto(app.url('#/traces?range=1h'));
  await enterKeys(page, { AccessKeyId: admin.AccessKeyId, SecretAccessKey: 'not-the-secret-0000000000000000000000000' }, { refused: true });
  const dialog = page.getByRole('dialog', { name: 'Access keys' });
  await dialog.waitFor();
  assert.match(await dialog.getByRole('alert').textContent(), /refused these keys: InvalidSignatureException/);
  await enterKeys(page, admin);
  await page.locator('[data-trace-id]').first().waitFor();
  await page.close();
});

test('a key without the read actions sees AccessDenied, plainly', async () => {
  const page = await app.newPage();
  await page.goto(app.url('#/traces?range=1h'));
  await enterKeys(page, writer);
  const banner = page.getByRole('alert').filter({ hasText: 'Access denied' }).first();
  await banner.waitFor();
  assert.match(await banner.textContent(), /Access denied: your keys may not call this operation \(.*xray:GetTraceSummaries/);
  assert.equal(await page.locator('[data-trace-id]').count(), 0);
  await screenshot(page, 'keys-access-denied', { clip: { x: 0, y: 0, width: 1400, height: 400 } });
  // "Forget keys" returns to the unsigned state, which the server refuses.
  await page.getByRole('button', { name: /^Keys:/ }).click();
  await page.getByRole('dialog', { name: 'Access keys' }).getByRole('button', { name: 'Forget keys' }).click();
  await page.getByRole('dialog', { name: 'Access keys' }).waitFor();
  await page.close();
});
