// The service map in real Chromium against a real roentgen: every service of
// the scenario drawn with its name as text, exact statistics in a node's and
// an edge's panel, the histogram and time series, selection kept in the URL,
// keyboard selection, and "View traces" landing on the traces view with the
// node's or edge's filter.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { putDocuments, scenario } from './lib/demo-data.mjs';
import { screenshot, startConsole } from './lib/browser.mjs';

let app;
let facts;

before(async () => {
  app = await startConsole({ viewport: { width: 1400, height: 900 } });
  const data = scenario({ count: 160, spreadSeconds: 1800, seed: 23 });
  facts = data.traces;
  await putDocuments(app.server.endpoint, data.documents);
});

after(async () => {
  await app?.close();
  assert.deepEqual(app?.errors ?? [], [], 'the pages reported no errors');
});

const count = (pred) => facts.filter(pred).length;
const fnSegmentName = /^notes-fn, AWS::Lambda::Function,/;

async function openMap(page, hash = '#/map?range=1h') {
  await page.goto(app.url(hash));
  await page.locator('.map-canvas[data-drawn]').waitFor({ timeout: 15000 });
}

// The panel's figures: Requests, and the status table's counts.
async function panelFigures(panel) {
  const requests = (await panel.locator('.map-figures div', { hasText: 'Requests' }).locator('dd').textContent()).replace(/,/g, '');
  const row = async (label) => Number((await panel.getByRole('row', { name: new RegExp(`^${label}`) }).getByRole('cell').first().textContent()).replace(/,/g, ''));
  return {
    requests: Number(requests),
    ok: await row('OK'),
    error: await row('Errors'),
    throttle: await row('Throttles'),
    fault: await row('Faults'),
  };
}

test('the map draws every service of the scenario by name, left to right from the client', async () => {
  const page = await app.newPage();
  await openMap(page);
  const map = page.getByRole('group', { name: /^Service map: 7 nodes, 6 edges/ });
  await map.waitFor();
  for (const name of ['Client', 'Web-Application', 'notes-api', 'notes', 'reports-db']) {
    await map.locator('text.node-name', { hasText: new RegExp(`^${name}$`) }).waitFor();
  }
  // The Lambda service and the function are two nodes of one name.
  assert.equal(await map.locator('text.node-name', { hasText: /^notes-fn$/ }).count(), 2);
  for (const type of ['AppSync API', 'Lambda function', 'DynamoDB table', 'SQL database']) {
    await map.locator('text.node-type', { hasText: type }).first().waitFor();
  }
  // Left to right: each service of the chain is right of its caller.
  const x = async (name) => (await map.getByRole('button', { name }).boundingBox()).x;
  const chain = [/^Client,/, /^Web-Application,/, /^notes-api,/, /^notes-fn, AWS::Lambda,/, fnSegmentName, /^notes, AWS::DynamoDB::Table,/];
  let last = -Infinity;
  for (const name of chain) {
    const at = await x(name);
    assert.ok(at > last, `${name} is right of its caller`);
    last = at;
  }
  // Rings: the Web-Application node has ok, error, throttle and fault arcs.
  const web = map.getByRole('button', { name: /^Web-Application,/ });
  for (const status of ['ok', 'error', 'throttle', 'fault']) assert.equal(await web.locator(`path.arc.${status}`).count(), 1);
  await page.getByRole('note', { name: 'Legend' }).getByText('Fault (5xx)').waitFor();
  await page.close();
});

test('a node opens its statistics, histogram and time series; View traces lands on its traces', async () => {
  const page = await app.newPage();
  await openMap(page);
  await page.getByRole('button', { name: fnSegmentName }).click();
  assert.match(decodeURIComponent(page.url()), /[?&]node=notes-fn\|AWS::Lambda::Function\|123456789012(&|$)/);
  const panel = page.getByRole('complementary', { name: 'Details of notes-fn' });
  await panel.waitFor();
  await panel.getByText('AWS::Lambda::Function').first().waitFor();
  // The function's segments: every trace that reached it and completed. A
  // throttled DynamoDB call makes the function's segment an error (4xx).
  const reached = (t) => t.kind !== 'error' && !t.partial;
  assert.deepEqual(await panelFigures(panel), {
    requests: count(reached),
    ok: count((t) => reached(t) && t.kind === 'ok'),
    error: count((t) => reached(t) && t.kind === 'throttle'),
    throttle: 0,
    fault: count((t) => reached(t) && t.kind === 'fault'),
  });
  await panel.getByRole('figure', { name: 'Response time distribution of notes-fn' }).locator('canvas').first().waitFor();
  const series = panel.getByTestId('timeseries');
  await series.locator('canvas').first().waitFor();
  assert.ok(Number(await series.getAttribute('data-points')) >= 30, 'one point a minute over the hour');
  await panel.getByText(`${count(reached)} requests over`).waitFor({ state: 'attached' });
  await screenshot(page, 'service-map');

  // Reloading the URL reopens the same panel.
  await page.reload();
  await page.getByRole('complementary', { name: 'Details of notes-fn' }).waitFor();

  await page.getByRole('button', { name: 'View traces' }).click();
  await page.waitForURL(/#\/traces\?/);
  const params = new URLSearchParams(page.url().split('?')[1]);
  const q = 'service(id(name: "notes-fn", type: "AWS::Lambda::Function"))';
  assert.equal(params.get('q'), q);
  assert.equal(params.get('range'), '1h');
  // The traces view opens with the filter in its input.
  const input = page.getByRole('combobox', { name: 'Filter expression' });
  await input.waitFor();
  for (let i = 0; i < 50 && (await input.inputValue()) !== q; i++) await page.waitForTimeout(100);
  assert.equal(await input.inputValue(), q);
  await page.close();
});

test('a range dragged on the histogram narrows the node in the traces filter', async () => {
  const page = await app.newPage();
  await openMap(page, '#/map?range=1h&node=Web-Application');
  const panel = page.getByRole('complementary', { name: 'Details of Web-Application' });
  const box = await panel.getByTestId('histogram').locator('.u-over').boundingBox();
  await page.mouse.move(box.x + box.width * 0.05, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.3, box.y + box.height / 2, { steps: 5 });
  await page.mouse.up();
  await panel.getByText('Selected:').waitFor();
  await panel.getByRole('button', { name: 'View traces' }).click();
  await page.waitForURL(/#\/traces\?/);
  const q = new URLSearchParams(page.url().split('?')[1]).get('q');
  assert.match(q, /^service\("Web-Application"\) \{ responsetime >= [\d.]+ AND responsetime < [\d.]+ \}$/);
  await page.close();
});

test('an edge opens its panel with the calls from one service to the other', async () => {
  const page = await app.newPage();
  await openMap(page);
  const edge = page.getByRole('button', { name: /^Edge from notes-api to notes-fn,/ });
  await edge.locator('.edge-label').click();
  const panel = page.getByRole('complementary', { name: 'Details of notes-api → notes-fn' });
  await panel.waitFor();
  assert.match(decodeURIComponent(page.url()), /[?&]edge=notes-api\|AWS::AppSync::GraphQLAPI\|123456789012~notes-fn\|AWS::Lambda(&|$)/);
  // Every trace but the 4xx ones invoked the function once.
  const invoked = count((t) => t.kind !== 'error');
  assert.equal((await panelFigures(panel)).requests, invoked);
  await panel.getByRole('figure', { name: 'Response time distribution of notes-api → notes-fn' }).locator('canvas').first().waitFor();
  await panel.getByTestId('timeseries').locator('canvas').first().waitFor();
  await panel.getByText(`${invoked} requests over`).waitFor({ state: 'attached' });
  await panel.getByRole('button', { name: 'View traces' }).click();
  await page.waitForURL(/#\/traces\?/);
  assert.equal(new URLSearchParams(page.url().split('?')[1]).get('q'), 'edge("notes-api", id(name: "notes-fn", type: "AWS::Lambda"))');
  await page.close();
});

test('the keyboard reaches the map, moves between nodes and selects one', async () => {
  const page = await app.newPage();
  await openMap(page);
  // Tab from the toolbar lands on one node of the map (a roving tabindex).
  await page.getByRole('searchbox', { name: 'Find a service' }).focus();
  await page.keyboard.press('Tab');
  assert.match(await page.evaluate(() => document.activeElement.getAttribute('aria-label')), /^Client,/);
  await page.keyboard.press('ArrowRight');
  assert.match(await page.evaluate(() => document.activeElement.getAttribute('aria-label')), /^Web-Application,/);
  await page.keyboard.press('Enter');
  await page.getByRole('complementary', { name: 'Details of Web-Application' }).waitFor();
  assert.match(page.url(), /[?&]node=Web-Application(&|$)/);
  assert.deepEqual(await panelFigures(page.getByRole('complementary', { name: 'Details of Web-Application' })), {
    requests: facts.length,
    ok: count((t) => t.kind === 'ok'),
    error: count((t) => t.kind === 'error'),
    throttle: count((t) => t.kind === 'throttle'),
    fault: count((t) => t.kind === 'fault'),
  });
  // Escape in the panel closes it and gives the focus back to the node.
  await page.getByRole('button', { name: 'Close details' }).focus();
  await page.keyboard.press('Escape');
  await page.getByRole('complementary').waitFor({ state: 'detached' });
  assert.doesNotMatch(page.url(), /node=/);
  await page.waitForFunction(() => /^Web-Application,/.test(document.activeElement?.getAttribute('aria-label') ?? ''));
  await page.close();
});

test('finding a service dims the others and Enter selects it', async () => {
  const page = await app.newPage();
  await openMap(page);
  await page.getByRole('searchbox', { name: 'Find a service' }).fill('reports');
  assert.equal(await page.locator('.map-node.dim').count(), 6);
  await page.getByRole('searchbox', { name: 'Find a service' }).press('Enter');
  await page.getByRole('complementary', { name: 'Details of reports-db' }).getByText('Database::SQL').waitFor();
  await page.close();
});

test('a window without traces says so', async () => {
  const page = await app.newPage();
  await page.goto(app.url('#/map?range=2020-01-01T00:00:00Z~2020-01-01T01:00:00Z'));
  await page.getByText('No traces in').waitFor();
  await page.close();
});
