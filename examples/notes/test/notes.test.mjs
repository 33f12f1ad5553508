// The seed's scenario end to end, in real Chromium (Debian's, driven by
// playwright-core): scripts/demo.sh starts Roentgen with keys, the notes
// page, API and function; alice and bob sign in, add notes (alice's "boom"
// fails) and sign out in the page. Then, with the read key demo.sh prints:
// annotation.email = "alice@example.com" returns exactly alice's traces,
// through @aws-sdk/client-xray and typed into the console, each one trace
// spanning the browser's, the API's, the function's and the datastore's
// segments; the service map has client → Web-Application → notes-api →
// notes-function (AWS::Lambda) → notes-function (AWS::Lambda::Function) →
// notes.sqlite with the right counts, and the boom as the function's fault.
//
//   cd examples/notes && npm ci && node --test test/
// ROENTGEN_BIN and NOTES_FUNCTION name the binaries (default: build/…);
// CHROMIUM_BIN the browser (/usr/bin/chromium); ROENTGEN_SCREENSHOTS=DIR
// saves the screenshots of the tutorial (docs/tutorial.md) there.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import net from 'node:net';
import { createRequire } from 'node:module';
import { after, before, test } from 'node:test';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const { chromium } = require('playwright-core');
const { XRayClient, BatchGetTracesCommand, GetServiceGraphCommand, GetTraceSummariesCommand } = require('@aws-sdk/client-xray');

const repo = fileURLToPath(new URL('../../../', import.meta.url));
const ROENTGEN_BIN = process.env.ROENTGEN_BIN ?? `${repo}build/src/cli/roentgen`;
const NOTES_FUNCTION = process.env.NOTES_FUNCTION ?? `${repo}build/examples/notes/function/notes_function`;
const CHROMIUM = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium';

let demo;
let urls;
let browser;
let xray;
const problems = [];
const acted = { 'alice@example.com': [], 'bob@example.com': [] }; // trace ids per action, in order
let boomTrace;
const started = Date.now();

async function screenshot(page, name) {
  const dir = process.env.ROENTGEN_SCREENSHOTS;
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: join(dir, `${name}.png`) });
}

async function freePort() {
  const s = net.createServer();
  await new Promise((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address();
  await new Promise((resolve) => s.close(resolve));
  return port;
}

// Starts scripts/demo.sh and reads the three lines it prints once all is up.
async function startDemo() {
  for (const f of [ROENTGEN_BIN, NOTES_FUNCTION]) assert.ok(existsSync(f), `${f} is not built`);
  const env = { ...process.env, ROENTGEN_BIN, NOTES_FUNCTION, ROENTGEN_PORT: String(await freePort()),
    API_PORT: String(await freePort()), WEB_PORT: String(await freePort()) };
  const child = spawn('bash', [`${repo}scripts/demo.sh`], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const api = `http://127.0.0.1:${env.API_PORT}/healthz`;
  let out = '';
  let err = '';
  child.stderr.setEncoding('utf8').on('data', (d) => { err += d; });
  const lines = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`demo.sh did not start in time:\n${err}`)), 60_000);
    child.on('exit', (code) => reject(new Error(`demo.sh exited (${code}):\n${err}`)));
    child.stdout.setEncoding('utf8').on('data', (d) => {
      out += d;
      const m = out.match(/^console: (\S+)\napp: (\S+)\nkeys: (\S+) (\S+)\n/); // nothing else on stdout
      if (m) {
        clearTimeout(timer);
        resolve({ console: m[1], app: m[2], keyId: m[3], secret: m[4], api });
      }
    });
  });
  return { child, lines, stderr: () => err };
}

before(async () => {
  demo = await startDemo();
  urls = demo.lines;
  xray = new XRayClient({ endpoint: urls.console.replace(/\/$/, ''), region: 'us-east-1',
    credentials: { accessKeyId: urls.keyId, secretAccessKey: urls.secret } });
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'] });
});

after(async () => {
  await browser?.close().catch(() => {});
  if (demo) {
    const exited = new Promise((resolve) => demo.child.on('exit', resolve));
    demo.child.kill('SIGTERM');
    await exited;
  }
});

async function newPage() {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) problems.push(`console: ${m.text()}`);
  });
  return page;
}

// One action in the page; returns its trace id (the page shows it).
async function act(page, email, doIt, expectStatus) {
  const before = await page.evaluate(() => window.lastTrace);
  await doIt();
  await page.waitForFunction((b) => window.lastTrace !== b, before);
  await page.getByRole('status').filter({ hasText: expectStatus }).waitFor();
  const id = await page.evaluate(() => window.lastTrace);
  acted[email].push(id);
  return id;
}

async function session(email, notes) {
  const page = await newPage();
  await page.goto(urls.app);
  await page.getByLabel('Email', { exact: true }).fill(email);
  await act(page, email, () => page.getByRole('button', { name: 'Sign in' }).click(), `Signed in as ${email}.`);
  for (const text of notes) {
    await page.getByLabel('Note', { exact: true }).fill(text);
    if (text === 'boom') {
      boomTrace = await act(page, email, () => page.getByRole('button', { name: 'Add note' }).click(), 'Could not add the note: the note said boom');
    } else {
      await act(page, email, () => page.getByRole('button', { name: 'Add note' }).click(), 'Note added.');
      await page.getByRole('list', { name: 'Your notes' }).getByText(text, { exact: true }).waitFor();
    }
    if (email === 'alice@example.com' && text === 'call bob') await screenshot(page, 'notes-app');
  }
  await act(page, email, () => page.getByRole('button', { name: 'Sign out' }).click(), 'Signed out.');
  await page.getByLabel('Email', { exact: true }).waitFor();
  await page.evaluate(() => window.xray.flush());
  assert.deepEqual(await page.evaluate(() => ({ dropped: window.xray.stats.dropped, rejected: window.xray.stats.rejected })),
    { dropped: 0, rejected: 0 });
  await page.close();
}

async function eventually(fn, ms = 20_000) {
  const until = Date.now() + ms;
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      if (Date.now() > until) throw e;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

const range = () => ({ StartTime: new Date(started - 60_000), EndTime: new Date(Date.now() + 60_000) });

test('alice and bob use the app; their notes persist across sign-ins', async () => {
  await session('alice@example.com', ['buy milk', 'call bob', 'boom']);
  await session('bob@example.com', ['hello from bob']);
  // Alice's notes are in the datastore: signing in again lists them.
  const page = await newPage();
  await page.goto(urls.app);
  await page.getByLabel('Email', { exact: true }).fill('alice@example.com');
  await act(page, 'alice@example.com', () => page.getByRole('button', { name: 'Sign in' }).click(), 'Signed in as alice@example.com.');
  const items = await page.getByRole('list', { name: 'Your notes' }).getByRole('listitem').allTextContents();
  assert.deepEqual(items, ['buy milk', 'call bob']);
  await act(page, 'alice@example.com', () => page.getByRole('button', { name: 'Sign out' }).click(), 'Signed out.');
  await page.evaluate(() => window.xray.flush());
  await page.close();
  assert.equal(acted['alice@example.com'].length, 7);
  assert.equal(new Set([...acted['alice@example.com'], ...acted['bob@example.com']]).size, 10, 'a trace per action');
  assert.deepEqual(problems, []);
});

test('annotation.email finds exactly alice\'s traces, each spanning browser, API, function and datastore', async () => {
  const expected = [...acted['alice@example.com']].sort();
  const ids = await eventually(async () => {
    const out = await xray.send(new GetTraceSummariesCommand({ ...range(), FilterExpression: 'annotation.email = "alice@example.com"' }));
    const got = out.TraceSummaries.map((t) => t.Id).sort();
    assert.deepEqual(got, expected);
    return got;
  });
  // The segments come over UDP (API, function) and HTTPS (page) on their
  // own schedules: wait until every trace is whole.
  await eventually(async () => {
    const traces = [];
    for (let i = 0; i < ids.length; i += 5) {
      const out = await xray.send(new BatchGetTracesCommand({ TraceIds: ids.slice(i, i + 5) }));
      traces.push(...out.Traces);
    }
    assert.equal(traces.length, ids.length);
    for (const t of traces) checkTrace(t);
  });
});

function checkTrace(t) {
    const docs = t.Segments.map((s) => JSON.parse(s.Document));
    const by = (pred) => docs.filter(pred);
    const [web] = by((d) => d.name === 'Web-Application');
    const [api] = by((d) => d.origin === 'AWS::AppSync::GraphQLAPI');
    const [service] = by((d) => d.origin === 'AWS::Lambda');
    const [fn] = by((d) => d.origin === 'AWS::Lambda::Function');
    assert.ok(web && api && service && fn, `trace ${t.Id} has the browser's, API's and both Lambda segments`);
    for (const d of [web, api, service, fn]) assert.equal(d.trace_id, t.Id);
    assert.deepEqual(web.annotations.email, 'alice@example.com');
    // The chain of parents: browser call → API resolver → Lambda → function.
    const call = web.subsegments.find((s) => s.id === api.parent_id);
    assert.ok(call, 'the API continues under the page\'s GraphQL subsegment');
    const resolver = api.subsegments.find((s) => s.id === service.parent_id);
    assert.match(resolver.name, /^Mutation\.(signIn|addNote|signOut)$/);
    assert.equal(fn.parent_id, service.id);
    const db = (fn.subsegments ?? []).filter((s) => s.name === 'notes.sqlite');
    assert.ok(db.length >= 1, 'the datastore is in the trace');
    for (const s of db) {
      assert.equal(s.namespace, 'remote');
      assert.equal(s.sql.database_type, 'SQLite');
      assert.match(s.sql.sanitized_query, /^(INSERT|SELECT|DELETE) /);
    }
    if (t.Id === boomTrace) {
      assert.equal(fn.fault, true);
      assert.equal(fn.cause.exceptions[0].message, 'the note said boom');
      assert.equal(fn.cause.exceptions[0].type, 'std::runtime_error');
      assert.equal(web.fault, true, 'the page recorded the failed action');
    } else {
      assert.equal(fn.fault, undefined);
    }
}

test('the console lists exactly alice\'s traces for the filter', async () => {
  const page = await newPage();
  await page.goto(`${urls.console}#/traces?range=1h`);
  const dialog = page.getByRole('dialog', { name: 'Access keys' });
  await dialog.waitFor();
  await dialog.getByLabel('Access key ID').fill(urls.keyId);
  await dialog.getByLabel('Secret access key').fill(urls.secret);
  await dialog.getByRole('button', { name: 'Use keys' }).click();
  await dialog.waitFor({ state: 'detached' });
  const input = page.getByRole('combobox', { name: 'Filter expression' });
  await input.fill('annotation.email = "alice@example.com"');
  await input.press('Enter');
  const expected = [...acted['alice@example.com']].sort();
  await page.getByTestId('trace-count').filter({ hasText: `${expected.length} traces` }).waitFor();
  const listed = await page.locator('[data-trace-id]').evaluateAll((els) => [...new Set(els.map((e) => e.dataset.traceId))].sort());
  assert.deepEqual(listed, expected);
  await screenshot(page, 'notes-traces');
  // The boom's trace: the page, the API, both Lambda segments, the datastore.
  await page.goto(`${urls.console}#/trace/${boomTrace}`);
  await page.getByRole('row', { name: /^Web-Application/ }).first().waitFor();
  await page.getByRole('row', { name: /^notes\.sqlite/ }).first().waitFor();
  await screenshot(page, 'notes-trace');
  await page.close();
  assert.deepEqual(problems, []);
});

test('the service map: client → web app → API → Lambda → function → datastore, with the counts and the fault', async () => {
  const actions = acted['alice@example.com'].length + acted['bob@example.com'].length; // 10
  // Datastore calls: signIn 2 (3 sign-ins), addNote 2 (alice's 2 and bob's
  // 1; alice's boom 1, it fails after its count), signOut 1 (3 sign-outs).
  const dbCalls = 3 * 2 + 3 * 2 + 1 + 3 * 1;
  const graph = await eventually(async () => {
    const out = await xray.send(new GetServiceGraphCommand(range()));
    const fnNode = out.Services.find((s) => s.Type === 'AWS::Lambda::Function');
    assert.equal(fnNode?.SummaryStatistics.TotalCount, actions);
    return out;
  });
  const node = (type, name) => {
    const found = graph.Services.filter((s) => s.Type === type && (!name || s.Name === name));
    assert.equal(found.length, 1, `one ${type} ${name ?? ''} node`);
    return found[0];
  };
  const client = node('client');
  const web = graph.Services.find((s) => s.Name === 'Web-Application');
  const api = node('AWS::AppSync::GraphQLAPI', 'notes-api');
  const lambda = node('AWS::Lambda', 'notes-function');
  const fn = node('AWS::Lambda::Function', 'notes-function');
  const db = graph.Services.find((s) => s.Name === 'notes.sqlite');
  assert.ok(web && db);
  const edge = (from, to) => from.Edges.find((e) => e.ReferenceId === to.ReferenceId)?.SummaryStatistics.TotalCount;
  assert.equal(edge(client, web), actions);
  assert.equal(edge(web, api), actions);
  assert.equal(edge(api, lambda), actions);
  assert.equal(edge(lambda, fn), actions);
  assert.equal(edge(fn, db), dbCalls);
  assert.equal(fn.SummaryStatistics.FaultStatistics.TotalCount, 1, 'the boom');
  assert.equal(lambda.SummaryStatistics.FaultStatistics.TotalCount, 0, 'Lambda itself answered');
  assert.equal(db.SummaryStatistics.TotalCount, dbCalls);

  // The console draws it, and the function's node shows the fault.
  const page = await newPage();
  await page.goto(`${urls.console}#/map?range=1h`);
  const dialog = page.getByRole('dialog', { name: 'Access keys' });
  await dialog.waitFor();
  await dialog.getByLabel('Access key ID').fill(urls.keyId);
  await dialog.getByLabel('Secret access key').fill(urls.secret);
  await dialog.getByRole('button', { name: 'Use keys' }).click();
  await page.locator('.map-canvas[data-drawn]').waitFor({ timeout: 15000 });
  const map = page.getByRole('group', { name: /^Service map: 6 nodes, 5 edges/ });
  await map.waitFor();
  const x = async (name) => (await map.getByRole('button', { name }).boundingBox()).x;
  let last = -Infinity;
  for (const name of [/^Client,/, /^Web-Application,/, /^notes-api,/, /^notes-function, AWS::Lambda,/,
    /^notes-function, AWS::Lambda::Function,/, /^notes\.sqlite,/]) {
    const at = await x(name);
    assert.ok(at > last, `${name} is right of its caller`);
    last = at;
  }
  const fnButton = map.getByRole('button', { name: /^notes-function, AWS::Lambda::Function,/ });
  assert.equal(await fnButton.locator('path.arc.fault').count(), 1);
  await fnButton.click();
  const panel = page.getByRole('complementary', { name: 'Details of notes-function' });
  await panel.waitFor();
  const cell = async (label) => Number((await panel.getByRole('row', { name: new RegExp(`^${label}`) }).getByRole('cell').first().textContent()).replace(/,/g, ''));
  assert.equal(await cell('Faults'), 1);
  assert.equal(await cell('OK'), actions - 1);
  await screenshot(page, 'notes-map');
  await page.close();
  assert.deepEqual(problems, []);
});

test('SIGTERM stops demo.sh and everything it started', async () => {
  const exited = new Promise((resolve) => demo.child.on('exit', (code, signal) => resolve({ code, signal })));
  demo.child.kill('SIGTERM');
  const { code } = await exited;
  assert.equal(code, 143);
  for (const url of [urls.console, urls.app, urls.api]) {
    await assert.rejects(fetch(url), 'nothing answers any more');
  }
  demo = undefined;
});

test('Ctrl-C (SIGINT) stops demo.sh and everything it started', async () => {
  const other = await startDemo();
  assert.equal((await fetch(other.lines.app)).status, 200);
  const exited = new Promise((resolve) => other.child.on('exit', (code) => resolve(code)));
  other.child.kill('SIGINT');
  assert.equal(await exited, 130);
  for (const url of [other.lines.console, other.lines.app, other.lines.api]) await assert.rejects(fetch(url));
});
