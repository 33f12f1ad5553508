// Starts a real `roentgen serve` on a free loopback port with a fresh data dir.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import dgram from 'node:dgram';
import https from 'node:https';
import { startClickHouse } from './clickhouse.mjs';

export const BIN = process.env.ROENTGEN_BIN ?? new URL('../../../build/src/cli/roentgen', import.meta.url).pathname;

// ROENTGEN_TEST_STORE_ENGINE (rocksdb, block, clickhouse): the storage engine
// every server the tests start uses, unless a test names one (--store-engine,
// --store). clickhouse: a ClickHouse server of this test process's own
// (lib/clickhouse.mjs, started at the first server, killed by PID when the
// process exits), a database per data dir, so a server restarted on its data
// dir finds its traces again.
export const STORE_ENGINE = process.env.ROENTGEN_TEST_STORE_ENGINE || undefined;
export function storeEngineArgs(args = []) {
  if (!STORE_ENGINE || STORE_ENGINE === 'clickhouse') return [];
  return !args.includes('--store-engine') ? ['--store-engine', STORE_ENGINE] : [];
}

let sharedClickHouse;
async function clickHouseStoreArgs(args, dataDir) {
  if (STORE_ENGINE !== 'clickhouse' || args.includes('--store') || args.includes('--store-engine')) return [];
  if (!sharedClickHouse) {
    sharedClickHouse = startClickHouse();
    const ch = await sharedClickHouse;
    ch.unref();
    process.on('exit', () => {
      try { process.kill(ch.pid, 'SIGKILL'); } catch { /* already gone */ }
      rmSync(ch.dir, { recursive: true, force: true });
    });
  }
  const ch = await sharedClickHouse;
  const database = `compat_${createHash('sha256').update(dataDir).digest('hex').slice(0, 16)}`;
  return ['--store', ch.urlFor(database)];
}

async function portIsFree(port) {
  const tcpOk = await new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
  if (!tcpOk) return false;
  return new Promise((resolve) => {
    const sock = dgram.createSocket('udp4');
    sock.once('error', () => resolve(false));
    sock.bind(port, '127.0.0.1', () => sock.close(() => resolve(true)));
  });
}

// A port free for both TCP and UDP (the server listens on both, like the daemon).
export async function freePort() {
  for (let i = 0; i < 50; i++) {
    const port = 20000 + Math.floor(Math.random() * 30000);
    if (await portIsFree(port)) return port;
  }
  throw new Error('no free port found');
}

// GET https://127.0.0.1:port/path trusting `ca` (PEM): { status, body }.
export function httpsGet(port, path, ca) {
  return new Promise((resolve, reject) => {
    https.get({ host: '127.0.0.1', port, path, ca }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode, body }));
    }).on('error', reject);
  });
}

// `ca`: the server speaks HTTPS with a certificate this PEM trusts.
export async function waitHealthy(port, timeoutMs = 20000, ca = undefined) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    try {
      const res = ca ? await httpsGet(port, '/healthz', ca) : await fetch(`http://127.0.0.1:${port}/healthz`);
      if (res.status === 200) return;
      last = `status ${res.status}`;
    } catch (e) {
      last = e.message;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`server on port ${port} not healthy: ${last}`);
}

// `tls`: { cert, key, ca } file paths and the CA's PEM: HTTPS with that
// certificate (--tls-cert, --tls-key), the endpoint https://….
export async function startServer({ dataDir, port, args = [], tls } = {}) {
  const ownDir = !dataDir;
  dataDir ??= mkdtempSync(join(tmpdir(), 'roentgen-compat-'));
  port ??= await freePort();
  if (tls) args = [...args, '--tls-cert', tls.cert, '--tls-key', tls.key];
  args = [...storeEngineArgs(args), ...(await clickHouseStoreArgs(args, dataDir)), ...args];
  const proc = spawn(BIN, ['serve', '--listen', `127.0.0.1:${port}`, '--data-dir', dataDir, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  proc.stdout.on('data', (d) => { output += d; });
  proc.stderr.on('data', (d) => { output += d; });
  const exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  try {
    await waitHealthy(port, 20000, tls?.ca);
  } catch (e) {
    proc.kill('SIGKILL');
    throw new Error(`${e.message}\n--- server output ---\n${output}`);
  }
  return {
    port,
    dataDir,
    endpoint: `${tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    output: () => output,
    exited,
    signal(name) {
      proc.kill(name);
    },
    async stop() {
      proc.kill('SIGTERM');
      const r = await exited;
      if (ownDir) rmSync(dataDir, { recursive: true, force: true });
      return r;
    },
    async kill9() {
      proc.kill('SIGKILL');
      return exited;
    },
  };
}
