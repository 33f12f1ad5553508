// A 200 from PutTraceSegments means durable: kill -9 right after, restart, all there.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { PutTraceSegmentsCommand, BatchGetTracesCommand } from '@aws-sdk/client-xray';
import { startServer } from './lib/server.mjs';
import { xrayClient } from './lib/clients.mjs';

const newId = () => randomBytes(8).toString('hex');
const newTraceId = () => `1-${Math.floor(Date.now() / 1000).toString(16).padStart(8, '0')}-${randomBytes(12).toString('hex')}`;

test('acknowledged segments survive kill -9', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'roentgen-durability-'));
  try {
    const first = await startServer({ dataDir });
    const client = xrayClient(first.endpoint);
    const traceIds = [];
    const now = Date.now() / 1000;
    // Acknowledged writes, issued concurrently so they share group commits.
    await Promise.all(Array.from({ length: 20 }, async (_, batch) => {
      const docs = [];
      for (let i = 0; i < 10; i++) {
        const traceId = newTraceId();
        traceIds.push(traceId);
        docs.push(JSON.stringify({ name: `svc-${batch}`, id: newId(), trace_id: traceId, start_time: now - 1, end_time: now }));
      }
      const out = await client.send(new PutTraceSegmentsCommand({ TraceSegmentDocuments: docs }));
      assert.deepEqual(out.UnprocessedTraceSegments, []);
    }));
    const killed = await first.kill9();
    assert.equal(killed.signal, 'SIGKILL');

    const second = await startServer({ dataDir, port: first.port });
    try {
      const client2 = xrayClient(second.endpoint);
      const missing = [];
      for (let i = 0; i < traceIds.length; i += 5) {
        const ids = traceIds.slice(i, i + 5);
        const out = await client2.send(new BatchGetTracesCommand({ TraceIds: ids }));
        missing.push(...out.UnprocessedTraceIds);
        assert.equal(out.Traces.length + out.UnprocessedTraceIds.length, ids.length);
      }
      assert.deepEqual(missing, [], `${missing.length} of ${traceIds.length} acknowledged traces lost`);
    } finally {
      await second.stop();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
