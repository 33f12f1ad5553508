// The trace view in real Chromium against a real roentgen: a fault trace with
// every span named as text, the fault and its exception's stack frames, the
// selected span kept in the URL across a reload, repeated DynamoDB calls
// folded into a counted group, keyboard use, the critical path, the trace's
// own map, linked, partial and missing traces, zooming, and the 5,001-span
// trace opened and timed.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { bigTrace, putDocuments, scenario } from './lib/demo-data.mjs';
import { screenshot, startConsole } from './lib/browser.mjs';

let app;
let facts;
let documents;
let big;

before(async () => {
  app = await startConsole({ viewport: { width: 1400, height: 900 } });
  const data = scenario({ count: 200, spreadSeconds: 1500, seed: 42 });
  facts = data.traces;
  documents = data.documents;
  await putDocuments(app.server.endpoint, documents);
  big = bigTrace({ spans: 5000 });
  await putDocuments(app.server.endpoint, big.documents, { batch: 10 });
  await waitForTrace(big.id, big.documents.length);
});

after(async () => {
  await app?.close();
  assert.deepEqual(app?.errors ?? [], [], 'the pages reported no errors');
});

// BatchGetTraces answers with every segment once they are stored.
async function waitForTrace(id, segments) {
  const deadline = Date.now() + 15000;
  for (;;) {
    const res = await fetch(`${app.server.endpoint}/Traces`, { method: 'POST', body: JSON.stringify({ TraceIds: [id] }) });
    const body = await res.json();
    if (body.Traces?.[0]?.Segments?.length === segments) return;
    if (Date.now() > deadline) throw new Error(`trace ${id} has ${body.Traces?.[0]?.Segments?.length ?? 0} of ${segments} segments`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const docsOf = (id) => documents.filter((d) => d.trace_id === id);
// Every segment's and subsegment's name, depth first.
function spanNames(docs) {
  const out = [];
  const walk = (d) => {
    out.push(d.name);
    for (const s of d.subsegments ?? []) walk(s);
  };
  docs.forEach(walk);
  return out;
}
const hashParams = (page) => new URLSearchParams(new URL(page.url()).hash.split('?')[1] ?? '');
const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

async function openTrace(page, id, query = '') {
  await page.goto(app.url(`#/trace/${id}${query}`));
  const grid = page.getByRole('treegrid', { name: /Trace timeline/ });
  await grid.getByRole('row').first().waitFor({ timeout: 15000 });
  return grid;
}

const faultTrace = () => {
  const t = facts.find((f) => f.kind === 'fault' && f.operation === 'listNotes');
  assert.ok(t, 'the scenario has a listNotes fault');
  return t;
};
const functionDoc = (id) => docsOf(id).find((d) => d.origin === 'AWS::Lambda::Function');

test('a fault trace: every span by name, the fault, its exception and stack frames, the URL reopens the span', async () => {
  const t = faultTrace();
  await waitForTrace(t.id, docsOf(t.id).length);
  const page = await app.newPage();
  const grid = await openTrace(page, t.id);

  // Every segment and subsegment is on screen as text (the repeated
  // DynamoDB calls as their group's row).
  const names = new Set(spanNames(docsOf(t.id)));
  assert.deepEqual([...names].sort(), ['DynamoDB', 'Lambda', 'Query.listNotes', 'Web-Application', 'api.notes.example.com', 'notes-api', 'notes-fn', 'reports-db']);
  for (const name of names) await grid.getByText(name, { exact: true }).first().waitFor();
  assert.equal(await grid.getByText('notes-fn', { exact: true }).count(), 2, 'the Lambda service and the function');

  // The fault: in the header and on the function's row (and its status text).
  await page.locator('.tv-header').getByText('Fault', { exact: true }).waitFor();
  const fnRow = grid.getByRole('row', { name: /^notes-fn, service segment AWS::Lambda::Function, Fault,/ });
  await fnRow.waitFor();
  await fnRow.getByText('Fault', { exact: true }).waitFor();
  await screenshot(page, 'trace-waterfall');

  // Selecting it opens the details and names it in the URL.
  await fnRow.click();
  assert.equal(await fnRow.getAttribute('aria-selected'), 'true');
  const fn = functionDoc(t.id);
  assert.equal(hashParams(page).get('span'), fn.id);
  const panel = page.getByRole('complementary', { name: 'Details of notes-fn' });
  await panel.getByText(fn.id, { exact: true }).waitFor();
  await panel.getByText('AWS::Lambda::Function', { exact: true }).waitFor();

  // The exception: type, message, and its stack frames as path:line.
  await panel.getByRole('tab', { name: /^Exceptions/ }).click();
  const exception = fn.cause.exceptions[0];
  await panel.getByText(exception.type, { exact: true }).waitFor();
  await panel.getByText(exception.message, { exact: true }).waitFor();
  const frames = panel.getByRole('table', { name: 'Stack frames' });
  for (const f of exception.stack) {
    await frames.getByRole('row', { name: `${f.label} ${f.path}:${f.line}` }).waitFor();
  }
  await screenshot(page, 'trace-detail');

  // Other tabs: annotations and metadata of the function, its AWS block;
  // a tab without data says so.
  await panel.getByRole('tab', { name: /^Annotations/ }).click();
  await panel.getByRole('link', { name: t.email }).waitFor();
  await panel.getByRole('tab', { name: /^Metadata/ }).click();
  await panel.getByRole('region', { name: 'Metadata namespace notes.app' }).waitFor();
  await panel.getByRole('tab', { name: /^SQL/ }).click();
  await panel.getByText('None: no SQL data recorded on this span.').waitFor();
  await panel.getByRole('tab', { name: 'Raw JSON' }).click();
  assert.equal(JSON.parse(await panel.getByLabel('Raw JSON document').textContent()).id, fn.id);

  // A reload reopens the same trace with the same span selected.
  const url = page.url();
  await page.reload();
  await grid.getByRole('row').first().waitFor();
  assert.equal(page.url(), url);
  const selected = grid.locator('[role="row"][aria-selected="true"]');
  assert.match(await selected.getAttribute('aria-label'), /^notes-fn, service segment AWS::Lambda::Function, Fault,/);
  await page.getByRole('complementary', { name: 'Details of notes-fn' }).getByText(fn.id, { exact: true }).waitFor();
  await page.close();
});

test('repeated DynamoDB calls fold into one row with their count; expand and collapse it', async () => {
  const t = faultTrace();
  const n = functionDoc(t.id).subsegments.filter((s) => s.name === 'DynamoDB').length;
  assert.ok(n >= 12);
  const page = await app.newPage();
  const grid = await openTrace(page, t.id);
  const group = grid.getByRole('row', { name: new RegExp(`^DynamoDB ×${n}, a group of ${n} repeated calls, GetItem, total `) });
  const members = grid.getByRole('row', { name: /^DynamoDB, GetItem, subsegment, aws,/ });
  await group.getByText(`×${n}`, { exact: true }).waitFor();
  assert.equal(await group.getAttribute('aria-expanded'), 'false');
  assert.equal(await members.count(), 0);

  await grid.getByRole('button', { name: `Expand ${n} DynamoDB calls` }).click();
  await members.nth(n - 1).waitFor();
  assert.equal(await members.count(), n);
  assert.equal(await group.getAttribute('aria-expanded'), 'true');

  await grid.getByRole('button', { name: `Collapse ${n} DynamoDB calls` }).click();
  await members.first().waitFor({ state: 'detached' });
  assert.equal(await group.getAttribute('aria-expanded'), 'false');
  await group.getByText(`×${n}`, { exact: true }).waitFor();

  // The group's details: count and times, and each call.
  await group.click();
  const panel = page.getByRole('complementary', { name: `Details of ${n} × DynamoDB` });
  await panel.getByText(`${n} consecutive`).waitFor();
  assert.equal(await panel.getByRole('table', { name: `The ${n} calls` }).locator('tbody tr').count(), n);

  // Without grouping every call is its own row.
  await page.getByRole('checkbox', { name: 'Group repeated calls', exact: true }).uncheck();
  await members.nth(n - 1).waitFor();
  assert.equal(await members.count(), n);
  await page.close();
});

test('keyboard: arrows move the selection, Left/Right collapse and expand, Enter opens the details', async () => {
  const t = faultTrace();
  const page = await app.newPage();
  const grid = await openTrace(page, t.id);
  await grid.focus();
  const selectedName = async () => (await grid.locator('[role="row"][aria-selected="true"]').getAttribute('aria-label')).split(',')[0];

  await page.keyboard.press('Home');
  assert.equal(await selectedName(), 'Web-Application');
  await page.keyboard.press('ArrowDown');
  assert.equal(await selectedName(), 'api.notes.example.com');
  const rows = await grid.getByRole('row').count();
  await page.keyboard.press('ArrowLeft'); // collapses it (notes-api's segment hangs under it)
  assert.equal(await grid.getByRole('row').count(), 2);
  await page.keyboard.press('ArrowRight'); // expands it
  assert.equal(await grid.getByRole('row').count(), rows);
  await page.keyboard.press('ArrowLeft');
  await page.keyboard.press('ArrowLeft'); // a closed row: to its parent
  assert.equal(await selectedName(), 'Web-Application');
  await page.keyboard.press('ArrowLeft'); // collapses the root
  assert.equal(await grid.getByRole('row').count(), 1);
  await page.keyboard.press('ArrowRight'); // expands it again; its child stays closed
  assert.equal(await grid.getByRole('row').count(), 2);
  await page.keyboard.press('ArrowRight'); // an open row: to its first child
  await page.keyboard.press('ArrowRight');
  assert.equal(await selectedName(), 'api.notes.example.com');
  assert.equal(await grid.getByRole('row').count(), rows);
  await page.keyboard.press('End');
  assert.equal(await selectedName(), 'reports-db');
  await page.keyboard.press('ArrowUp');
  assert.match(await selectedName(), /^DynamoDB ×/);
  await page.keyboard.press('ArrowRight'); // opens the group
  await page.keyboard.press('ArrowDown');
  assert.equal(await selectedName(), 'DynamoDB');
  assert.equal(hashParams(page).get('span'), functionDoc(t.id).subsegments[0].id);

  // Enter moves into the details; Escape closes them and comes back.
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.activeElement?.getAttribute('role') === 'tab');
  await page.keyboard.press('Escape');
  await page.waitForFunction(() => document.activeElement?.getAttribute('role') === 'treegrid');
  assert.equal(hashParams(page).get('span'), null);
  assert.equal(await page.getByRole('complementary').count(), 0);
  await page.close();
});

test('find spans: matches are marked and Enter steps to them, opening what hides them', async () => {
  const t = faultTrace();
  const n = functionDoc(t.id).subsegments.filter((s) => s.name === 'DynamoDB').length;
  const page = await app.newPage();
  const grid = await openTrace(page, t.id);
  const find = page.getByRole('searchbox', { name: 'Find spans' });
  await find.fill('TypeError');
  await page.getByRole('status').filter({ hasText: /^1 match$/ }).waitFor();
  await find.press('Enter');
  assert.match(await grid.locator('[role="row"][aria-selected="true"]').getAttribute('aria-label'), /^notes-fn, service segment AWS::Lambda::Function, Fault,.*matches the search$/);
  assert.equal(hashParams(page).get('span'), functionDoc(t.id).id);
  // The calls are hidden in their closed group until a match is stepped to.
  await find.fill('getitem');
  await page.getByRole('status').filter({ hasText: `${n} matches` }).waitFor();
  await find.press('Enter');
  await page.getByRole('status').filter({ hasText: `1 of ${n} matches` }).waitFor();
  assert.equal(hashParams(page).get('span'), functionDoc(t.id).subsegments[0].id);
  assert.equal(await grid.getByRole('row', { name: /^DynamoDB, GetItem, .*matches the search$/ }).count(), n);
  await page.close();
});

test('the critical path is marked on the spans it runs through, and can be hidden', async () => {
  const t = faultTrace();
  const page = await app.newPage();
  const grid = await openTrace(page, t.id);
  const root = grid.getByRole('row', { name: /^Web-Application,/ });
  assert.match(await root.getAttribute('aria-label'), /on the critical path$/);
  await page.getByRole('checkbox', { name: 'Critical path', exact: true }).uncheck();
  assert.doesNotMatch(await root.getAttribute('aria-label'), /critical path/);
  await page.close();
});

test("the trace's own map: its services as nodes; choosing one selects its segment", async () => {
  const t = faultTrace();
  const page = await app.newPage();
  await openTrace(page, t.id);
  await page.getByRole('tab', { name: 'Trace map' }).click();
  assert.equal(hashParams(page).get('tab'), 'map');
  const map = page.getByRole('group', { name: /^Trace map: \d+ services/ });
  await map.waitFor();
  for (const name of ['Web-Application', 'notes-api', 'reports-db']) await map.getByText(name, { exact: true }).waitFor();
  await map.getByRole('button', { name: /^notes-api \(AWS::AppSync::GraphQLAPI\): 1 request/ }).click();
  await page.getByRole('treegrid').waitFor();
  const api = docsOf(t.id).find((d) => d.name === 'notes-api');
  assert.equal(hashParams(page).get('span'), api.id);
  assert.equal(hashParams(page).get('tab'), null);
  await page.getByRole('complementary', { name: 'Details of notes-api' }).waitFor();
  await page.close();
});

test('linked traces link to each other; partial and missing traces are said so', async () => {
  const linked = facts.find((f) => f.linkedTo && f.kind !== 'error');
  assert.ok(linked, 'the scenario has a linked trace');
  const page = await app.newPage();
  await openTrace(page, linked.id);
  const links = page.getByLabel('Linked traces');
  await links.getByRole('link', { name: linked.linkedTo }).click();
  await page.waitForURL(new RegExp(`#/trace/${escape(linked.linkedTo)}`));
  await page.locator('.tv-header').getByText(linked.linkedTo, { exact: true }).waitFor();

  const partial = facts.find((f) => f.partial);
  assert.ok(partial, 'the scenario has an in-progress trace');
  const grid = await openTrace(page, partial.id);
  await page.getByText('Partial trace:').waitFor();
  await grid.getByRole('row', { name: /^notes-fn, service segment AWS::Lambda::Function, in progress,/ }).getByText('in progress').waitFor();

  await page.goto(app.url('#/trace/1-00000000-aaaaaaaaaaaaaaaaaaaaaaaa'));
  await page.getByRole('alert').getByText('Trace not found.').waitFor();
  await page.close();
});

test('zoom: drag across the time axis, then reset; the minimap window zooms too', async () => {
  const t = faultTrace();
  const page = await app.newPage();
  await openTrace(page, t.id);
  const reset = page.getByRole('button', { name: 'Reset zoom' });
  assert.equal(await reset.isDisabled(), true);
  const axis = await page.locator('.tv-axis').boundingBox();
  await page.mouse.move(axis.x + axis.width * 0.2, axis.y + axis.height / 2);
  await page.mouse.down();
  await page.mouse.move(axis.x + axis.width * 0.5, axis.y + axis.height / 2, { steps: 4 });
  await page.mouse.up();
  await page.getByText(/spans · zoomed/).waitFor();
  assert.equal(await reset.isDisabled(), false);
  await reset.click();
  assert.equal(await reset.isDisabled(), true);
  const windowSlider = page.getByRole('slider', { name: /Time window/ });
  await windowSlider.focus();
  await page.keyboard.press('+');
  assert.equal(await reset.isDisabled(), false);
  await page.close();
});

test('the 5,001-span trace opens with its rows on screen, windowed (its open time is logged; bench/console measures it)', async () => {
  const page = await app.newPage();
  const started = Date.now();
  const grid = await openTrace(page, big.id);
  await grid.getByRole('row', { name: /^gateway,/ }).waitFor();
  const wall = Date.now() - started;
  const marks = await page.evaluate(() => Object.fromEntries(performance.getEntriesByType('mark').map((m) => [m.name, m.startTime])));
  const fromNavigation = marks['roentgen:trace:rows'];
  const fromOpen = marks['roentgen:trace:rows'] - marks['roentgen:trace:open'];
  console.log(
    `5,001-span trace: rows on screen ${fromNavigation.toFixed(0)} ms after navigation started, ${fromOpen.toFixed(0)} ms after the request left (BatchGetTraces, tree, render); ${wall} ms by the test's clock`,
  );
  await page.locator('.tv-header').getByText('(5,001 spans)').waitFor();
  // Windowed: a screenful of rows in the DOM, all of them in the grid's count.
  const rendered = await grid.getByRole('row').count();
  const total = Number(await grid.getAttribute('aria-rowcount'));
  assert.ok(rendered < 100, `${rendered} rows rendered`);
  assert.ok(total > 1000, `${total} rows in all`);
  // The last row is reachable by keyboard.
  await grid.focus();
  await page.keyboard.press('End');
  await grid.locator(`[role="row"][aria-rowindex="${total}"]`).waitFor();
  await page.close();
});

test('the selected span shows its path from the root, and the trace downloads as BatchGetTraces returns it', async () => {
  const t = faultTrace();
  const fn = functionDoc(t.id);
  const page = await app.newPage();
  await openTrace(page, t.id, `?span=${fn.id}`);
  const crumbs = page.getByRole('navigation', { name: 'Path from the root' });
  await crumbs.waitFor();
  assert.deepEqual(
    (await crumbs.getByRole('button').allTextContents()),
    ['Web-Application', 'api.notes.example.com', 'notes-api', 'Query.listNotes', 'Lambda', 'notes-fn'],
  );
  await crumbs.getByRole('button', { name: 'notes-api' }).click();
  await page.waitForFunction((id) => new URLSearchParams(location.hash.split('?')[1]).get('span') === id, docsOf(t.id).find((d) => d.name === 'notes-api').id);

  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download JSON' }).click()]);
  assert.equal(download.suggestedFilename(), `${t.id}.json`);
  const body = JSON.parse(await (await download.createReadStream()).toArray().then((c) => Buffer.concat(c).toString('utf8')));
  assert.equal(body.Traces[0].Id, t.id);
  assert.equal(body.Traces[0].Segments.length, docsOf(t.id).length);
  await page.close();
});
