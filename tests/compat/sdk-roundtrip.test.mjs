// aws-xray-sdk-core sends segments over UDP (the daemon protocol); the AWS SDK's
// X-Ray client reads them back. Compared field by field.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { GetTraceSummariesCommand, BatchGetTracesCommand } from '@aws-sdk/client-xray';
import { startServer } from './lib/server.mjs';
import { xrayClient, eventually } from './lib/clients.mjs';
import { AWSXRay, sent, useDaemon } from './lib/sdk.mjs';

let server;
let client;
before(async () => {
  server = await startServer();
  client = xrayClient(server.endpoint);
  useDaemon(server.port);
});
after(async () => {
  const r = await server.stop();
  assert.equal(r.code, 0, `server exit: ${JSON.stringify(r)}\n${server.output()}`);
});

const svc = (name) => ({ Name: name, Names: [name] });
const round6 = (x) => Math.round(x * 1e6) / 1e6;

function requestData(method, url, status) {
  return {
    request: { method, url, user_agent: 'compat-test/1.0', client_ip: '127.0.0.1' },
    response: { status },
  };
}

async function summariesFor(ids, windowStart) {
  return eventually(async () => {
    const out = await client.send(new GetTraceSummariesCommand({
      StartTime: new Date(windowStart - 60_000),
      EndTime: new Date(Date.now() + 60_000),
    }));
    const found = new Map(out.TraceSummaries.map((s) => [s.Id, s]));
    return ids.every((id) => found.has(id)) ? found : undefined;
  });
}

test('segments sent by aws-xray-sdk-core over UDP come back through @aws-sdk/client-xray', async () => {
  const windowStart = Date.now();

  // A request from alice that works, with nested subsegments.
  const ok = new AWSXRay.Segment('web-app');
  ok.http = requestData('GET', 'https://app.example.com/notes', 200);
  ok.setUser('alice');
  ok.addAnnotation('email', 'alice@example.com');
  ok.addAnnotation('note_count', 3);
  ok.addAnnotation('vip', true);
  ok.addMetadata('request', { path: '/notes', items: [1, 2, 3] });
  const api = ok.addNewSubsegment('graphql-api');
  api.namespace = 'remote';
  api.addAnnotation('operation', 'listNotes');
  const inner = api.addNewSubsegment('resolve');
  inner.close();
  api.close();

  // A request that faults with an exception.
  const fault = new AWSXRay.Segment('web-app');
  fault.http = requestData('POST', 'https://app.example.com/notes', 500);
  fault.setUser('bob');
  fault.addAnnotation('email', 'bob@example.com');
  fault.addFaultFlag();
  const boom = new Error('database unavailable');
  fault.addError(boom);

  // A request whose downstream call was throttled (429), root fine.
  const throttled = new AWSXRay.Segment('web-app');
  throttled.http = requestData('GET', 'https://app.example.com/feed', 200);
  const call = throttled.addNewSubsegment('feed-service');
  call.namespace = 'remote';
  call.addThrottleFlag();
  call.addErrorFlag();
  call.close();

  // A 404.
  const missing = new AWSXRay.Segment('web-app');
  missing.http = requestData('GET', 'https://app.example.com/nope', 404);
  missing.addErrorFlag();

  const segments = [ok, fault, throttled, missing];
  await new Promise((r) => setTimeout(r, 5));
  for (const s of segments) s.close();
  const byId = new Map(segments.map((s) => [s.trace_id, s]));

  const found = await summariesFor([...byId.keys()], windowStart);

  for (const [id, seg] of byId) {
    const s = found.get(id);
    const expectedDuration = round6(seg.end_time - seg.start_time);
    assert.ok(Math.abs(s.Duration - expectedDuration) < 2e-6, `Duration ${s.Duration} vs ${expectedDuration}`);
    assert.ok(Math.abs(s.ResponseTime - expectedDuration) < 2e-6);
    assert.equal(s.IsPartial, false);
    assert.equal(s.Http.HttpURL, seg.http.request.url);
    assert.equal(s.Http.HttpMethod, seg.http.request.method);
    assert.equal(s.Http.HttpStatus, seg.http.response.status);
    assert.equal(s.Http.UserAgent, 'compat-test/1.0');
    assert.equal(s.Http.ClientIp, '127.0.0.1');
    assert.deepEqual(s.EntryPoint && { Name: s.EntryPoint.Name, Names: s.EntryPoint.Names }, svc('web-app'));
    assert.ok(s.ServiceIds.some((x) => x.Name === 'web-app'));
  }

  const sOk = found.get(ok.trace_id);
  assert.equal(sOk.HasFault, false);
  assert.equal(sOk.HasError, false);
  assert.equal(sOk.HasThrottle, false);
  assert.deepEqual(sOk.Users.map((u) => u.UserName), ['alice']);
  assert.deepEqual(sOk.Users[0].ServiceIds.map((x) => x.Name), ['web-app']);
  assert.deepEqual(sOk.Annotations.email.map((v) => v.AnnotationValue), [{ StringValue: 'alice@example.com' }]);
  assert.deepEqual(sOk.Annotations.note_count.map((v) => v.AnnotationValue), [{ NumberValue: 3 }]);
  assert.deepEqual(sOk.Annotations.vip.map((v) => v.AnnotationValue), [{ BooleanValue: true }]);
  assert.deepEqual(sOk.Annotations.operation.map((v) => v.AnnotationValue), [{ StringValue: 'listNotes' }]);
  assert.deepEqual(sOk.Annotations.email[0].ServiceIds.map((x) => x.Name), ['web-app']);

  const sFault = found.get(fault.trace_id);
  assert.equal(sFault.HasFault, true);
  assert.equal(sFault.HasError, false);
  assert.deepEqual(sFault.Users.map((u) => u.UserName), ['bob']);
  assert.ok(sFault.FaultRootCauses.length >= 1, 'fault root cause reported');
  const rootCauseExceptions = sFault.FaultRootCauses[0].Services.flatMap((sv) => sv.EntityPath.flatMap((e) => e.Exceptions ?? []));
  assert.ok(rootCauseExceptions.some((e) => e.Message === 'database unavailable'), JSON.stringify(sFault.FaultRootCauses));

  const sThrottle = found.get(throttled.trace_id);
  assert.equal(sThrottle.HasThrottle, true);
  assert.equal(sThrottle.HasFault, false);
  assert.equal(sThrottle.HasError, false);

  const sMissing = found.get(missing.trace_id);
  assert.equal(sMissing.HasError, true);
  assert.equal(sMissing.HasFault, false);

  // BatchGetTraces returns each document exactly as the SDK formatted it.
  const ids = [...byId.keys()];
  const batch = await client.send(new BatchGetTracesCommand({ TraceIds: ids }));
  assert.deepEqual(batch.UnprocessedTraceIds, []);
  assert.equal(batch.Traces.length, ids.length);
  for (const trace of batch.Traces) {
    const seg = byId.get(trace.Id);
    assert.equal(trace.LimitExceeded, false);
    assert.equal(trace.Segments.length, 1);
    assert.equal(trace.Segments[0].Id, seg.id);
    const expected = sent.find((d) => d.id === seg.id && !d.in_progress);
    assert.deepEqual(JSON.parse(trace.Segments[0].Document), expected);
    assert.ok(Math.abs(trace.Duration - round6(seg.end_time - seg.start_time)) < 2e-6);
  }
});

test('independently streamed subsegments are merged into their segment', async () => {
  const windowStart = Date.now();
  AWSXRay.setStreamingThreshold(0);
  try {
    const seg = new AWSXRay.Segment('streamer');
    const a = seg.addNewSubsegment('first');
    const b = seg.addNewSubsegment('second');
    b.addAnnotation('phase', 'two');
    a.close();
    b.close();
    seg.close();

    // The SDK sends the subsegments and the segment as separate datagrams,
    // which may be committed in different batches: wait for the annotation.
    const s = await eventually(async () => {
      const found = await summariesFor([seg.trace_id], windowStart);
      const summary = found.get(seg.trace_id);
      return summary.Annotations?.phase ? summary : undefined;
    });
    assert.deepEqual(s.Annotations.phase.map((v) => v.AnnotationValue), [{ StringValue: 'two' }]);

    const streamed = sent.filter((d) => d.trace_id === seg.trace_id && d.type === 'subsegment');
    assert.ok(streamed.length >= 1, 'the SDK streamed subsegments on their own');

    const batch = await eventually(async () => {
      const out = await client.send(new BatchGetTracesCommand({ TraceIds: [seg.trace_id] }));
      const doc = JSON.parse(out.Traces[0].Segments[0].Document);
      return (doc.subsegments ?? []).length === 2 ? out : undefined;
    });
    assert.equal(batch.Traces[0].Segments.length, 1);
    const doc = JSON.parse(batch.Traces[0].Segments[0].Document);
    assert.equal(doc.id, seg.id);
    assert.deepEqual(doc.subsegments.map((x) => x.name).sort(), ['first', 'second']);
  } finally {
    AWSXRay.setStreamingThreshold(100);
  }
});
