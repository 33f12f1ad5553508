// The traces view in real Chromium against a real roentgen: filter to exactly
// the right rows, a bad expression's column, completion, paging, sorting,
// narrowing by dragging across the distribution, adding a clicked value to
// the filter, opening a trace by its URL, and live tail.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { putDocuments, rng, scenario, segmentId, traceId } from './lib/demo-data.mjs';
import { screenshot, startConsole } from './lib/browser.mjs';

let app;
let facts;

before(async () => {
  app = await startConsole({ viewport: { width: 1500, height: 2200 } });
  const data = scenario({ count: 260, spreadSeconds: 1500, seed: 11 });
  facts = data.traces;
  await putDocuments(app.server.endpoint, data.documents);
});

after(async () => {
  await app?.close();
  assert.deepEqual(app?.errors ?? [], [], 'the pages reported no errors');
});

// Every row the list holds, once it has followed NextToken to the end (it
// renders only the rows in view, so scroll through).
async function listedIds(page) {
  const list = page.getByTestId('trace-list');
  await list.waitFor();
  const ids = new Set();
  const scroller = page.locator('.trace-scroll');
  for (let top = 0, guard = 0; guard < 1000; guard++) {
    for (const id of await page.locator('[data-trace-id]').evaluateAll((els) => els.map((e) => e.dataset.traceId))) ids.add(id);
    const atEnd = await scroller.evaluate((el, t) => {
      el.scrollTop = t;
      return el.scrollTop + el.clientHeight >= el.scrollHeight - 1;
    }, top);
    const total = Number(await list.getAttribute('data-rows'));
    const complete = !(await page.getByTestId('loaded-count').textContent()).includes('more on scroll');
    if (atEnd && complete && ids.size >= total) break;
    if (!atEnd) top += 600;
    await page.waitForTimeout(30);
  }
  await scroller.evaluate((el) => (el.scrollTop = 0));
  return [...ids].sort();
}

// Every trace id the server itself returns for a filter (all pages).
async function serverIds(filter) {
  const start = Date.now() / 1000 - 3600;
  const end = Date.now() / 1000 + 60;
  const ids = [];
  let token;
  do {
    const res = await fetch(`${app.server.endpoint}/TraceSummaries`, {
      method: 'POST',
      body: JSON.stringify({ StartTime: start, EndTime: end, FilterExpression: filter, ...(token ? { NextToken: token } : {}) }),
    });
    const page = await res.json();
    ids.push(...page.TraceSummaries.map((s) => s.Id));
    token = page.NextToken;
  } while (token);
  return ids.sort();
}

async function waitForRows(page, expected) {
  await page.waitForFunction(
    (n) => Number(document.querySelector('[data-testid="trace-list"]')?.getAttribute('data-rows')) === n,
    expected,
    { timeout: 15000 },
  );
}

async function runFilter(page, text) {
  const input = page.getByRole('combobox', { name: 'Filter expression' });
  await input.fill(text);
  await input.press('Enter');
}

test('a filter expression shows exactly the matching traces', async () => {
  const page = await app.newPage();
  await page.goto(app.url('#/traces?range=1h'));
  await runFilter(page, 'annotation.email = "alice@example.com"');
  const expected = facts.filter((t) => t.email === 'alice@example.com').map((t) => t.id).sort();
  assert.ok(expected.length > 10);
  await waitForRows(page, expected.length);
  assert.deepEqual(await listedIds(page), expected);
  assert.equal(new URLSearchParams(new URL(page.url()).hash.split('?')[1]).get('q'), 'annotation.email = "alice@example.com"');
  await page.getByTestId('trace-count').filter({ hasText: `${expected.length} traces` }).waitFor();
  await screenshot(page, 'traces', { clip: { x: 0, y: 0, width: 1500, height: 900 } });

  await runFilter(page, 'annotation.email = "alice@example.com" AND fault');
  const faults = facts.filter((t) => t.email === 'alice@example.com' && t.kind === 'fault').map((t) => t.id).sort();
  await waitForRows(page, faults.length);
  assert.deepEqual(await listedIds(page), faults);
  await page.close();
});

test('a bad expression shows the server message at its column', async () => {
  const page = await app.newPage();
  await page.goto(app.url('#/traces?range=1h'));
  await runFilter(page, 'user = alice');
  const message = page.getByTestId('filter-error-message');
  await message.waitFor();
  assert.match(await message.textContent(), /^column 8: expected a value after '=' but found 'alice'/);
  assert.equal(await page.locator('.filter-error mark').textContent(), 'a');
  assert.equal(await page.getByRole('combobox', { name: 'Filter expression' }).getAttribute('aria-invalid'), 'true');
  await page.close();
});

test('completion offers annotation keys and values seen in the range', async () => {
  const page = await app.newPage();
  await page.goto(app.url('#/traces?range=1h'));
  await page.getByTestId('trace-count').filter({ hasText: '260 traces' }).waitFor();
  const input = page.getByRole('combobox', { name: 'Filter expression' });
  await input.click();
  await input.type('annotation.em');
  const options = page.getByRole('listbox', { name: 'Completions' }).getByRole('option');
  await options.first().waitFor();
  assert.deepEqual(await options.allTextContents(), ['annotation.emailannotation']);
  await input.press('Tab');
  await input.type(' = "car');
  await page.getByRole('option', { name: /carol@example\.com/ }).waitFor();
  await input.press('ArrowDown');
  await input.press('Enter'); // accepts the highlighted value
  assert.equal(await input.inputValue(), 'annotation.email = "carol@example.com"');
  await input.press('Enter'); // runs
  await waitForRows(page, facts.filter((t) => t.email === 'carol@example.com').length);
  await page.close();
});

test('the list pages through NextToken as it scrolls, and sorts', async () => {
  const page = await app.newPage();
  await page.goto(app.url('#/traces?range=1h'));
  await page.waitForFunction(() => Number(document.querySelector('[data-testid="trace-list"]')?.getAttribute('data-rows')) >= 100);
  const ids = await listedIds(page); // scrolling to the end loads the next pages
  assert.deepEqual(ids, facts.map((t) => t.id).sort());

  await page.getByRole('button', { name: 'Response' }).click();
  assert.match(page.url(), /sort=response-desc/);
  const slowest = [...facts].sort((a, b) => b.responseTime - a.responseTime)[0];
  assert.equal(await page.locator('[data-trace-id]').first().getAttribute('data-trace-id'), slowest.id);
  await page.close();
});

test('dragging across the distribution narrows the list to that range', async () => {
  const page = await app.newPage();
  await page.goto(app.url('#/traces?range=1h'));
  await page.getByTestId('trace-count').filter({ hasText: '260 traces' }).waitFor();
  const over = page.locator('[data-testid="histogram"] .u-over');
  await over.waitFor();
  const box = await over.boundingBox();
  await page.mouse.move(box.x + 2, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.1, box.y + box.height / 2, { steps: 5 });
  await page.mouse.up();
  await page.waitForURL(/rt=/);
  const [lo, hi] = decodeURIComponent(new URL(page.url()).hash).match(/rt=([\d.]+)-([\d.]+|inf)/).slice(1);
  const inRange = facts.filter((t) => t.responseTime >= Number(lo) - 1e-6 && (hi === 'inf' || t.responseTime < Number(hi) - 1e-6));
  assert.ok(inRange.length > 0 && inRange.length < facts.length, `the drag selected ${inRange.length} of ${facts.length}`);
  // What the server itself says is in that range.
  const expected = await serverIds(hi === 'inf' ? `responsetime >= ${lo}` : `responsetime >= ${lo} AND responsetime < ${hi}`);
  assert.deepEqual(await listedIds(page), expected);
  await screenshot(page, 'traces-narrowed', { clip: { x: 0, y: 0, width: 1500, height: 900 } });
  await page.getByTestId('clear-selection').click();
  await page.waitForFunction(() => Number(document.querySelector('[data-testid="trace-list"]')?.getAttribute('data-rows')) >= 100);
  await page.close();
});

test('clicking an annotation value adds it to the filter', async () => {
  const page = await app.newPage();
  await page.goto(app.url('#/traces?range=1h&q=fault'));
  const chip = page.locator('.chip', { hasText: 'bob@example.com' }).first();
  await chip.click();
  const input = page.getByRole('combobox', { name: 'Filter expression' });
  await page.waitForFunction(() => decodeURIComponent(location.hash).includes('bob@example.com'));
  const value = await input.inputValue();
  assert.ok(value === 'fault AND annotation.email = "bob@example.com"' || value === 'fault AND user = "bob@example.com"', value);
  await page.close();
});

test('a trace opens from the list and its URL reopens it', async () => {
  const page = await app.newPage();
  await page.goto(app.url('#/traces?range=1h'));
  const first = page.locator('[data-trace-id]').first();
  const id = await first.getAttribute('data-trace-id');
  await first.locator('[role="cell"]').nth(3).click();
  await page.waitForURL(new RegExp(`#/trace/${id}`));
  await page.reload();
  await page.getByText(id).first().waitFor();
  assert.match(page.url(), new RegExp(`#/trace/${id}`));
  await page.close();
});

test('live tail shows a trace sent after the page opened', async () => {
  const page = await app.newPage();
  await page.goto(app.url('#/traces?range=1h&q=annotation.run%20%3D%20%22live%22'));
  await page.locator('.empty', { hasText: 'No traces match' }).waitFor();
  await page.getByRole('switch', { name: 'Live tail' }).check();
  const random = rng(99);
  const now = Date.now() / 1000;
  const id = traceId(random, now);
  await putDocuments(app.server.endpoint, [
    { name: 'late-service', id: segmentId(random), trace_id: id, start_time: now, end_time: now + 0.2, annotations: { run: 'live' } },
  ]);
  await page.locator(`[data-trace-id="${id}"]`).waitFor({ timeout: 10000 });
  assert.equal(await page.locator('[data-trace-id]').count(), 1);
  await page.close();
});
