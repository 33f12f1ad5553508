// The notes page's web server (the static hosting of an Amplify app): the
// page, its script, the browser SDK's bundle, and /config.js, which tells
// the page where the API and Roentgen are.
//
// Environment: PORT (default 8080), HOST (127.0.0.1), API_URL (the notes
// API's origin), ROENTGEN_ENDPOINT (where the page sends its segments),
// XRAY_BUNDLE (sdk/browser/dist/xray.js), NOTES_SAMPLING=rules to follow
// the server's sampling rules instead of recording every action.
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import { fileURLToPath } from 'node:url';

const here = (name) => fileURLToPath(new URL(name, import.meta.url));
const env = (name, fallback) => {
  const v = process.env[name] ?? fallback;
  if (v === undefined) throw new Error(`${name} is not set`);
  return v;
};
const PORT = Number(env('PORT', '8080'));
const HOST = env('HOST', '127.0.0.1');
const config = {
  api: env('API_URL'),
  roentgen: env('ROENTGEN_ENDPOINT', 'http://127.0.0.1:2000'),
  sampling: process.env.NOTES_SAMPLING === 'rules',
};
const files = {
  '/': [here('index.html'), 'text/html; charset=utf-8'],
  '/index.html': [here('index.html'), 'text/html; charset=utf-8'],
  '/app.js': [here('app.js'), 'text/javascript; charset=utf-8'],
  '/style.css': [here('style.css'), 'text/css; charset=utf-8'],
  '/xray.js': [env('XRAY_BUNDLE', here('../../../sdk/browser/dist/xray.js')), 'text/javascript; charset=utf-8'],
};

const server = http.createServer(async (req, res) => {
  const path = new URL(req.url, 'http://localhost').pathname;
  try {
    if (path === '/config.js') {
      const body = `export default ${JSON.stringify(config)};\n`;
      res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-store' });
      return res.end(body);
    }
    const file = files[path];
    if (!file || req.method !== 'GET') {
      res.writeHead(404, { 'content-type': 'text/plain' });
      return res.end('not found\n');
    }
    const body = await readFile(file[0]);
    res.writeHead(200, { 'content-type': file[1], 'cache-control': 'no-cache' });
    res.end(body);
  } catch (err) {
    console.error('notes-web:', err);
    if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
    res.end('internal error\n');
  }
});
server.listen(PORT, HOST, () => console.log(`notes-web: http://${HOST}:${server.address().port}/`));
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
