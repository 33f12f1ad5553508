// The console's list and trace benchmarks in headless Chromium (issue 21: a
// list of 10,000 traces renders and scrolls smoothly; a trace of 5,000
// segments opens in under 1 s). The service map has its own script
// (map-layout.mjs).
//
//   node bench/console/console-bench.mjs [--runs 5] [--traces 10000]
//        [--bin build/src/cli/roentgen]
//
// It starts `roentgen serve` by PID on a free loopback port with a fresh data
// dir, loads `--traces` traces of the seed's scenario plus one trace of about
// 5,000 segments, and for each run opens a fresh browser context:
//   list: navigation → first rows; "Load all" → all rows (100 a page through
//         NextToken); then the list is scrolled from top to bottom, one step
//         of 8 rows a frame, and the frame intervals are recorded
//         (requestAnimationFrame) — a smooth list keeps them near 16.7 ms.
//   trace: the console already open, the trace's URL is set and the time to
//         its rows on screen is read from the view's performance marks
//         (request sent → rows committed), and from the hash change.
import { resolve } from 'node:path';
import { launchBrowser } from '../../tests/e2e/lib/browser.mjs';
import { bigTrace, putDocuments, scenario } from '../../tests/e2e/lib/demo-data.mjs';
import { startServer } from '../../tests/compat/lib/server.mjs';

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const runs = Number(option('--runs', '5'));
const traceCount = Number(option('--traces', '10000'));
if (option('--bin')) process.env.ROENTGEN_BIN = resolve(option('--bin'));

const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return { min: s[0], median: q(0.5), max: s[s.length - 1], p95: q(0.95), p99: q(0.99) };
};
const ms = (x) => `${x.toFixed(0)} ms`;

const server = await startServer({ args: ['--otlp-grpc-listen', 'off', '--log-level', 'warn'] });
let browser;
try {
  const now = Date.now() / 1000;
  const data = scenario({ now, count: traceCount, spreadSeconds: 3000, seed: 5 });
  const big = bigTrace({ now, spans: 5000 });
  const loadStart = Date.now();
  await putDocuments(server.endpoint, data.documents, { batch: 500 });
  await putDocuments(server.endpoint, big.documents, { batch: 10 });
  console.log(`loaded ${traceCount} traces (${data.documents.length} documents) and a ${big.spans}-span trace in ${((Date.now() - loadStart) / 1000).toFixed(1)} s`);

  browser = await launchBrowser();
  const list = { first: [], all: [], frames: [], long: [] };
  const trace = { open: [], hash: [] };
  let firstLoad;
  for (let run = 0; run < runs; run++) {
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const page = await context.newPage();
    const t0 = Date.now();
    await page.goto(`${server.endpoint}/#/traces?range=1h`);
    await page.locator('[data-trace-id]').first().waitFor();
    list.first.push(Date.now() - t0);
    // What the first load transferred (compressed as sent), API answers apart.
    firstLoad = await page.evaluate(() => {
      const entries = [...performance.getEntriesByType('navigation'), ...performance.getEntriesByType('resource')];
      const files = entries.filter((e) => e.initiatorType !== 'fetch');
      return { bytes: files.reduce((n, e) => n + e.encodedBodySize, 0), decoded: files.reduce((n, e) => n + e.decodedBodySize, 0), files: files.length };
    });

    const t1 = Date.now();
    await page.getByRole('button', { name: 'Load all' }).click();
    await page.waitForFunction(
      (n) => Number(document.querySelector('[data-testid="trace-list"]')?.getAttribute('data-rows')) >= n,
      traceCount + 1,
      { timeout: 120_000, polling: 100 },
    );
    list.all.push(Date.now() - t1);

    // Scroll top to bottom, 8 rows a frame, recording frame intervals.
    const frames = await page.evaluate(async () => {
      const el = document.querySelector('.trace-scroll');
      el.scrollTop = 0;
      await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
      const intervals = [];
      let last = performance.now();
      return new Promise((resolveFrames) => {
        const step = () => {
          const t = performance.now();
          intervals.push(t - last);
          last = t;
          if (el.scrollTop + el.clientHeight >= el.scrollHeight - 1) return resolveFrames(intervals);
          el.scrollTop += 8 * 34;
          requestAnimationFrame(step);
        };
        requestAnimationFrame(step);
      });
    });
    list.frames.push(...frames.slice(1));
    list.long.push(frames.filter((f) => f > 50).length);

    // The big trace, opened from the running console.
    const opened = await page.evaluate(async (id) => {
      performance.clearMarks();
      const start = performance.now();
      location.hash = `#/trace/${id}`;
      while (!performance.getEntriesByName('roentgen:trace:rows').length) await new Promise((r) => setTimeout(r, 5));
      const rows = performance.getEntriesByName('roentgen:trace:rows')[0].startTime;
      const open = performance.getEntriesByName('roentgen:trace:open')[0].startTime;
      return { fromHash: rows - start, fromRequest: rows - open };
    }, big.id);
    trace.open.push(opened.fromRequest);
    trace.hash.push(opened.fromHash);
    await context.close();
  }

  const row = (name, xs, unit = ms) => {
    const s = stats(xs);
    return `| ${name} | ${unit(s.min)} | ${unit(s.median)} | ${unit(s.max)} |`;
  };
  const f = stats(list.frames);
  console.log(`\n${runs} runs, ${traceCount} traces in the list, a ${big.spans}-span trace\n`);
  console.log('| measure | min | median | max |');
  console.log('|---|---:|---:|---:|');
  console.log(row('list: navigation → first rows', list.first));
  console.log(row(`list: Load all → ${traceCount.toLocaleString('en-US')} rows`, list.all));
  console.log(row('trace: hash change → rows on screen', trace.hash));
  console.log(row('trace: BatchGetTraces sent → rows on screen', trace.open));
  console.log(`\nfirst load of the traces view: ${firstLoad.files} files, ${(firstLoad.bytes / 1024).toFixed(1)} KiB compressed as sent (bodies), ${(firstLoad.decoded / 1024).toFixed(1)} KiB decoded`);
  console.log(`scrolling ${traceCount.toLocaleString('en-US')} rows, 8 rows a frame: ${list.frames.length} frames, interval median ${f.median.toFixed(1)} ms, p95 ${f.p95.toFixed(1)} ms, p99 ${f.p99.toFixed(1)} ms, max ${f.max.toFixed(1)} ms; frames over 50 ms per run: ${list.long.join(', ')}`);
} finally {
  await browser?.close();
  await server.stop();
}
