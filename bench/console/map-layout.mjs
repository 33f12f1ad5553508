// The console's service-map benchmark (issue 21: a 200-node service map lays
// out in under 1 s in Chromium). Loads a synthetic layered call graph of 200
// services (map-layout-data.mjs) into a roentgen, opens #/map in headless
// Chromium (playwright-core, a fresh browser context per run, so nothing is
// cached) and reads the marks the view records:
//   drawn    navigation start → the map on screen (performance mark 'map-drawn')
//   layout   the dagre layout call alone (measure 'map-layout')
//   render   the layout's end → the map on screen (Preact render, SVG paint)
//   graph    the GetServiceGraph request (resource timing)
//
//   node bench/console/map-layout.mjs [--runs 5] [--services 200]
//        [--endpoint http://127.0.0.1:2000]   use a running server (loads the data into it)
//        [--console URL]                      where the console is served (default: the endpoint)
//        [--bin build/src/cli/roentgen]       the server to start when no --endpoint
//
// Without --endpoint it starts `roentgen serve` by PID on a free loopback port
// with a fresh data dir and stops it at the end. When the server does not
// serve the console at / (a build without it), the console is built with
// console/build.mjs into a temporary directory and served here, with API
// requests passed through to the server.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchBrowser } from '../../tests/e2e/lib/browser.mjs';
import { putDocuments } from '../../tests/e2e/lib/demo-data.mjs';
import { startServer } from '../../tests/compat/lib/server.mjs';
import { mapDocuments } from './map-layout-data.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const runs = Number(option('--runs', '5'));
const services = Number(option('--services', '200'));
let endpoint = option('--endpoint');
let consoleUrl = option('--console');
if (option('--bin')) process.env.ROENTGEN_BIN = resolve(option('--bin'));

const cleanups = [];
async function cleanup() {
  for (const f of cleanups.reverse()) await f().catch(() => {});
}

// The built console served from `dir`, everything else passed to `api`.
async function serveConsole(dir, api) {
  const types = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml' };
  const server = createServer(async (req, res) => {
    const path = req.url.split('?')[0];
    const file = join(dir, path === '/' ? 'index.html' : path);
    if (req.method === 'GET' && file.startsWith(dir) && existsSync(file) && extname(file)) {
      res.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream' });
      res.end(readFileSync(file));
      return;
    }
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const upstream = await fetch(api + req.url, { method: req.method, headers: { 'content-type': req.headers['content-type'] ?? 'application/json' }, body: req.method === 'GET' ? undefined : Buffer.concat(chunks) });
    res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/json' });
    res.end(Buffer.from(await upstream.arrayBuffer()));
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => new Promise((r) => server.close(r)));
  return `http://127.0.0.1:${server.address().port}`;
}

async function waitForGraph(api, expectNodes) {
  const deadline = Date.now() + 60_000;
  let nodes = 0;
  while (Date.now() < deadline) {
    const now = Date.now() / 1000;
    const res = await fetch(`${api}/ServiceGraph`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ StartTime: now - 3600, EndTime: now + 60 }) });
    const body = await res.json();
    nodes = body.Services?.length ?? 0;
    if (nodes >= expectNodes) return nodes;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`the service graph has ${nodes} nodes, expected ${expectNodes}`);
}

const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return { min: s[0], median: s[Math.floor((s.length - 1) / 2)] + (s.length % 2 ? 0 : (s[s.length / 2] - s[(s.length - 1) >> 1]) / 2), max: s[s.length - 1] };
};
const ms = (x) => `${x.toFixed(0).padStart(6)} ms`;

try {
  if (!endpoint) {
    const server = await startServer({ args: ['--otlp-grpc-listen', 'off', '--log-level', 'warn'] });
    cleanups.push(() => server.stop());
    endpoint = server.endpoint;
    console.log(`roentgen on ${endpoint} (fresh data dir ${server.dataDir})`);
  }
  const data = mapDocuments({ services });
  const t0 = performance.now();
  await putDocuments(endpoint, data.documents, { batch: 500 });
  const nodes = await waitForGraph(endpoint, services + 1);
  console.log(`loaded ${data.traces} traces (${data.documents.length} segments) in ${((performance.now() - t0) / 1000).toFixed(1)} s: ${nodes} nodes in the map`);

  if (!consoleUrl) {
    const res = await fetch(`${endpoint}/`);
    if (res.ok && /<html/i.test(await res.text())) consoleUrl = endpoint;
    else {
      const dir = mkdtempSync(join(tmpdir(), 'roentgen-map-bench-'));
      cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
      execFileSync(process.execPath, [join(root, 'console', 'build.mjs'), '--no-typecheck', '--outdir', dir], { stdio: 'ignore' });
      consoleUrl = await serveConsole(dir, endpoint);
      console.log(`the server does not serve the console: serving a fresh build of console/ on ${consoleUrl}`);
    }
  }

  const browser = await launchBrowser();
  cleanups.push(() => browser.close());
  const rows = [];
  for (let run = 1; run <= runs; run++) {
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    const page = await context.newPage();
    await page.goto(`${consoleUrl}/#/map?range=1h`);
    await page.locator('.map-canvas[data-drawn]').waitFor({ timeout: 30_000 });
    const r = await page.evaluate(() => {
      const drawn = performance.getEntriesByName('map-drawn')[0]?.startTime;
      const layout = performance.getEntriesByName('map-layout')[0]?.duration;
      const render = drawn - performance.getEntriesByName('map-layout-end')[0]?.startTime;
      const graph = performance.getEntriesByType('resource').find((e) => e.name.endsWith('/ServiceGraph'));
      const nodes = Number(document.querySelector('.map-canvas')?.getAttribute('data-nodes'));
      const edges = document.querySelectorAll('.map-edge').length;
      return { drawn, layout, render, graph: graph?.duration, nodes, edges };
    });
    await context.close();
    rows.push(r);
    console.log(`run ${run}: ${r.nodes} nodes, ${r.edges} edges · drawn ${ms(r.drawn)} · layout ${ms(r.layout)} · render ${ms(r.render)} · GetServiceGraph ${ms(r.graph)}`);
  }
  console.log('');
  console.log(`| ${services}-service map (${rows[0].nodes} nodes, ${rows[0].edges} edges), ${runs} runs | min | median | max |`);
  console.log('|---|---:|---:|---:|');
  for (const [label, key] of [
    ['navigation → map drawn', 'drawn'],
    ['layout (dagre)', 'layout'],
    ['render and paint', 'render'],
    ['GetServiceGraph request', 'graph'],
  ]) {
    const s = stats(rows.map((r) => r[key]));
    console.log(`| ${label} | ${s.min.toFixed(0)} ms | ${s.median.toFixed(0)} ms | ${s.max.toFixed(0)} ms |`);
  }
} finally {
  await cleanup();
}
