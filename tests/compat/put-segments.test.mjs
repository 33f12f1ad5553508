// PutTraceSegments through the real AWS SDK client: good and bad documents mixed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  PutTraceSegmentsCommand, BatchGetTracesCommand, GetTraceSummariesCommand,
  PutTelemetryRecordsCommand,
} from '@aws-sdk/client-xray';
import { startServer } from './lib/server.mjs';
import { xrayClient } from './lib/clients.mjs';

let server;
let client;
before(async () => {
  server = await startServer();
  client = xrayClient(server.endpoint);
});
after(async () => { await server.stop(); });

function newTraceId(date = new Date()) {
  const epoch = Math.floor(date.getTime() / 1000).toString(16).padStart(8, '0');
  return `1-${epoch}-${randomBytes(12).toString('hex')}`;
}
const newId = () => randomBytes(8).toString('hex');

test('good documents are stored and bad ones reported in UnprocessedTraceSegments', async () => {
  const now = Date.now() / 1000;
  const traceId = newTraceId();
  const good = { name: 'checkout', id: newId(), trace_id: traceId, start_time: now - 1, end_time: now };
  const missingTrace = { name: 'checkout', id: newId(), start_time: now - 1, end_time: now };
  const badNameId = newId();
  const badName = { name: 'bad<name>', id: badNameId, trace_id: newTraceId(), start_time: now - 1, end_time: now };
  const noEnd = { name: 'x', id: newId(), trace_id: newTraceId(), start_time: now };

  const out = await client.send(new PutTraceSegmentsCommand({
    TraceSegmentDocuments: [
      JSON.stringify(good), '{not json', JSON.stringify(missingTrace), JSON.stringify(badName), JSON.stringify(noEnd),
    ],
  }));
  const unprocessed = out.UnprocessedTraceSegments;
  assert.equal(unprocessed.length, 4, JSON.stringify(unprocessed));
  for (const u of unprocessed) {
    assert.ok(u.ErrorCode && u.ErrorCode.length > 0);
    assert.ok(u.Message && u.Message.length > 0);
  }
  const byId = new Map(unprocessed.filter((u) => u.Id).map((u) => [u.Id, u]));
  assert.match(byId.get(missingTrace.id).Message, /trace_id/);
  assert.match(byId.get(badNameId).Message, /name/);
  assert.match(byId.get(noEnd.id).Message, /end_time|in_progress/);

  // The good one is durable as soon as the call returned: no polling.
  const batch = await client.send(new BatchGetTracesCommand({ TraceIds: [traceId] }));
  assert.equal(batch.Traces.length, 1);
  assert.deepEqual(JSON.parse(batch.Traces[0].Segments[0].Document), good);

  const summaries = await client.send(new GetTraceSummariesCommand({
    StartTime: new Date((now - 60) * 1000), EndTime: new Date((now + 60) * 1000),
  }));
  assert.deepEqual(summaries.TraceSummaries.map((s) => s.Id), [traceId]);
});

test('an in-progress segment is replaced by its completed version', async () => {
  const now = Date.now() / 1000;
  const traceId = newTraceId();
  const id = newId();
  const base = { name: 'long-job', id, trace_id: traceId, start_time: now - 5 };
  await client.send(new PutTraceSegmentsCommand({ TraceSegmentDocuments: [JSON.stringify({ ...base, in_progress: true })] }));
  let s = await client.send(new GetTraceSummariesCommand({ StartTime: new Date((now - 60) * 1000), EndTime: new Date((now + 60) * 1000) }));
  assert.equal(s.TraceSummaries.find((x) => x.Id === traceId).IsPartial, true);

  await client.send(new PutTraceSegmentsCommand({ TraceSegmentDocuments: [JSON.stringify({ ...base, end_time: now })] }));
  s = await client.send(new GetTraceSummariesCommand({ StartTime: new Date((now - 60) * 1000), EndTime: new Date((now + 60) * 1000) }));
  const summary = s.TraceSummaries.find((x) => x.Id === traceId);
  assert.equal(summary.IsPartial, false);
  assert.equal(summary.Duration, 5);
  assert.ok(summary.Revision >= 2);
  const batch = await client.send(new BatchGetTracesCommand({ TraceIds: [traceId] }));
  assert.equal(batch.Traces[0].Segments.length, 1);
  assert.equal(JSON.parse(batch.Traces[0].Segments[0].Document).end_time, now);
});

test('BatchGetTraces reports unknown ids and rejects more than 5', async () => {
  const unknown = newTraceId();
  const out = await client.send(new BatchGetTracesCommand({ TraceIds: [unknown] }));
  assert.deepEqual(out.Traces, []);
  assert.deepEqual(out.UnprocessedTraceIds, [unknown]);
  await assert.rejects(
    client.send(new BatchGetTracesCommand({ TraceIds: Array.from({ length: 6 }, () => newTraceId()) })),
    (e) => e.name === 'InvalidRequestException' && /5/.test(e.message),
  );
});

test('GetTraceSummaries rejects a reversed time range with InvalidRequestException', async () => {
  await assert.rejects(
    client.send(new GetTraceSummariesCommand({ StartTime: new Date(2000), EndTime: new Date(1000) })),
    (e) => e.name === 'InvalidRequestException' && e.$metadata.httpStatusCode === 400,
  );
});

test('PutTelemetryRecords is accepted', async () => {
  const out = await client.send(new PutTelemetryRecordsCommand({
    TelemetryRecords: [{ Timestamp: new Date(), SegmentsReceivedCount: 3, SegmentsSentCount: 3, SegmentsSpilloverCount: 0, SegmentsRejectedCount: 0 }],
    EC2InstanceId: 'i-0123456789abcdef0', Hostname: 'compat', ResourceARN: 'arn:aws:ec2:us-east-1:123456789012:instance/i-0123456789abcdef0',
  }));
  assert.equal(out.$metadata.httpStatusCode, 200);
});
