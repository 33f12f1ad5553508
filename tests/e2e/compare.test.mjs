// Compare in real Chromium against a real roentgen: two sets (faults against
// OK, and the slow-vs-fast preset) with counts and per-user figures equal to
// the scenario's facts and the fault root cause ranked first; a value clicked
// into A's filter; a bad filter's column; then from the sets to a span-by-span
// diff, an OK trace against an error trace with the spans only one has
// marked, a missing trace chosen by pasting its id, and keyboard use.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { bigTrace, putDocuments, scenario, users } from './lib/demo-data.mjs';
import { screenshot, startConsole } from './lib/browser.mjs';

let app;
let facts;
let documents;
let big;

before(async () => {
  app = await startConsole({ viewport: { width: 1400, height: 1000 } });
  const data = scenario({ count: 200, spreadSeconds: 1500, seed: 31 });
  facts = data.traces;
  documents = data.documents;
  await putDocuments(app.server.endpoint, documents);
  // Two hours back: outside the sets' range, found by its id.
  big = bigTrace({ now: Date.now() / 1000 - 7200, spans: 5000 });
  await putDocuments(app.server.endpoint, big.documents, { batch: 10 });
});

after(async () => {
  await app?.close();
  // Chromium logs every non-2xx answer as an error; those are checked below.
  assert.deepEqual((app?.errors ?? []).filter((e) => !/Failed to load resource/.test(e)), [], 'the pages reported no errors');
  assert.deepEqual(unexpected, [], 'no unexpected error answers');
});

// The only error answer the console should get is the 400 a bad filter is
// meant to get. TraceAnalytics answers are counted: the sets' figures come
// from the server's aggregation, not the console's fallback.
const unexpected = [];
let analyticsAnswers = 0;
async function newPage({ badFilter = false } = {}) {
  const page = await app.newPage();
  page.on('response', (r) => {
    const path = new URL(r.url()).pathname;
    if (path === '/roentgen/TraceAnalytics' && r.status() === 200) analyticsAnswers++;
    if (r.status() < 400 || (r.status() === 400 && badFilter)) return;
    unexpected.push(`${r.status()} ${r.request().method()} ${path}`);
  });
  return page;
}

const count = (pred) => facts.filter(pred).length;
const fmt = (n) => n.toLocaleString('en-US');
// The view's URL parameters (spaces are '+' in them).
const paramsOf = (url) => new URLSearchParams(new URL(url).hash.split('?')[1] ?? '');

async function openCompare(page, query) {
  await page.goto(app.url(`#/compare?${query}`));
  await page.getByTestId('count-a').waitFor({ timeout: 15000 });
}

// A ranked table's rows as [value text, A cell, B cell].
async function tableRows(page, testId) {
  const table = page.getByTestId(testId);
  await table.waitFor();
  return table.locator('tbody tr').evaluateAll((rows) =>
    rows.map((r) => {
      const cells = [...r.querySelectorAll('td')].map((c) => c.textContent.replace(/\s+/g, ' ').trim());
      return cells;
    }),
  );
}

test('faults against OK: counts, per-user shares and the fault root cause first', async () => {
  const page = await newPage();
  await openCompare(page, 'a=fault&b=ok&range=1h');
  const faults = count((t) => t.kind === 'fault');
  const oks = count((t) => t.kind === 'ok');
  assert.ok(faults > 5 && oks > 100, 'the scenario has both');
  assert.equal(await page.getByTestId('count-a').textContent(), fmt(faults));
  assert.equal(await page.getByTestId('count-b').textContent(), fmt(oks));
  assert.equal(analyticsAnswers, 2, 'each set was aggregated by TraceAnalytics');
  assert.equal(await page.getByTestId('coverage-note').count(), 0, 'both sets are complete');

  // Status: every trace of A is a fault, none of B.
  const status = await tableRows(page, 'status-table');
  const fault = status.find((r) => r[0] === 'Fault');
  assert.deepEqual(fault.slice(1, 3), [`100% (${faults})`, '0% (0)']);
  const ok = status.find((r) => r[0] === 'OK');
  assert.deepEqual(ok.slice(1, 3), ['0% (0)', `100% (${oks})`]);

  // The root cause of every fault is the function's TypeError (the fault runs
  // down the chain from the browser to notes-fn): ranked first.
  const causes = await tableRows(page, 'table-rootcause');
  assert.match(causes[0][0], /^Fault notes-fn: TypeError AWS::Lambda::Function$/);
  assert.deepEqual(causes[0].slice(1, 3), [`100% (${faults})`, '0% (0)']);
  const biggest = await tableRows(page, 'biggest-table');
  assert.ok(biggest.some((r) => r[0] === 'Root cause (fault)' && r[1].startsWith('notes-fn: TypeError')), 'the root cause is among the biggest differences');

  // Users: each user's traces in A and in B, exactly.
  const userRows = await tableRows(page, 'table-user');
  assert.equal(userRows.length, users.length);
  for (const u of users) {
    const row = userRows.find((r) => r[0] === u);
    const a = count((t) => t.kind === 'fault' && t.email === u);
    const b = count((t) => t.kind === 'ok' && t.email === u);
    assert.match(row[1], new RegExp(`\\(${a}\\)$`), `${u} in A`);
    assert.match(row[2], new RegExp(`\\(${b}\\)$`), `${u} in B`);
  }
  await page.getByText('Ranked by how surely the shares differ').waitFor();
  await screenshot(page, 'compare-sets');

  // A root cause clicked into A's filter selects exactly its traces.
  await page.getByTestId('table-rootcause').getByRole('button', { name: /^notes-fn: TypeError/ }).first().click();
  await page.waitForURL((url) => (paramsOf(url).get('a') ?? '').startsWith('fault AND rootcause.fault.'));
  console.log(`the root cause as a filter: ${paramsOf(page.url()).get('a')}`);
  await page.getByTestId('count-a').waitFor();
  await page.waitForFunction((n) => document.querySelector('[data-testid="count-a"]')?.textContent === n, fmt(faults));
  await page.goBack();
  await page.waitForURL((url) => paramsOf(url).get('a') === 'fault');

  // A value clicked goes into A's filter.
  await page.getByTestId('table-user').getByRole('button', { name: 'alice@example.com' }).click();
  await page.waitForURL((url) => paramsOf(url).get('a') === 'fault AND user = "alice@example.com"');
  await page.waitForFunction(
    (n) => document.querySelector('[data-testid="count-a"]')?.textContent === n,
    fmt(count((t) => t.kind === 'fault' && t.email === 'alice@example.com')),
  );
  assert.equal(await page.getByRole('combobox', { name: 'A · Selection filter' }).inputValue(), 'fault AND user = "alice@example.com"');
  await page.close();
});

test('the slow-vs-fast preset splits the range at its p90', async () => {
  const page = await newPage();
  await openCompare(page, 'a=fault&range=1h');
  // An empty baseline is every other trace.
  assert.equal(await page.getByTestId('count-b').textContent(), fmt(count((t) => t.kind !== 'fault')));
  await page.getByRole('button', { name: 'Slow vs fast' }).click();
  await page.waitForURL((url) => /^responsetime >= [\d.]+$/.test(paramsOf(url).get('a') ?? ''));
  const split = Number(/[\d.]+$/.exec(paramsOf(page.url()).get('a'))[0]);
  assert.equal(paramsOf(page.url()).get('b'), `responsetime < ${split}`);
  const slow = count((t) => t.responseTime >= split);
  await page.waitForFunction((n) => document.querySelector('[data-testid="count-a"]')?.textContent === n, fmt(slow));
  assert.equal(await page.getByTestId('count-b').textContent(), fmt(facts.length - slow));
  // p90 of the range: about a tenth of the traces are at or above it.
  assert.ok(slow >= facts.length * 0.08 && slow <= facts.length * 0.14, `${slow} of ${facts.length} at or above ${split}`);
  await page.close();
});

test('a bad filter shows the server error at its column', async () => {
  const page = await newPage({ badFilter: true });
  await openCompare(page, 'a=fault&b=ok&range=1h');
  const input = page.getByRole('combobox', { name: 'A · Selection filter' });
  await input.fill('fault AND user =');
  await input.press('Enter');
  const alert = page.locator('#compare-a-error');
  await alert.waitFor();
  assert.match(await alert.textContent(), /column 17/);
  assert.equal(await input.getAttribute('aria-invalid'), 'true');
  await page.close();
});

// The spans (segments and subsegments) of a trace's documents.
function spanCount(doc) {
  return 1 + (doc.subsegments ?? []).reduce((n, s) => n + spanCount(s), 0);
}

test('from the sets to a trace diff, and an OK trace against an error trace', async () => {
  const page = await newPage();
  await openCompare(page, 'a=fault&b=ok&range=1h');
  const picks = page.getByRole('region', { name: 'Compare single traces' });
  const aId = await picks.getByRole('table', { name: /Traces of A/ }).getByRole('radio').first().getAttribute('value');
  const bId = await picks.getByRole('table', { name: /Traces of B/ }).getByRole('radio').first().getAttribute('value');
  await picks.getByRole('table', { name: /Traces of A/ }).getByRole('radio').first().check();
  await picks.getByRole('table', { name: /Traces of B/ }).getByRole('radio').first().check();
  await picks.getByRole('button', { name: 'Compare selected traces' }).click();
  await page.waitForURL(/#\/diff\//);
  assert.equal(new URL(page.url()).hash.split('?')[0], `#/diff/${aId}/${bId}`);
  assert.equal(await page.getByTestId('trace-a').textContent(), aId);
  await page.getByTestId('matched').waitFor();
  // A fault against an OK trace: the root segment's status changed.
  const root = page.locator('.diff-row[data-row="0"]');
  assert.equal(await root.getAttribute('data-name'), 'Web-Application');
  await root.getByText('status changed').waitFor();
  await page.getByRole('link', { name: 'Back to the sets' }).click();
  await page.waitForURL(/#\/compare\?/);
  assert.equal(paramsOf(page.url()).get('a'), 'fault');
  assert.equal(paramsOf(page.url()).get('b'), 'ok');

  // An OK trace and an error trace of the same operation: the error trace
  // never reached the Lambda function.
  const okTrace = facts.find((t) => t.kind === 'ok' && !t.partial && t.operation === 'createNote');
  const errTrace = facts.find((t) => t.kind === 'error' && t.operation === 'createNote');
  const own = (id) => documents.filter((d) => d.trace_id === id);
  const lambdaSpans = own(okTrace.id)
    .filter((d) => d.origin === 'AWS::Lambda' || d.origin === 'AWS::Lambda::Function')
    .reduce((n, d) => n + spanCount(d), 0);
  const okSpans = own(okTrace.id).reduce((n, d) => n + spanCount(d), 0);
  const errSpans = own(errTrace.id).reduce((n, d) => n + spanCount(d), 0);
  await page.goto(app.url(`#/diff/${okTrace.id}/${errTrace.id}`));
  await page.getByTestId('matched').waitFor({ timeout: 15000 });
  // Only in A: the Lambda invoke subsegment, the Lambda and function segments
  // and the function's subsegments.
  assert.equal(await page.getByTestId('only-a').textContent(), String(lambdaSpans + 1));
  assert.equal(await page.getByTestId('only-b').textContent(), '0');
  assert.equal(await page.getByTestId('matched').textContent(), String(errSpans));
  assert.equal(okSpans, errSpans + lambdaSpans + 1);
  // Browser segment, its call to the API and the API segment: ok → error.
  assert.equal(await page.getByTestId('status-changed').textContent(), '3');
  const onlyA = await page.locator('.diff-row[data-side="onlyA"]').evaluateAll((rows) => rows.map((r) => r.dataset.name));
  assert.deepEqual(onlyA.slice(0, 3), ['Lambda', 'notes-fn', 'notes-fn']);
  for (const name of ['Lambda', 'notes-fn']) {
    await page.locator(`.diff-row[data-name="${name}"]`).first().getByText('only in A').waitFor();
  }
  assert.equal(await page.locator('.diff-row[data-side="onlyB"]').count(), 0);
  await screenshot(page, 'compare-traces');

  // Hiding unchanged rows keeps the changed ones and their ancestors.
  await page.getByRole('switch', { name: 'Hide unchanged spans' }).check();
  assert.ok((await page.locator('.diff-row[data-side="onlyA"]').count()) >= 3);
  await page.close();
});

test('the diff tree by keyboard, and the same trace against itself', async () => {
  const page = await newPage();
  const t = facts.find((x) => x.kind === 'ok' && !x.partial && x.operation === 'listNotes');
  await page.goto(app.url(`#/diff/${t.id}/${t.id}`));
  await page.getByTestId('matched').waitFor({ timeout: 15000 });
  const rows = page.locator('.diff-scroll .diff-row');
  const total = await rows.count();
  assert.equal(await page.getByTestId('matched').textContent(), String(total));
  await rows.first().click();
  await page.keyboard.press('End');
  await page.waitForFunction((last) => document.activeElement?.dataset.row === last, String(total - 1));
  await page.keyboard.press('Home');
  await page.keyboard.press('ArrowLeft'); // collapses the root
  await page.waitForFunction(() => document.querySelectorAll('.diff-scroll .diff-row').length === 1);
  assert.equal(await rows.first().getAttribute('aria-expanded'), 'false');
  await page.keyboard.press('ArrowRight');
  await page.waitForFunction((n) => document.querySelectorAll('.diff-scroll .diff-row').length === n, total);
  await page.keyboard.press('ArrowDown');
  await page.waitForFunction(() => document.activeElement?.dataset.row === '1');
  await page.getByRole('switch', { name: 'Hide unchanged spans' }).check();
  await page.getByText('No span differs').waitFor();
  await page.close();
});

test('a missing trace is chosen from its set or pasted', async () => {
  const page = await newPage();
  const okTrace = facts.find((t) => t.kind === 'ok' && !t.partial);
  const faultTrace = facts.find((t) => t.kind === 'fault');
  await page.goto(app.url(`#/diff/-/${okTrace.id}?a=fault&b=ok&range=1h`));
  const panel = page.getByRole('region', { name: 'Choose trace A' });
  await panel.waitFor();
  // The list offers A's traces (faults only).
  const table = panel.getByRole('table', { name: /Traces of A/ });
  await table.waitFor();
  const statuses = await table.locator('tbody .status').allTextContents();
  assert.ok(statuses.length > 0 && statuses.every((s) => s === 'Fault'), statuses.join());
  await panel.getByLabel('Trace id for A').fill(faultTrace.id);
  await panel.getByRole('button', { name: 'Use this id' }).click();
  await page.waitForURL(new RegExp(`#/diff/${faultTrace.id}/${okTrace.id}\\?`));
  await page.getByTestId('matched').waitFor();
  assert.equal(await page.getByTestId('trace-b').textContent(), okTrace.id);
  await page.close();
});

test('the 5,001-span trace against itself matches every span and draws only the rows in view', async () => {
  const page = await newPage();
  await page.goto(app.url('#/compare'));
  await page.getByRole('combobox', { name: 'A · Selection filter' }).waitFor();
  const started = Date.now();
  await page.evaluate((h) => (location.hash = h), `#/diff/${big.id}/${big.id}`);
  await page.getByTestId('matched').waitFor({ timeout: 15000 });
  await page.locator('.diff-scroll .diff-row').first().waitFor();
  console.log(`the 5,001-span self-diff opened in ${Date.now() - started} ms (timings: bench/console)`);
  assert.equal(await page.getByTestId('matched').textContent(), fmt(big.spans));
  assert.ok((await page.locator('.diff-scroll .diff-row').count()) < 100, 'rows are windowed');
  await page.getByTestId('diff-scroll').evaluate((el) => (el.scrollTop = el.scrollHeight));
  await page.waitForFunction((last) => Boolean(document.querySelector(`.diff-row[data-row="${last}"]`)), big.spans - 1);
  await page.getByRole('switch', { name: 'Hide unchanged spans' }).check();
  await page.getByText('No span differs').waitFor();
  await page.close();
});
