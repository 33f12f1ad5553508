// X-Ray Insights through the real @aws-sdk/client-xray: a server evaluating
// every second (--insights-interval 1s) over traces sent with timestamps in
// the past minutes (a steady hour, then a burst of faults in the last four
// minutes in "back", which "front" calls) opens one insight per group with
// insights enabled, naming "back" as the root cause; the four operations
// answer in X-Ray's shapes and errors; the group with notifications enabled
// has its events POSTed to the webhook in EventBridge's envelope. The AWS
// CLI, where installed, reads the same insights.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  PutTraceSegmentsCommand, CreateGroupCommand, UpdateGroupCommand, GetInsightSummariesCommand,
  GetInsightCommand, GetInsightEventsCommand, GetInsightImpactGraphCommand,
} from '@aws-sdk/client-xray';
import { startServer } from './lib/server.mjs';
import { xrayClient, eventually } from './lib/clients.mjs';

let server;
let client;
let hook;
const received = [];
const minute = Math.floor(Date.now() / 60000) * 60;  // the current minute's start
const hex16 = (n) => n.toString(16).padStart(16, '0');

// front → back; a fault in back fails front's request too.
function trace(start, fault) {
  const traceId = `1-${Math.floor(start).toString(16).padStart(8, '0')}-${randomBytes(12).toString('hex')}`;
  const base = Number(`0x${randomBytes(3).toString('hex')}`) * 16;
  const [front, call, back] = [1, 2, 3].map((i) => hex16(base + i));
  const f = fault ? { fault: true, http: { response: { status: 502 } } } : { http: { response: { status: 200 } } };
  const b = fault ? { fault: true, http: { response: { status: 500 } } } : { http: { response: { status: 200 } } };
  return [
    { name: 'front', id: front, trace_id: traceId, start_time: start, end_time: start + 0.05, ...f,
      annotations: { tier: 'web' },
      subsegments: [{ name: 'back', id: call, namespace: 'remote', start_time: start + 0.001,
        end_time: start + 0.04, ...f }] },
    { name: 'back', id: back, trace_id: traceId, parent_id: call, start_time: start + 0.002,
      end_time: start + 0.039, ...b },
  ].map((d) => JSON.stringify(d));
}

async function put(docs) {
  for (let i = 0; i < docs.length; i += 1000) {
    const out = await client.send(new PutTraceSegmentsCommand({ TraceSegmentDocuments: docs.slice(i, i + 1000) }));
    assert.deepEqual(out.UnprocessedTraceSegments, []);
  }
}

async function expectInvalid(command, fragment) {
  await assert.rejects(client.send(command), (e) => {
    assert.equal(e.name, 'InvalidRequestException');
    assert.equal(e.$metadata.httpStatusCode, 400);
    assert.match(e.message, fragment);
    return true;
  });
}

before(async () => {
  hook = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      received.push({ path: req.url, type: req.headers['content-type'], body: JSON.parse(body) });
      res.writeHead(200).end();
    });
  });
  await new Promise((r) => hook.listen(0, '127.0.0.1', r));
  server = await startServer({
    args: ['--insights-interval', '1s', '--insights-webhook', `http://127.0.0.1:${hook.address().port}/hook`],
  });
  client = xrayClient(server.endpoint);
  // The baseline: 20 requests a minute, none failing, from 50 to 5 minutes ago.
  const docs = [];
  for (let m = -50; m <= -5; m++) {
    for (let i = 0; i < 20; i++) docs.push(...trace(minute + m * 60 + i * 2.5, false));
  }
  // The burst: half of the requests fail in the last four whole minutes.
  for (let m = -4; m <= -1; m++) {
    for (let i = 0; i < 20; i++) docs.push(...trace(minute + m * 60 + i * 2.5, i % 2 === 0));
  }
  await put(docs);
  // Insights enabled once every trace is stored (PutTraceSegments answers
  // when its documents are queryable): a detector running while the burst
  // is half written would open its insight on part of it. Default (the
  // rollups) without notifications; "web" (a filter: its traces are
  // scanned) with them.
  await client.send(new UpdateGroupCommand({ GroupName: 'Default', InsightsConfiguration: { InsightsEnabled: true } }));
  await client.send(new CreateGroupCommand({
    GroupName: 'web', FilterExpression: 'annotation.tier = "web"',
    InsightsConfiguration: { InsightsEnabled: true, NotificationsEnabled: true },
  }));
});

after(async () => {
  await server?.stop();
  await new Promise((r) => hook?.close(r));
});

const range = () => ({ StartTime: new Date((minute - 3600) * 1000), EndTime: new Date(Date.now() + 60000) });

async function insightOf(group) {
  return eventually(async () => {
    const out = await client.send(new GetInsightSummariesCommand({ ...range(), GroupName: group }));
    return out.InsightSummaries.length > 0 ? out.InsightSummaries : undefined;
  }, { timeoutMs: 30000, intervalMs: 500 });
}

test('a fault burst opens one insight per group, naming the downstream service', async () => {
  for (const group of ['Default', 'web']) {
    const summaries = await insightOf(group);
    assert.equal(summaries.length, 1, group);
    const s = summaries[0];
    // A UUID derived from the group, root cause and start (version 8), so
    // that servers sharing a store name one incident alike.
    assert.match(s.InsightId, /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(s.GroupName, group);
    assert.match(s.GroupARN, new RegExp(`^arn:aws:xray:us-east-1:000000000000:group/${group}`));
    assert.equal(s.State, 'ACTIVE');
    assert.deepEqual(s.Categories, ['FAULT']);
    assert.equal(s.RootCauseServiceId.Name, 'back');
    assert.deepEqual(s.TopAnomalousServices.map((t) => t.ServiceId.Name), ['back', 'front']);
    assert.ok(s.StartTime instanceof Date);
    assert.equal(s.StartTime.getTime(), (minute - 240) * 1000);
    assert.equal(s.EndTime, undefined);
    assert.ok(s.LastUpdateTime instanceof Date);
    // Four minutes of 20 requests, half failing, in back and in front (the entry).
    assert.deepEqual(s.RootCauseServiceRequestImpactStatistics, { FaultCount: 40, OkCount: 40, TotalCount: 80 });
    assert.deepEqual(s.ClientRequestImpactStatistics, { FaultCount: 40, OkCount: 40, TotalCount: 80 });
    assert.match(s.Summary, /back/);
  }
  const closed = await client.send(new GetInsightSummariesCommand({ ...range(), States: ['CLOSED'] }));
  assert.deepEqual(closed.InsightSummaries, []);
  const all = await client.send(new GetInsightSummariesCommand({ ...range(), MaxResults: 1 }));
  assert.equal(all.InsightSummaries.length, 1);
  assert.ok(all.NextToken);
  const rest = await client.send(new GetInsightSummariesCommand({ ...range(), MaxResults: 1, NextToken: all.NextToken }));
  assert.equal(rest.InsightSummaries.length, 1);
  assert.notEqual(rest.InsightSummaries[0].InsightId, all.InsightSummaries[0].InsightId);
});

test('GetInsight, GetInsightEvents and GetInsightImpactGraph', async () => {
  const [s] = await insightOf('web');
  const { Insight: insight } = await client.send(new GetInsightCommand({ InsightId: s.InsightId }));
  assert.equal(insight.InsightId, s.InsightId);
  assert.equal(insight.RootCauseServiceId.Name, 'back');
  assert.equal(insight.LastUpdateTime, undefined);

  const events = await client.send(new GetInsightEventsCommand({ InsightId: s.InsightId, MaxResults: 50 }));
  assert.ok(events.InsightEvents.length >= 1);
  const opening = events.InsightEvents.at(-1);
  assert.ok(opening.EventTime instanceof Date);
  assert.equal(opening.TopAnomalousServices[0].ServiceId.Name, 'back');
  assert.ok(opening.ClientRequestImpactStatistics.TotalCount > 0);

  const graph = await client.send(new GetInsightImpactGraphCommand({
    InsightId: s.InsightId, StartTime: new Date((minute - 600) * 1000), EndTime: new Date(minute * 1000),
  }));
  assert.equal(graph.InsightId, s.InsightId);
  assert.equal(graph.ServiceGraphStartTime.getTime(), (minute - 600) * 1000);
  const byName = Object.fromEntries(graph.Services.map((x) => [x.Name ?? x.Type, x]));
  assert.deepEqual(Object.keys(byName).sort(), ['back', 'client', 'front']);
  assert.deepEqual(byName.front.Edges.map((e) => e.ReferenceId), [byName.back.ReferenceId]);
  assert.deepEqual(byName.client.Edges.map((e) => e.ReferenceId), [byName.front.ReferenceId]);
  assert.deepEqual(byName.back.Edges, []);
});

test('errors are InvalidRequestException', async () => {
  const [s] = await insightOf('Default');
  await expectInvalid(new GetInsightCommand({ InsightId: '6f0d6c3e-1111-4222-8333-444455556666' }), /no insight/);
  await expectInvalid(new GetInsightEventsCommand({ InsightId: s.InsightId, MaxResults: 51 }), /MaxResults/);
  await expectInvalid(new GetInsightSummariesCommand({
    StartTime: new Date(Date.now() - 31 * 86400 * 1000), EndTime: new Date(),
  }), /30 days/);
  await expectInvalid(new GetInsightSummariesCommand({ ...range(), GroupName: 'nope' }), /GroupName/);
  await expectInvalid(new GetInsightSummariesCommand({ ...range(), States: ['ACTIVE', 'CLOSED'] }), /States/);
  await expectInvalid(new GetInsightImpactGraphCommand({
    InsightId: s.InsightId, StartTime: new Date(Date.now() - 7 * 3600 * 1000), EndTime: new Date(),
  }), /6 hours/);
});

test('the webhook receives the events of the group with notifications on', async () => {
  const [s] = await insightOf('web');
  const n = await eventually(() => received.find((r) => r.body.detail?.InsightId === s.InsightId), { timeoutMs: 15000 });
  assert.equal(n.path, '/hook');
  assert.equal(n.type, 'application/json');
  assert.equal(n.body.source, 'aws.xray');
  assert.equal(n.body['detail-type'], 'AWS X-Ray Insight Update');
  assert.equal(n.body.detail.GroupName, 'web');
  assert.equal(n.body.detail.State, 'ACTIVE');
  assert.equal(n.body.detail.RootCauseServiceId.Name, 'back');
  assert.ok(n.body.detail.Event.Summary);
  // Default has notifications off: none of its events were sent.
  assert.ok(received.every((r) => r.body.detail.GroupName === 'web'));
  const metrics = await (await fetch(`${server.endpoint}/metrics`)).text();
  assert.match(metrics, /roentgen_insights_notifications_total\{result="sent"\} [1-9]/);
});

// The AWS CLI as a second client, where installed (scripts/install-deps.sh
// installs Debian's awscli).
const hasAws = spawnSync('aws', ['--version']).status === 0;
function aws(args) {
  const r = spawnSync('aws', ['xray', ...args, '--endpoint-url', server.endpoint, '--region', 'us-east-1',
    '--output', 'json'], {
    encoding: 'utf8',
    env: { ...process.env, AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'secret',
      AWS_PAGER: '', AWS_MAX_ATTEMPTS: '1' },
  });
  return { status: r.status, out: r.stdout, err: r.stderr };
}

test('the AWS CLI: get-insight-summaries, get-insight-events and an error', { skip: !hasAws && 'aws CLI not installed' }, async () => {
  const [s] = await insightOf('web');
  const summaries = aws(['get-insight-summaries', '--group-name', 'web',
    '--start-time', String(minute - 3600), '--end-time', String(Math.floor(Date.now() / 1000) + 60)]);
  assert.equal(summaries.status, 0, summaries.err);
  const out = JSON.parse(summaries.out);
  assert.equal(out.InsightSummaries.length, 1);
  assert.equal(out.InsightSummaries[0].InsightId, s.InsightId);
  assert.equal(out.InsightSummaries[0].RootCauseServiceId.Name, 'back');
  const events = aws(['get-insight-events', '--insight-id', s.InsightId]);
  assert.equal(events.status, 0, events.err);
  assert.ok(JSON.parse(events.out).InsightEvents.length >= 1);
  const unknown = aws(['get-insight', '--insight-id', '6f0d6c3e-1111-4222-8333-444455556666']);
  assert.notEqual(unknown.status, 0);
  assert.match(unknown.err, /InvalidRequestException/);
});
