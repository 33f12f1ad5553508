// Faults: a full disk (a small tmpfs; root only, skipped elsewhere) and
// damaged files. A full disk gives clear refusals and counters, the process
// stays up, reads go on, intake resumes by itself when space returns, and
// every acknowledged segment is there; start-up on a full disk or with a
// damaged file explains itself; damaged data is never served.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { closeSync, mkdtempSync, openSync, readdirSync, readSync, rmSync, statSync, writeFileSync, writeSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { BatchGetTracesCommand, PutTraceSegmentsCommand } from '@aws-sdk/client-xray';
import { BIN, STORE_ENGINE, startServer, storeEngineArgs } from './lib/server.mjs';
import { eventually, xrayClient } from './lib/clients.mjs';
import { mountSmallDisk } from './lib/small-disk.mjs';

const newId = () => randomBytes(8).toString('hex');
const newTraceId = () => `1-${Math.floor(Date.now() / 1000).toString(16).padStart(8, '0')}-${randomBytes(12).toString('hex')}`;
// A segment of about 1.5 KB (the filler does not compress), so a few MB hold a few thousand.
const segment = (traceId, name = 'faults') => {
  const now = Date.now() / 1000;
  return JSON.stringify({
    name, id: newId(), trace_id: traceId, start_time: now - 1, end_time: now,
    metadata: { default: { pad: randomBytes(700).toString('hex') } },
  });
};

async function metric(endpoint, pattern) {
  const text = await (await fetch(`${endpoint}/metrics`)).text();
  const m = text.match(new RegExp(`^${pattern} (\\d+)$`, 'm'));
  return m ? Number(m[1]) : undefined;
}

// Puts `count` traces in one request; their ids, or the error.
async function put(client, count) {
  const ids = Array.from({ length: count }, newTraceId);
  try {
    const out = await client.send(new PutTraceSegmentsCommand({ TraceSegmentDocuments: ids.map((id) => segment(id)) }));
    assert.deepEqual(out.UnprocessedTraceSegments, []);
    return { ids };
  } catch (error) {
    return { ids, error };
  }
}

// The ids of `traceIds` BatchGetTraces finds (5 a request, as X-Ray allows).
async function found(client, traceIds) {
  const got = new Set();
  for (let i = 0; i < traceIds.length; i += 5) {
    const out = await client.send(new BatchGetTracesCommand({ TraceIds: traceIds.slice(i, i + 5) }));
    for (const t of out.Traces) got.add(t.Id);
  }
  return got;
}

function sendDatagrams(port, traceIds) {
  const sock = dgram.createSocket('udp4');
  return new Promise((resolve, reject) => {
    let i = 0;
    const next = () => {
      if (i === traceIds.length) return sock.close(resolve);
      const body = `{"format":"json","version":1}\n${segment(traceIds[i++], 'faults-udp')}`;
      sock.send(body, port, '127.0.0.1', (e) => (e ? reject(e) : setImmediate(next)));
    };
    next();
  });
}

test('a full disk: writes refused with 503 and counted, reads go on, intake resumes by itself, nothing acknowledged lost', async (t) => {
  const disk = mountSmallDisk(16);
  if (disk.skip) return t.skip(disk.skip);
  const server = await startServer({ dataDir: join(disk.dir, 'data'), args: ['--otlp-grpc-listen', 'off'] });
  try {
    const client = xrayClient(server.endpoint);
    const acknowledged = [];
    for (let i = 0; i < 5; i++) {
      const r = await put(client, 10);
      assert.equal(r.error, undefined);
      acknowledged.push(...r.ids);
    }
    const udpBefore = Array.from({ length: 100 }, newTraceId);
    await sendDatagrams(server.port, udpBefore);
    await eventually(async () => (await metric(server.endpoint, 'roentgen_spool_appended_total\\{spool="udp"\\}')) >= 100);

    disk.fill();
    // The WAL's last page may take a request or two; then the disk is full.
    let refused;
    for (let i = 0; i < 50 && !refused; i++) {
      const r = await put(client, 10);
      if (r.error) refused = r.error;
      else acknowledged.push(...r.ids);
    }
    assert.ok(refused, 'PutTraceSegments was never refused on a full disk');
    assert.equal(refused.name, 'ServiceUnavailableException', String(refused));
    assert.equal(refused.$metadata.httpStatusCode, 503);
    assert.match(refused.message, /disk is full/);
    // UDP on the full disk: dropped and counted (the spool cannot write either).
    const udpDuring = Array.from({ length: 100 }, newTraceId);
    await sendDatagrams(server.port, udpDuring);
    await eventually(async () => (await metric(server.endpoint, 'roentgen_segments_dropped_total\\{reason="disk_full"\\}')) > 0);
    // OTLP: 503 with a google.rpc.Status body, which exporters retry.
    const otlp = await fetch(`${server.endpoint}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans: [{
        traceId: randomBytes(16).toString('hex'), spanId: newId(), name: 'on a full disk',
        startTimeUnixNano: `${BigInt(Date.now()) * 1000000n}`, endTimeUnixNano: `${BigInt(Date.now()) * 1000000n}`,
      }] }] }] }),
    });
    assert.equal(otlp.status, 503);
    // Whichever writes first meets the full disk and says so: the API spool
    // (PutTraceSegments is appended there before the store sees it), the
    // store when a write reaches it.
    const apiSpoolFull = await metric(server.endpoint, 'roentgen_disk_full\\{component="api_spool"\\}');
    const storeFull = await metric(server.endpoint, 'roentgen_disk_full\\{component="store"\\}');
    assert.ok(apiSpoolFull === 1 || storeFull === 1, `disk_full: api_spool ${apiSpoolFull}, store ${storeFull}`);
    if (storeFull === 1) {
      assert.equal(await metric(server.endpoint, 'roentgen_store_read_only'), 1);
      assert.ok(await metric(server.endpoint, 'roentgen_store_write_errors_total\\{reason="disk_full"\\}') >= 1);
    }
    // The process is up and reads go on.
    assert.equal((await fetch(`${server.endpoint}/healthz`)).status, 200);
    assert.equal((await found(client, acknowledged)).size, acknowledged.length);

    disk.free();
    const resumed = await eventually(async () => {
      const r = await put(client, 10);
      if (r.error) return undefined;
      acknowledged.push(...r.ids);
      return true;
    }, { timeoutMs: 20000, intervalMs: 200 });
    assert.ok(resumed);
    // Every acknowledged segment: HTTP's 200s, and every datagram the UDP spool
    // took (the ones before the disk filled, and any it had room for after;
    // the spool delivers its backlog once the store takes writes again).
    const spooled = await metric(server.endpoint, 'roentgen_spool_appended_total\\{spool="udp"\\}');
    const sent = [...udpBefore, ...udpDuring];
    const udpFound = await eventually(async () => {
      const got = await found(client, sent);
      return got.size >= spooled ? got : undefined;
    }, { timeoutMs: 20000, intervalMs: 500 });
    for (const id of udpBefore) assert.ok(udpFound.has(id), `spooled datagram ${id} lost`);
    const httpFound = await found(client, acknowledged);
    assert.deepEqual(acknowledged.filter((id) => !httpFound.has(id)), [], 'acknowledged segments lost');
    assert.equal(await metric(server.endpoint, 'roentgen_disk_full\\{component="store"\\}'), 0);
    assert.equal(await metric(server.endpoint, 'roentgen_disk_full\\{component="api_spool"\\}'), 0);
    assert.equal(await metric(server.endpoint, 'roentgen_store_read_only'), 0);
  } finally {
    await server.stop();
    disk.unmount();
  }
});

function serveExpectingFailure(dataDir) {
  const r = spawnSync(BIN, ['serve', '--listen', '127.0.0.1:0', '--data-dir', dataDir, '--otlp-grpc-listen', 'off',
    ...storeEngineArgs()], {
    encoding: 'utf8', timeout: 20000,
  });
  return { status: r.status, signal: r.signal, output: `${r.stdout}${r.stderr}` };
}

test('start-up on a full disk says so, with the data dir and its free space, and exits non-zero', async (t) => {
  const disk = mountSmallDisk(4);
  if (disk.skip) return t.skip(disk.skip);
  try {
    const dataDir = join(disk.dir, 'data');
    mkdirSync(dataDir);
    disk.fill();
    const r = serveExpectingFailure(dataDir);
    assert.equal(r.signal, null, `the server died of ${r.signal}:\n${r.output}`);
    assert.notEqual(r.status, 0, r.output);
    assert.match(r.output, new RegExp(`cannot open the store in ${dataDir}: the disk is full \\(\\d+ bytes free of 4\\.0 MiB`), r.output);
  } finally {
    disk.unmount();
  }
});

// Flips `count` bytes of `file` at `offset`.
function flipBytes(file, offset, count) {
  const fd = openSync(file, 'r+');
  try {
    const buf = Buffer.alloc(count);
    readSync(fd, buf, 0, count, offset);
    for (let i = 0; i < count; i++) buf[i] ^= 0x5a;
    writeSync(fd, buf, 0, count, offset);
  } finally {
    closeSync(fd);
  }
}

const largest = (dir, suffix) => readdirSync(dir).filter((n) => n.endsWith(suffix))
  .map((n) => join(dir, n)).sort((a, b) => statSync(b).size - statSync(a).size)[0];

test('a damaged table file is reported as InternalFailure and counted, never served', {
  skip: STORE_ENGINE === 'clickhouse' && 'the store is a ClickHouse database: no table files in the data dir',
}, async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'roentgen-damaged-'));
  try {
    const traceIds = [];
    let server = await startServer({ dataDir, args: ['--otlp-grpc-listen', 'off'] });
    for (let i = 0; i < 30; i++) traceIds.push(...(await put(xrayClient(server.endpoint), 10)).ids);
    await server.stop();
    server = await startServer({ dataDir, args: ['--otlp-grpc-listen', 'off'] });  // the WAL into table files
    await server.stop();
    // Inside the first data block of the largest RocksDB table, or the first
    // column of the largest block file.
    flipBytes(STORE_ENGINE === 'block' ? largest(join(dataDir, 'blocks'), '.blk') : largest(dataDir, '.sst'),
      2000, 16);

    server = await startServer({ dataDir, args: ['--otlp-grpc-listen', 'off'] });
    try {
      const client = xrayClient(server.endpoint);
      let damaged = 0;
      for (let i = 0; i < traceIds.length; i += 5) {
        const ids = traceIds.slice(i, i + 5);
        try {
          const out = await client.send(new BatchGetTracesCommand({ TraceIds: ids }));
          assert.equal(out.Traces.length, ids.length);  // all there, or an error: never fewer
          for (const trace of out.Traces) JSON.parse(trace.Segments[0].Document);
        } catch (e) {
          assert.equal(e.name, 'InternalFailure', String(e));
          assert.equal(e.$metadata.httpStatusCode, 500);
          assert.match(e.message, /store corruption detected/);
          damaged++;
        }
      }
      assert.ok(damaged > 0, 'no read met the damaged block');
      assert.ok(await metric(server.endpoint, 'roentgen_store_read_errors_total\\{reason="corruption"\\}') >= damaged);
      assert.match(server.output(), /corruption detected, the read is refused/);
      assert.equal((await fetch(`${server.endpoint}/healthz`)).status, 200);
    } finally {
      await server.stop();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('start-up with a damaged write-ahead log says so and exits non-zero', {
  skip: (STORE_ENGINE === 'block' && 'the block engine has no write-ahead log (the spools are its log)')
    || (STORE_ENGINE === 'clickhouse' && 'the store is a ClickHouse database: no log in the data dir'),
}, async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'roentgen-damaged-wal-'));
  try {
    const server = await startServer({ dataDir, args: ['--otlp-grpc-listen', 'off'] });
    for (let i = 0; i < 10; i++) await put(xrayClient(server.endpoint), 10);
    await server.kill9();
    const wal = largest(dataDir, '.log');
    flipBytes(wal, Math.floor(statSync(wal).size / 2), 8);
    const r = serveExpectingFailure(dataDir);
    assert.equal(r.signal, null, r.output);
    assert.notEqual(r.status, 0, r.output);
    assert.match(r.output, /cannot open the store in .*: it is damaged \(Corruption: .*\); restore the data dir from a backup/, r.output);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

// A spool file as src/ingest/spool.h lays it out: magic, then records of
// length (u32 LE) · crc32(length bytes · payload) (u32 LE) · payload.
function spoolFile(records) {
  const parts = [Buffer.from('RGSPOOL1')];
  for (const r of records) {
    const payload = Buffer.from(r);
    const header = Buffer.alloc(8);
    header.writeUInt32LE(payload.length, 0);
    header.writeUInt32LE(crc32(payload, crc32(header.subarray(0, 4))), 4);
    parts.push(header, payload);
  }
  return Buffer.concat(parts);
}

test('a damaged spool record is skipped, counted and logged; the records before it are stored', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'roentgen-damaged-spool-'));
  try {
    const traceIds = [newTraceId(), newTraceId(), newTraceId()];
    const datagrams = traceIds.map((id) => `{"format":"json","version":1}\n${segment(id, 'spooled')}`);
    const file = spoolFile(datagrams);
    const second = 8 + 8 + Buffer.byteLength(datagrams[0]);
    file[second + 8 + 20] ^= 0x5a;  // a payload byte of the second record
    mkdirSync(join(dataDir, 'udp-spool'), { recursive: true });
    writeFileSync(join(dataDir, 'udp-spool', `${'1'.padStart(20, '0')}.spool`), file);

    const server = await startServer({ dataDir, args: ['--otlp-grpc-listen', 'off'] });
    try {
      const client = xrayClient(server.endpoint);
      await eventually(async () => (await found(client, [traceIds[0]])).size === 1);
      const discarded = await eventually(async () => metric(server.endpoint, 'roentgen_spool_discarded_bytes_total\\{spool="udp"\\}'));
      assert.equal(discarded, file.length - second);
      assert.match(server.output(), /a record that fails its checksum; skipping the \d+ bytes after it/);
      assert.equal((await found(client, traceIds.slice(1))).size, 0);  // never served as data
    } finally {
      await server.stop();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
