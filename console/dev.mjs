// Development server: rebuilds the console on every change and serves it on
// loopback, passing API requests through to a running roentgen.
//
//   node dev.mjs --api http://127.0.0.1:2000 [--port 5173]
//
// The production console is embedded in the roentgen binary (build.mjs);
// this is only for working on the console without rebuilding the server.
import { context } from 'esbuild';
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { dirname, join, extname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const api = option('--api', 'http://127.0.0.1:2000');
const port = Number(option('--port', '5173'));
const outdir = join(here, 'dist-dev');

const ctx = await context({
  entryPoints: { main: join(here, 'src', 'main.tsx') },
  bundle: true,
  format: 'esm',
  splitting: true,
  outdir: join(outdir, 'assets'),
  publicPath: '/assets',
  jsx: 'automatic',
  jsxImportSource: 'preact',
  sourcemap: 'inline',
  logLevel: 'info',
});
await ctx.watch();

const types = { '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml', '.html': 'text/html' };
const html = readFileSync(join(here, 'src', 'index.html'), 'utf8')
  .replace('%MAIN_JS%', '/assets/main.js')
  .replace('%MAIN_CSS%', '<link rel="stylesheet" href="/assets/main.css">');

createServer(async (req, res) => {
  const path = new URL(req.url, 'http://x').pathname;
  try {
    if (req.method === 'GET' && (path === '/' || path === '/index.html')) {
      res.writeHead(200, { 'content-type': types['.html'] }).end(html);
    } else if (req.method === 'GET' && path === '/favicon.svg') {
      res.writeHead(200, { 'content-type': types['.svg'] }).end(readFileSync(join(here, 'src', 'favicon.svg')));
    } else if (req.method === 'GET' && path.startsWith('/assets/')) {
      const file = join(outdir, path);
      res.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream' }).end(readFileSync(file));
    } else {
      const chunks = [];
      for await (const c of req) chunks.push(c);
      const headers = { ...req.headers };
      delete headers.host;
      const upstream = await fetch(api + req.url, {
        method: req.method,
        headers,
        body: req.method === 'GET' ? undefined : Buffer.concat(chunks),
      });
      const body = Buffer.from(await upstream.arrayBuffer());
      const out = {};
      upstream.headers.forEach((v, k) => {
        if (k !== 'content-encoding' && k !== 'content-length') out[k] = v;
      });
      res.writeHead(upstream.status, out).end(body);
    }
  } catch (e) {
    res.writeHead(502, { 'content-type': 'text/plain' }).end(String(e));
  }
}).listen(port, '127.0.0.1', () => console.log(`console dev server on http://127.0.0.1:${port}/ (API: ${api})`));
