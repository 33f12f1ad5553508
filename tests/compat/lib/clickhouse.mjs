// Starts a clickhouse-server of the test's own on 127.0.0.1 (free ports, its
// data, logs and configuration in one directory), started and stopped by
// PID: never the system's service. The same configuration as the C++ tests'
// server (src/store/clickhouse/testing/clickhouse_test_server.cpp).
// ROENTGEN_CLICKHOUSE_SERVER names another clickhouse-server program.
import { spawn } from 'node:child_process';
import { accessSync, constants, mkdirSync, mkdtempSync, openSync, closeSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';

export const CLICKHOUSE_SERVER = process.env.ROENTGEN_CLICKHOUSE_SERVER || '/usr/sbin/clickhouse-server';
// The user with a password in the server's users.xml (for authentication tests).
export const CLICKHOUSE_PASSWORD_USER = 'roentgen';
export const CLICKHOUSE_PASSWORD = "s3cret 'pass\\word";

// `count` distinct TCP ports free on 127.0.0.1 now (all held at once).
async function freeLoopbackPorts(count) {
  const servers = [];
  try {
    for (let i = 0; i < count; i++) {
      const srv = net.createServer();
      await new Promise((resolve, reject) => {
        srv.once('error', reject);
        srv.listen(0, '127.0.0.1', resolve);
      });
      servers.push(srv);
    }
    return servers.map((s) => s.address().port);
  } finally {
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  }
}

const xml = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function writeConfig(dir, { httpPort, tcpPort, interserverPort }) {
  const d = xml(dir);
  writeFileSync(join(dir, 'config.xml'), `<?xml version="1.0"?>
<!-- A ClickHouse server of a test's own (tests/compat/lib/clickhouse.mjs). -->
<yandex>
  <logger>
    <level>warning</level>
    <log>${d}/log/server.log</log>
    <errorlog>${d}/log/err.log</errorlog>
    <console>0</console>
  </logger>
  <listen_host>127.0.0.1</listen_host>
  <http_port>${httpPort}</http_port>
  <tcp_port>${tcpPort}</tcp_port>
  <interserver_http_port>${interserverPort}</interserver_http_port>
  <interserver_http_host>127.0.0.1</interserver_http_host>
  <path>${d}/data/</path>
  <tmp_path>${d}/tmp/</tmp_path>
  <user_files_path>${d}/user_files/</user_files_path>
  <format_schema_path>${d}/format_schemas/</format_schema_path>
  <users_config>${d}/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <keep_alive_timeout>3</keep_alive_timeout>
  <mark_cache_size>5368709</mark_cache_size>
  <uncompressed_cache_size>8388608</uncompressed_cache_size>
</yandex>
`);
  const user = (name, password) => `    <${name}>
      <password>${xml(password)}</password>
      <networks><ip>::1</ip><ip>127.0.0.1</ip></networks>
      <profile>default</profile>
      <quota>default</quota>
    </${name}>`;
  writeFileSync(join(dir, 'users.xml'), `<?xml version="1.0"?>
<yandex>
  <profiles><default><max_memory_usage>2000000000</max_memory_usage></default></profiles>
  <users>
${user('default', '')}
${user(CLICKHOUSE_PASSWORD_USER, CLICKHOUSE_PASSWORD)}
  </users>
  <quotas>
    <default>
      <interval>
        <duration>3600</duration><queries>0</queries><errors>0</errors>
        <result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time>
      </interval>
    </default>
  </quotas>
</yandex>
`);
}

function logTail(dir) {
  let text = '';
  for (const name of ['err.log', 'stdout.log']) {
    try {
      text += readFileSync(join(dir, 'log', name), 'utf8');
    } catch {
      // not written (yet)
    }
  }
  return text.length > 4000 ? `…${text.slice(-4000)}` : text || '(no log)';
}

async function ping(port) {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/ping`);
    return res.status === 200 && (await res.text()) === 'Ok.\n';
  } catch {
    return false;
  }
}

// Starts the server with its files under `dir` (a fresh temp dir, removed by
// stop(), when none is given) and waits until GET /ping answers (60 s).
// Returns { url, urlFor(database), httpPort, tcpPort, pid, dir, query(sql), stop() }.
export async function startClickHouse(dir) {
  try {
    accessSync(CLICKHOUSE_SERVER, constants.X_OK);
  } catch {
    throw new Error(`cannot run ${CLICKHOUSE_SERVER}: the ClickHouse tests start one of their own; ` +
      'run scripts/install-deps.sh --with-tests to install it (or set ROENTGEN_CLICKHOUSE_SERVER)');
  }
  const ownDir = !dir;
  dir ??= mkdtempSync(join(tmpdir(), 'roentgen-clickhouse-'));
  for (const sub of ['data', 'tmp', 'user_files', 'format_schemas', 'log']) mkdirSync(join(dir, sub), { recursive: true });
  let lastError;
  // Fresh ports again when another process took one before the server bound it.
  for (let attempt = 0; attempt < 5; attempt++) {
    const [httpPort, tcpPort, interserverPort] = await freeLoopbackPorts(3);
    writeConfig(dir, { httpPort, tcpPort, interserverPort });
    const out = openSync(join(dir, 'log', 'stdout.log'), 'a');
    const proc = spawn(CLICKHOUSE_SERVER, [`--config-file=${join(dir, 'config.xml')}`], {
      stdio: ['ignore', out, out],
    });
    closeSync(out);
    let exit;
    const exited = new Promise((resolve) => proc.on('exit', (code, signal) => {
      exit = { code, signal };
      resolve(exit);
    }));
    const deadline = Date.now() + 60000;
    while (!exit && Date.now() < deadline && !(await ping(httpPort))) {
      await new Promise((r) => setTimeout(r, 50));
    }
    if (!exit && Date.now() < deadline) {
      return clickHouseHandle({ dir, ownDir, proc, exited, httpPort, tcpPort });
    }
    if (!exit) {
      proc.kill('SIGKILL');
      await exited;
      lastError = new Error(`${CLICKHOUSE_SERVER} did not answer /ping on 127.0.0.1:${httpPort} within 60 s; its log ends:\n${logTail(dir)}`);
      break;
    }
    lastError = new Error(`${CLICKHOUSE_SERVER} exited (${exit.signal ?? `status ${exit.code}`}) before answering on 127.0.0.1:${httpPort}; its log ends:\n${logTail(dir)}`);
    if (!logTail(dir).includes('Address already in use')) break;
  }
  if (ownDir) rmSync(dir, { recursive: true, force: true });
  throw lastError;
}

function clickHouseHandle({ dir, ownDir, proc, exited, httpPort, tcpPort }) {
  const urlFor = (database) => `clickhouse://127.0.0.1:${httpPort}/${database}`;
  return {
    url: urlFor('default'),
    urlFor,
    httpPort,
    tcpPort,
    pid: proc.pid,
    dir,
    // Runs `sql` as the user "default"; the response body, or throws with
    // ClickHouse's error text.
    async query(sql) {
      const res = await fetch(`http://127.0.0.1:${httpPort}/`, { method: 'POST', body: sql });
      const text = await res.text();
      if (res.status !== 200) throw new Error(`ClickHouse on port ${httpPort}: ${text.trim()}`);
      return text;
    },
    // Lets the test process end while the server runs (node otherwise
    // waits for its child): for a server stopped by a process 'exit' hook.
    unref() {
      proc.unref();
    },
    // SIGTERM, SIGKILL after 20 s; the directory is removed when it was ours.
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGTERM');
        const timer = setTimeout(() => proc.kill('SIGKILL'), 20000);
        await exited;
        clearTimeout(timer);
      }
      if (ownDir) rmSync(dir, { recursive: true, force: true });
    },
  };
}
