// `roentgen migrate` (docs/storage.md, "Migration"): a data dir written by the
// rocksdb engine, with traces put by the real @aws-sdk/client-xray (late
// versions among them), a group and a sampling rule, and UDP datagrams still
// in the spool at a kill -9, is refused by a block server with a message
// naming the migration, migrated, and then served by the block engine:
// GetTraceSummaries lists and BatchGetTraces returns every trace with the
// same segments, the group and the rule are there. And the refusals.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import {
  BatchGetTracesCommand, CreateGroupCommand, CreateSamplingRuleCommand, GetGroupsCommand,
  GetSamplingRulesCommand, PutTraceSegmentsCommand, paginateGetTraceSummaries,
} from '@aws-sdk/client-xray';
import { BIN, startServer } from './lib/server.mjs';
import { xrayClient, eventually } from './lib/clients.mjs';

const newId = () => randomBytes(8).toString('hex');
const newTraceId = () => `1-${Math.floor(Date.now() / 1000).toString(16).padStart(8, '0')}-${randomBytes(12).toString('hex')}`;

// Runs `roentgen ...args` to its end (killed after `timeoutMs`): { code, stdout, stderr }.
function run(args, timeoutMs = 120000) {
  return new Promise((resolve) => {
    const proc = spawn(BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
    proc.stdout.on('data', (d) => { stdout += d; });
    proc.stderr.on('data', (d) => { stderr += d; });
    proc.on('exit', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
  });
}

async function metric(endpoint, pattern) {
  const text = await (await fetch(`${endpoint}/metrics`)).text();
  const m = text.match(new RegExp(`^${pattern} (\\d+)$`, 'm'));
  return m ? Number(m[1]) : 0;
}

// Trace id → its documents as BatchGetTraces returns them (sorted), for the
// ids it returns; and the ids GetTraceSummaries lists.
async function readAll(endpoint, traceIds, start) {
  const client = xrayClient(endpoint);
  const docs = new Map();
  for (let i = 0; i < traceIds.length; i += 5) {
    const out = await client.send(new BatchGetTracesCommand({ TraceIds: traceIds.slice(i, i + 5) }));
    for (const t of out.Traces) docs.set(t.Id, t.Segments.map((s) => s.Document).sort());
  }
  const listed = new Set();
  const pages = paginateGetTraceSummaries({ client },
    { StartTime: new Date(start * 1000 - 60e3), EndTime: new Date(Date.now() + 60e3) });
  for await (const page of pages) for (const s of page.TraceSummaries) listed.add(s.Id);
  return { docs, listed };
}

test('a rocksdb data dir migrated to the block engine serves the same traces and config', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'roentgen-migrate-'));
  try {
    const start = Date.now() / 1000;
    const first = await startServer({ dataDir, args: ['--store-engine', 'rocksdb'] });
    const client = xrayClient(first.endpoint);
    const httpIds = [];
    let killed = false;
    let udpIds = [];
    try {
      // 60 traces over PutTraceSegments; every third gets a late subsegment
      // (a second version of its record).
      for (let batch = 0; batch < 6; batch++) {
        const docs = [];
        for (let i = 0; i < 10; i++) {
          const id = newTraceId();
          httpIds.push(id);
          const now = Date.now() / 1000;
          docs.push(JSON.stringify({
            name: `migrate-svc-${i % 3}`, id: newId(), trace_id: id, start_time: now - 0.2, end_time: now,
            annotations: { n: batch * 10 + i }, http: { response: { status: i % 4 === 0 ? 500 : 200 } },
          }));
        }
        const out = await client.send(new PutTraceSegmentsCommand({ TraceSegmentDocuments: docs }));
        assert.deepEqual(out.UnprocessedTraceSegments, []);
      }
      const late = httpIds.filter((_, i) => i % 3 === 0).map((id) => {
        const now = Date.now() / 1000;
        return JSON.stringify({
          name: 'late-downstream', id: newId(), trace_id: id, parent_id: newId(), type: 'subsegment',
          start_time: now - 0.1, end_time: now, namespace: 'remote',
        });
      });
      for (let i = 0; i < late.length; i += 10) {
        await client.send(new PutTraceSegmentsCommand({ TraceSegmentDocuments: late.slice(i, i + 10) }));
      }
      await client.send(new CreateGroupCommand({ GroupName: 'migrated-group', FilterExpression: 'fault' }));
      await client.send(new CreateSamplingRuleCommand({
        SamplingRule: {
          RuleName: 'migrated-rule', ResourceARN: '*', Priority: 7, FixedRate: 0.25, ReservoirSize: 3,
          ServiceName: 'migrate-*', ServiceType: '*', Host: '*', HTTPMethod: '*', URLPath: '*', Version: 1,
        },
      }));
      await eventually(async () => (await readAll(first.endpoint, httpIds, start)).listed.size === httpIds.length,
        { timeoutMs: 30000, intervalMs: 300 });

      // Datagrams that reach the UDP spool, then kill -9: what the store had
      // not taken yet is replayed from the spool into the block engine.
      const sock = dgram.createSocket('udp4');
      const before = await metric(first.endpoint, 'roentgen_spool_appended_total\\{spool="udp"\\}');
      udpIds = Array.from({ length: 100 }, newTraceId);
      for (const id of udpIds) {
        const now = Date.now() / 1000;
        const doc = JSON.stringify({ name: 'migrate-udp', id: newId(), trace_id: id, start_time: now - 0.1, end_time: now });
        await new Promise((resolve) => sock.send(`{"format":"json","version":1}\n${doc}`, first.port, '127.0.0.1', resolve));
      }
      sock.close();
      await eventually(async () =>
        (await metric(first.endpoint, 'roentgen_spool_appended_total\\{spool="udp"\\}')) - before >= udpIds.length,
      { timeoutMs: 10000 });
      await first.kill9();
      killed = true;
    } finally {
      if (!killed) await first.stop();
    }

    // The rocksdb store as served before the migration (udp ones replayed).
    const again = await startServer({ dataDir, args: ['--store-engine', 'rocksdb'] });
    const allIds = [...httpIds, ...udpIds];
    let before;
    try {
      await eventually(async () => (await readAll(again.endpoint, allIds, start)).listed.size === allIds.length,
        { timeoutMs: 30000, intervalMs: 300 });
      before = await readAll(again.endpoint, allIds, start);
      // Stop it with datagrams in the spool again, so the block server replays some.
      const sock = dgram.createSocket('udp4');
      const more = Array.from({ length: 50 }, newTraceId);
      for (const id of more) {
        const now = Date.now() / 1000;
        const doc = JSON.stringify({ name: 'migrate-udp-2', id: newId(), trace_id: id, start_time: now - 0.1, end_time: now });
        await new Promise((resolve) => sock.send(`{"format":"json","version":1}\n${doc}`, again.port, '127.0.0.1', resolve));
      }
      sock.close();
      await eventually(async () =>
        (await metric(again.endpoint, 'roentgen_spool_appended_total\\{spool="udp"\\}')) >= more.length,
      { timeoutMs: 10000 });
      udpIds.push(...more);
      allIds.push(...more);
    } finally {
      await again.kill9();
    }
    assert.equal(before.docs.size, httpIds.length + 100);
    // The late subsegments are part of their traces (a second version of each).
    for (const id of httpIds.filter((_, i) => i % 3 === 0)) {
      assert.match(before.docs.get(id).join('\n'), /late-downstream/, id);
    }

    // A block server refuses the rocksdb data dir, naming the migration.
    const refused = await run(['serve', '--listen', '127.0.0.1:0', '--data-dir', dataDir, '--store-engine', 'block'], 20000);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /holds a store of the rocksdb engine, but --store-engine is block: migrate it first with the server stopped \(roentgen migrate --data-dir \S+ --to block/);

    const bad = await run(['migrate', '--data-dir', dataDir, '--to', 'rocksdb']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /--to must be block, not 'rocksdb'/);

    const migrated = await run(['migrate', '--data-dir', dataDir, '--to', 'block']);
    assert.equal(migrated.code, 0, migrated.stderr);
    assert.match(migrated.stdout, /Take a backup first if you have none: roentgen backup --data-dir/);
    assert.match(migrated.stdout, /migrated \S+ to the block engine: (\d+) traces/);
    const copied = Number(migrated.stdout.match(/to the block engine: (\d+) traces/)[1]);
    assert.ok(copied >= httpIds.length + 100, migrated.stdout);
    assert.match(migrated.stdout, /RocksDB's files are kept in \S+rocksdb-before-migration/);
    assert.equal(existsSync(join(dataDir, 'blocks', 'CURRENT')), true);
    assert.equal(existsSync(join(dataDir, 'CURRENT')), false);
    assert.equal(existsSync(join(dataDir, 'rocksdb-before-migration', 'CURRENT')), true);

    const twice = await run(['migrate', '--data-dir', dataDir, '--to', 'block']);
    assert.equal(twice.code, 0);
    assert.match(twice.stdout, /already uses the block engine: nothing to migrate/);

    const block = await startServer({ dataDir, args: ['--store-engine', 'block'] });
    try {
      await eventually(async () => {
        const r = await readAll(block.endpoint, allIds, start);
        return r.listed.size === allIds.length && r.docs.size === allIds.length;
      }, { timeoutMs: 30000, intervalMs: 300 }).catch(() => {});
      const after = await readAll(block.endpoint, allIds, start);
      assert.deepEqual(allIds.filter((id) => !after.listed.has(id)), [], 'missing from GetTraceSummaries');
      assert.deepEqual(allIds.filter((id) => !after.docs.has(id)), [], 'missing from BatchGetTraces');
      for (const [id, docs] of before.docs) assert.deepEqual(after.docs.get(id), docs, id);

      const blockClient = xrayClient(block.endpoint);
      const groups = (await blockClient.send(new GetGroupsCommand({}))).Groups;
      assert.ok(groups.some((g) => g.GroupName === 'migrated-group' && g.FilterExpression === 'fault'));
      const rules = (await blockClient.send(new GetSamplingRulesCommand({}))).SamplingRuleRecords;
      const rule = rules.find((r) => r.SamplingRule.RuleName === 'migrated-rule');
      assert.ok(rule, 'the sampling rule');
      assert.equal(rule.SamplingRule.FixedRate, 0.25);
      assert.equal(rule.SamplingRule.Priority, 7);
    } finally {
      await block.stop();
    }

    // The other way is refused.
    const back = await run(['serve', '--listen', '127.0.0.1:0', '--data-dir', dataDir, '--store-engine', 'rocksdb'], 20000);
    assert.equal(back.code, 1);
    assert.match(back.stderr, /a data dir does not migrate from the block engine back to rocksdb/);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('migrate refuses a missing data dir, an empty one and a running server', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'roentgen-migrate-refusals-'));
  try {
    let r = await run(['migrate', '--data-dir', join(dir, 'none'), '--to', 'block']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /there is no data dir/);
    r = await run(['migrate', '--data-dir', dir, '--to', 'block']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /is not a Roentgen data dir/);
    r = await run(['migrate', '--data-dir', dir]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /--to is required/);

    const dataDir = join(dir, 'running');
    const server = await startServer({ dataDir, args: ['--store-engine', 'rocksdb'] });
    try {
      r = await run(['migrate', '--data-dir', dataDir, '--to', 'block']);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /is in use \(a server runs on it\?\): stop the server first/);
      assert.match(r.stderr, /the RocksDB store is as it was/);
    } finally {
      await server.stop();
    }
    assert.equal(existsSync(join(dataDir, 'block-migration')), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
