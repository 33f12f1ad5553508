// Trace retrieval and indexing rules through the real AWS SDK client:
// StartTraceRetrieval / ListRetrievedTraces (XRAY and OTEL) /
// GetRetrievedTracesGraph / CancelTraceRetrieval, GetIndexingRules /
// UpdateIndexingRule, their errors, and the OTEL documents taken as they are
// by another server's OTLP/HTTP intake.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import {
  PutTraceSegmentsCommand, BatchGetTracesCommand, GetTraceSummariesCommand,
  StartTraceRetrievalCommand, ListRetrievedTracesCommand, GetRetrievedTracesGraphCommand,
  CancelTraceRetrievalCommand, GetIndexingRulesCommand, UpdateIndexingRuleCommand,
} from '@aws-sdk/client-xray';
import { startServer } from './lib/server.mjs';
import { xrayClient, eventually } from './lib/clients.mjs';

let server;
let client;
before(async () => {
  server = await startServer();
  client = xrayClient(server.endpoint);
});
after(async () => { await server?.stop(); });

function newTraceId(date = new Date()) {
  const epoch = Math.floor(date.getTime() / 1000).toString(16).padStart(8, '0');
  return `1-${epoch}-${randomBytes(12).toString('hex')}`;
}
const newId = () => randomBytes(8).toString('hex');

// browser → api (with a DynamoDB call that failed), one trace.
function trace() {
  const now = Date.now() / 1000;
  const traceId = newTraceId();
  const browser = {
    name: 'web-app', id: newId(), trace_id: traceId, start_time: now - 2, end_time: now,
    annotations: { email: 'alice@example.com' }, user: 'alice',
    http: { request: { method: 'POST', url: 'https://app.example/notes' }, response: { status: 200 } },
  };
  const dynamoId = newId();
  const api = {
    name: 'notes-api', id: newId(), trace_id: traceId, parent_id: browser.id, origin: 'AWS::AppSync::GraphQLAPI',
    start_time: now - 1.5, end_time: now - 0.5, fault: true,
    subsegments: [{
      name: 'DynamoDB', id: dynamoId, namespace: 'aws', start_time: now - 1.2, end_time: now - 0.8, fault: true,
      aws: { operation: 'PutItem', table_name: 'notes', region: 'us-east-1' },
      cause: { exceptions: [{ id: newId(), type: 'InternalServerError', message: 'boom' }] },
    }],
  };
  return { traceId, browser, api, dynamoId, now };
}

async function put(docs) {
  const out = await client.send(new PutTraceSegmentsCommand({ TraceSegmentDocuments: docs.map((d) => JSON.stringify(d)) }));
  assert.deepEqual(out.UnprocessedTraceSegments, []);
}

async function complete(token, extra = {}) {
  return eventually(async () => {
    const out = await client.send(new ListRetrievedTracesCommand({ RetrievalToken: token, ...extra }));
    return out.RetrievalStatus === 'COMPLETE' ? out : undefined;
  });
}

test('a retrieval lists the traces in X-Ray form, as BatchGetTraces has them', async () => {
  const t = trace();
  await put([t.browser, t.api]);
  const { RetrievalToken } = await client.send(new StartTraceRetrievalCommand({
    TraceIds: [t.traceId, newTraceId()],
    StartTime: new Date((t.now - 60) * 1000), EndTime: new Date((t.now + 60) * 1000),
  }));
  assert.ok(RetrievalToken.length > 0);
  const out = await complete(RetrievalToken);
  assert.equal(out.TraceFormat, 'XRAY');
  assert.equal(out.Traces.length, 1);
  assert.equal(out.Traces[0].Id, t.traceId);
  const batch = await client.send(new BatchGetTracesCommand({ TraceIds: [t.traceId] }));
  assert.deepEqual(out.Traces[0].Spans.map((s) => [s.Id, JSON.parse(s.Document)]),
    batch.Traces[0].Segments.map((s) => [s.Id, JSON.parse(s.Document)]));
  assert.equal(out.Traces[0].Duration, batch.Traces[0].Duration);
});

test('the OTEL form is OpenTelemetry spans that an OTLP/HTTP receiver takes as they are', async () => {
  const t = trace();
  await put([t.browser, t.api]);
  const { RetrievalToken } = await client.send(new StartTraceRetrievalCommand({
    TraceIds: [t.traceId], StartTime: new Date((t.now - 60) * 1000), EndTime: new Date((t.now + 60) * 1000),
  }));
  const out = await complete(RetrievalToken, { TraceFormat: 'OTEL' });
  assert.equal(out.TraceFormat, 'OTEL');
  const spans = out.Traces[0].Spans;
  assert.deepEqual(spans.map((s) => s.Id).sort(), [t.browser.id, t.api.id, t.dynamoId].sort());
  const dynamo = JSON.parse(spans.find((s) => s.Id === t.dynamoId).Document);
  const span = dynamo.resourceSpans[0].scopeSpans[0].spans[0];
  assert.equal(span.traceId, t.traceId.slice(2).replace('-', ''));
  assert.equal(span.parentSpanId, t.api.id);
  assert.equal(span.kind, 3); // CLIENT
  assert.equal(span.status.code, 2); // ERROR
  assert.equal(span.events[0].name, 'exception');
  assert.equal(dynamo.resourceSpans[0].resource.attributes.find((a) => a.key === 'service.name').value.stringValue, 'notes-api');

  // Another server's OTLP/HTTP intake takes each document as it is, and
  // answers BatchGetTraces with the same entities.
  const other = await startServer();
  try {
    for (const s of spans) {
      const r = await fetch(`${other.endpoint}/v1/traces`, {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: s.Document,
      });
      assert.equal(r.status, 200, await r.text());
    }
    const otherClient = xrayClient(other.endpoint);
    const copy = await eventually(async () => {
      const b = await otherClient.send(new BatchGetTracesCommand({ TraceIds: [t.traceId] }));
      // Each span is acknowledged once durable and indexed a moment later,
      // so wait until the function's span has joined the API's segment too.
      const done = b.Traces.length === 1 && b.Traces[0].Segments.length === 2
        && b.Traces[0].Segments.some((s) => (JSON.parse(s.Document).subsegments ?? []).some((x) => x.id === t.dynamoId));
      return done ? b.Traces[0] : undefined;
    });
    const docs = copy.Segments.map((s) => JSON.parse(s.Document));
    const api = docs.find((d) => d.id === t.api.id);
    assert.equal(api.name, 'notes-api');
    assert.equal(api.parent_id, t.browser.id);
    assert.equal(api.subsegments[0].id, t.dynamoId);
    assert.equal(api.subsegments[0].aws.operation, 'PutItem');
    assert.equal(api.subsegments[0].cause.exceptions[0].message, 'boom');
    const browser = docs.find((d) => d.id === t.browser.id);
    assert.equal(browser.annotations.email, 'alice@example.com');
    assert.equal(browser.user, 'alice');
    assert.equal(browser.http.request.method, 'POST');
  } finally {
    await other.stop();
  }
});

test('the retrieved traces graph has their services; cancel and unknown tokens', async () => {
  const t = trace();
  await put([t.browser, t.api]);
  const { RetrievalToken } = await client.send(new StartTraceRetrievalCommand({
    TraceIds: [t.traceId], StartTime: new Date((t.now - 60) * 1000), EndTime: new Date((t.now + 60) * 1000),
  }));
  await complete(RetrievalToken);
  const graph = await client.send(new GetRetrievedTracesGraphCommand({ RetrievalToken }));
  assert.equal(graph.RetrievalStatus, 'COMPLETE');
  const names = graph.Services.map((s) => s.Service.Name).sort();
  assert.ok(names.includes('web-app') && names.includes('notes-api') && names.length >= 3, names.join());
  // Cancelling a finished retrieval leaves it COMPLETE.
  await client.send(new CancelTraceRetrievalCommand({ RetrievalToken }));
  assert.equal((await client.send(new ListRetrievedTracesCommand({ RetrievalToken }))).RetrievalStatus, 'COMPLETE');
  for (const command of [
    new ListRetrievedTracesCommand({ RetrievalToken: 'unknown' }),
    new GetRetrievedTracesGraphCommand({ RetrievalToken: 'unknown' }),
    new CancelTraceRetrievalCommand({ RetrievalToken: 'unknown' }),
  ]) {
    await assert.rejects(client.send(command), (e) => e.name === 'ResourceNotFoundException' && e.$metadata.httpStatusCode === 404);
  }
  await assert.rejects(client.send(new StartTraceRetrievalCommand({
    TraceIds: Array.from({ length: 101 }, () => newTraceId()), StartTime: new Date(), EndTime: new Date(),
  })), (e) => e.name === 'InvalidRequestException' && /at most 100/.test(e.message));
});

test('the indexing rule decides which new traces GetTraceSummaries finds, and persists', async () => {
  const rules = await client.send(new GetIndexingRulesCommand({}));
  assert.equal(rules.IndexingRules.length, 1);
  assert.equal(rules.IndexingRules[0].Name, 'Default');
  assert.equal(rules.IndexingRules[0].Rule.Probabilistic.DesiredSamplingPercentage, 100);

  const updated = await client.send(new UpdateIndexingRuleCommand({
    Name: 'Default', Rule: { Probabilistic: { DesiredSamplingPercentage: 0 } },
  }));
  assert.equal(updated.IndexingRule.Rule.Probabilistic.DesiredSamplingPercentage, 0);
  assert.ok(updated.IndexingRule.ModifiedAt instanceof Date);
  const hidden = trace();
  await put([hidden.browser]);
  const range = { StartTime: new Date((hidden.now - 60) * 1000), EndTime: new Date((hidden.now + 60) * 1000) };
  const found = await client.send(new GetTraceSummariesCommand(range));
  assert.ok(!found.TraceSummaries.some((s) => s.Id === hidden.traceId));
  const batch = await client.send(new BatchGetTracesCommand({ TraceIds: [hidden.traceId] }));
  assert.equal(batch.Traces.length, 1);

  await client.send(new UpdateIndexingRuleCommand({
    Name: 'Default', Rule: { Probabilistic: { DesiredSamplingPercentage: 100 } },
  }));
  const shown = trace();
  await put([shown.browser]);
  const after = await client.send(new GetTraceSummariesCommand(range));
  assert.ok(after.TraceSummaries.some((s) => s.Id === shown.traceId));
  assert.ok(!after.TraceSummaries.some((s) => s.Id === hidden.traceId));

  await assert.rejects(client.send(new UpdateIndexingRuleCommand({
    Name: 'Other', Rule: { Probabilistic: { DesiredSamplingPercentage: 5 } },
  })), (e) => e.name === 'ResourceNotFoundException');
  await assert.rejects(client.send(new UpdateIndexingRuleCommand({
    Name: 'Default', Rule: { Probabilistic: { DesiredSamplingPercentage: 250 } },
  })), (e) => e.name === 'InvalidRequestException' && /between 0 and 100/.test(e.message));
});

test('the indexing rule is applied again after a restart', async () => {
  const own = await startServer();
  const dataDir = own.dataDir;
  let c = xrayClient(own.endpoint);
  await c.send(new UpdateIndexingRuleCommand({ Name: 'Default', Rule: { Probabilistic: { DesiredSamplingPercentage: 37.5 } } }));
  own.signal('SIGTERM');
  await own.exited;
  const again = await startServer({ dataDir, port: own.port });
  try {
    c = xrayClient(again.endpoint);
    const rules = await c.send(new GetIndexingRulesCommand({}));
    assert.equal(rules.IndexingRules[0].Rule.Probabilistic.DesiredSamplingPercentage, 37.5);
  } finally {
    await again.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
