// `roentgen backup` and `roentgen restore` (docs/operations.md, docs/storage.md
// "Backup and restore"): a backup taken while the server takes traces over
// HTTP (the real @aws-sdk/client-xray), UDP (the daemon protocol) and OTLP
// (the OpenTelemetry JS exporter) holds every trace acknowledged before it
// began; restored into a new data dir, a server started on it finds them all
// with GetTraceSummaries and BatchGetTraces. A stopped data dir backs up too.
// And the refusals: a target that is not empty, no data dir, a full disk.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { BatchGetTracesCommand, PutTraceSegmentsCommand, paginateGetTraceSummaries } from '@aws-sdk/client-xray';
import { SpanKind } from '@opentelemetry/api';
import { OTLPTraceExporter as ProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { BIN, STORE_ENGINE, startServer } from './lib/server.mjs';

// `roentgen backup` copies a data dir's embedded store; a ClickHouse store is
// backed up with ClickHouse's own tools (docs/storage.md, "ClickHouse engine").
const NOT_EMBEDDED = STORE_ENGINE === 'clickhouse' && 'the store is a ClickHouse database, not in the data dir';
import { xrayClient, eventually, sleep } from './lib/clients.mjs';
import { otel, xrayTraceId } from './lib/otel.mjs';

const newId = () => randomBytes(8).toString('hex');
const newTraceId = () => `1-${Math.floor(Date.now() / 1000).toString(16).padStart(8, '0')}-${randomBytes(12).toString('hex')}`;

// Runs `roentgen ...args` to its end: { code, stdout, stderr }.
function run(...args) {
  return new Promise((resolve) => {
    const proc = spawn(BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d) => { stdout += d; });
    proc.stderr.on('data', (d) => { stderr += d; });
    proc.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

async function metric(endpoint, pattern) {
  const text = await (await fetch(`${endpoint}/metrics`)).text();
  const m = text.match(new RegExp(`^${pattern} (\\d+)$`, 'm'));
  return m ? Number(m[1]) : 0;
}

// Every id of `traceIds` that GetTraceSummaries lists and BatchGetTraces
// returns on `endpoint` (a restarted server delivers its spools' backlog
// first: waits up to 30 s for all of them).
async function findAll(endpoint, traceIds, start) {
  const client = xrayClient(endpoint);
  const fetched = new Set();
  const listed = new Set();
  try {
    await eventually(async () => {
      for (let i = 0; i < traceIds.length; i += 5) {
        const ids = traceIds.slice(i, i + 5).filter((id) => !fetched.has(id));
        if (ids.length === 0) continue;
        const out = await client.send(new BatchGetTracesCommand({ TraceIds: ids }));
        for (const t of out.Traces) fetched.add(t.Id);
      }
      listed.clear();
      const pages = paginateGetTraceSummaries({ client },
        { StartTime: new Date(start * 1000 - 60e3), EndTime: new Date(Date.now() + 60e3) });
      for await (const page of pages) for (const s of page.TraceSummaries) listed.add(s.Id);
      return traceIds.every((id) => fetched.has(id) && listed.has(id));
    }, { timeoutMs: 30000, intervalMs: 500 });
  } catch {
    // Reported by the caller's assertions.
  }
  return { fetched, listed };
}

function assertAllFound(found, traceIds, what) {
  const notFetched = traceIds.filter((id) => !found.fetched.has(id));
  const notListed = traceIds.filter((id) => !found.listed.has(id));
  assert.deepEqual(notFetched, [], `${notFetched.length} of ${traceIds.length} ${what} missing from BatchGetTraces`);
  assert.deepEqual(notListed, [], `${notListed.length} of ${traceIds.length} ${what} missing from GetTraceSummaries`);
}

// Sustained ingest over HTTP, UDP and OTLP until stop(); what was
// acknowledged at the moment mark() is called: the HTTP 200s, the OTLP
// exports answered, and the first N datagrams sent, N being those the server
// counted as durable in its spool (roentgen_spool_appended_total; datagrams
// are spooled in the order they arrive, and none is lost in the kernel at
// this rate).
function ingest(server) {
  let running = true;
  const http = [];
  const udpSent = [];
  const otlp = [];
  const httpWorker = async (w) => {
    const client = xrayClient(server.endpoint);
    while (running) {
      const now = Date.now() / 1000;
      const ids = Array.from({ length: 10 }, newTraceId);
      const docs = ids.map((id) => JSON.stringify({ name: `http-${w}`, id: newId(), trace_id: id, start_time: now - 0.1, end_time: now }));
      const out = await client.send(new PutTraceSegmentsCommand({ TraceSegmentDocuments: docs }));
      assert.deepEqual(out.UnprocessedTraceSegments, []);
      http.push(...ids);
    }
  };
  const udpSender = async () => {
    const sock = dgram.createSocket('udp4');
    while (running) {
      for (let i = 0; i < 10; i++) {
        const now = Date.now() / 1000;
        const id = newTraceId();
        udpSent.push(id);
        const doc = JSON.stringify({ name: 'udp-backup', id: newId(), trace_id: id, start_time: now - 0.1, end_time: now });
        await new Promise((resolve) => sock.send(`{"format":"json","version":1}\n${doc}`, server.port, '127.0.0.1', resolve));
      }
      await sleep(10);  // ~1,000 datagrams a second
    }
    sock.close();
  };
  const o = otel('otel-backup', new ProtoExporter({ url: `${server.endpoint}/v1/traces` }));
  const otlpWorker = async () => {
    while (running) {
      const batch = [];
      for (let i = 0; i < 10; i++) {
        const span = o.tracer.startSpan(`GET /items/${i}`, { kind: SpanKind.SERVER });
        span.end();
        batch.push(xrayTraceId(span.spanContext().traceId));
      }
      await o.flush();  // answered: durable in the OTLP spool
      otlp.push(...batch);
    }
  };
  const workers = [httpWorker(0), httpWorker(1), udpSender(), otlpWorker()];
  return {
    async mark() {
      const httpAcked = [...http];
      const otlpAcked = [...otlp];
      const spooled = await metric(server.endpoint, 'roentgen_spool_appended_total\\{spool="udp"\\}');
      return { http: httpAcked, otlp: otlpAcked, udp: udpSent.slice(0, spooled) };
    },
    async stop() {
      running = false;
      await Promise.all(workers);
      await o.shutdown();
      return { http: [...http], otlp: [...otlp], udp: [...udpSent] };
    },
  };
}

test('a backup taken during sustained ingest holds every acknowledged trace; restored, a server finds them all', {
  skip: NOT_EMBEDDED,
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'roentgen-backup-'));
  const dataDir = join(dir, 'data');
  try {
    const start = Date.now() / 1000;
    const server = await startServer({ dataDir, args: ['--otlp-grpc-listen', 'off'] });
    const load = ingest(server);
    await sleep(1500);
    // Acknowledged before the backup began; the backup runs while ingest goes on.
    const before = await load.mark();
    const backup = await run('backup', '--data-dir', dataDir, '--to', join(dir, 'backup'));
    await sleep(500);
    const all = await load.stop();
    const stopped = await server.stop();
    assert.equal(stopped.code, 0, server.output());
    assert.equal(backup.code, 0, backup.stderr);
    assert.match(backup.stdout, /from its running server/);
    assert.ok(before.http.length > 0 && before.udp.length > 0 && before.otlp.length > 0,
      `ingest ran: ${before.http.length} HTTP, ${before.udp.length} UDP, ${before.otlp.length} OTLP`);
    assert.match(server.output(), /backup: completed/);  // logged before the server stopped
    // The snapshot held spooled records of every spool (not all stored yet, maybe).
    assert.match(server.output(), /spooled records: [1-9]\d* udp, [1-9]\d* otlp and [1-9]\d* api files/);
    // The server removed its staged snapshot.
    assert.equal(existsSync(join(dataDir, 'backup-staging')), false);

    const manifest = JSON.parse(readFileSync(join(dir, 'backup', 'roentgen-backup.json'), 'utf8'));
    assert.equal(manifest.format, 'roentgen-backup 1');
    assert.equal(manifest.server_running, true);
    // The store's files (either engine: RocksDB's CURRENT, or the block manifest's).
    assert.ok(manifest.files.some((f) => f.path === 'CURRENT' || f.path === 'blocks/CURRENT'));

    const restore = await run('restore', '--from', join(dir, 'backup'), '--data-dir', join(dir, 'restored'));
    assert.equal(restore.code, 0, restore.stderr);
    assert.match(restore.stdout, /the store opens/);
    const restored = await startServer({ dataDir: join(dir, 'restored'), args: ['--otlp-grpc-listen', 'off'] });
    try {
      const ids = [...before.http, ...before.udp, ...before.otlp];
      assertAllFound(await findAll(restored.endpoint, ids, start), ids, 'traces acknowledged before the backup');
    } finally {
      await restored.stop();
    }

    // The data dir, its server stopped: a backup holds everything.
    const offline = await run('backup', '--data-dir', dataDir, '--to', join(dir, 'offline'));
    assert.equal(offline.code, 0, offline.stderr);
    assert.match(offline.stdout, /no server was running/);
    const restore2 = await run('restore', '--from', join(dir, 'offline'), '--data-dir', join(dir, 'restored2'));
    assert.equal(restore2.code, 0, restore2.stderr);
    const second = await startServer({ dataDir: join(dir, 'restored2'), args: ['--otlp-grpc-listen', 'off'] });
    try {
      const ids = [...all.http, ...all.otlp, ...before.udp];
      assertAllFound(await findAll(second.endpoint, ids, start), ids, 'traces stored before the server stopped');
    } finally {
      await second.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('backup and restore refuse what they cannot do, with a clear message', {
  skip: NOT_EMBEDDED,
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'roentgen-backup-errors-'));
  try {
    const dataDir = join(dir, 'data');
    const server = await startServer({ dataDir, args: ['--otlp-grpc-listen', 'off'] });
    try {
      mkdirSync(join(dir, 'full'));
      writeFileSync(join(dir, 'full', 'keep-me'), 'x');
      let r = await run('backup', '--data-dir', dataDir, '--to', join(dir, 'full'));
      assert.equal(r.code, 1);
      assert.match(r.stderr, /roentgen backup: --to .*full is not empty \(it holds keep-me/);
      assert.equal(readFileSync(join(dir, 'full', 'keep-me'), 'utf8'), 'x');

      r = await run('backup', '--data-dir', join(dir, 'nowhere'), '--to', join(dir, 'b1'));
      assert.equal(r.code, 1);
      assert.match(r.stderr, /there is no data dir .*nowhere/);
      assert.equal(existsSync(join(dir, 'b1')), false);

      r = await run('backup', '--data-dir', dataDir, '--to', join(dataDir, 'b2'));
      assert.equal(r.code, 1);
      assert.match(r.stderr, /is inside the data dir/);

      r = await run('backup', '--data-dir', dataDir);
      assert.equal(r.code, 106);  // CLI11's RequiredError
      assert.match(r.stderr, /--to is required/);

      // A disk too small for the backup (a 64 KiB tmpfs: root only).
      const small = join(dir, 'small');
      mkdirSync(small);
      const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', small]);
      if (mounted.status === 0) {
        try {
          const client = xrayClient(server.endpoint);
          const now = Date.now() / 1000;
          // Incompressible documents, so the store's files outgrow the disk.
          for (let i = 0; i < 4; i++) {
            const docs = Array.from({ length: 20 }, () => JSON.stringify({
              name: 'big', id: newId(), trace_id: newTraceId(), start_time: now - 1, end_time: now,
              metadata: { default: { pad: randomBytes(3000).toString('base64') } },
            }));
            await client.send(new PutTraceSegmentsCommand({ TraceSegmentDocuments: docs }));
          }
          r = await run('backup', '--data-dir', dataDir, '--to', join(small, 'b3'));
          assert.equal(r.code, 1);
          assert.match(r.stderr, /not enough room for .* free of .* on the disk holding/);
          assert.deepEqual(readdirSync(small), []);  // the partial copy was removed
          await eventually(() => /backup: the client left before its copy was complete/.test(server.output()));
        } finally {
          spawnSync('umount', ['-l', small]);
        }
      }
    } finally {
      await server.stop();
    }

    // A stopped data dir belongs to another user: opening its store as root
    // would leave files the server cannot use.
    if (process.getuid() === 0) {
      spawnSync('chown', ['-R', 'nobody', dataDir]);
      const r = await run('backup', '--data-dir', dataDir, '--to', join(dir, 'b4'));
      spawnSync('chown', ['-R', 'root', dataDir]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /run it as the data dir's owner \(nobody\).*sudo -u nobody roentgen backup/);
      assert.equal(existsSync(join(dir, 'b4')), false);
    }

    // Restore: no backup; an unfinished one (no manifest); a damaged file.
    let r = await run('restore', '--from', join(dir, 'none'), '--data-dir', join(dir, 'r1'));
    assert.equal(r.code, 1);
    assert.match(r.stderr, /there is no backup directory/);
    r = await run('backup', '--data-dir', dataDir, '--to', join(dir, 'good'));
    assert.equal(r.code, 0, r.stderr);
    const manifest = JSON.parse(readFileSync(join(dir, 'good', 'roentgen-backup.json'), 'utf8'));
    // A data file of the store: a RocksDB table, or a block.
    const sst = manifest.files.find((f) => f.path.endsWith('.sst') || f.path.endsWith('.blk'));
    const damaged = readFileSync(join(dir, 'good', sst.path));
    damaged[damaged.length >> 1] ^= 0xff;
    writeFileSync(join(dir, 'good', sst.path), damaged);
    r = await run('restore', '--from', join(dir, 'good'), '--data-dir', join(dir, 'r2'));
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`the backup is damaged: .*${sst.path.replace('.', '\\.')}`));
    assert.equal(existsSync(join(dir, 'r2')), false);
    rmSync(join(dir, 'good', 'roentgen-backup.json'));
    r = await run('restore', '--from', join(dir, 'good'), '--data-dir', join(dir, 'r3'));
    assert.equal(r.code, 1);
    assert.match(r.stderr, /not a complete Roentgen backup: it has no roentgen-backup\.json/);
    // Into a data dir that is not empty (the old one).
    r = await run('restore', '--from', join(dir, 'good'), '--data-dir', dataDir);
    assert.equal(r.code, 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
