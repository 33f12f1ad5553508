// The AWS CLI (Debian's awscli, botocore) as a second client for the
// operations the other files drive with @aws-sdk/client-xray: ingest and
// reading (put-trace-segments, batch-get-traces, get-trace-summaries with a
// filter expression), groups (create, get, get-groups, update, delete) and
// the service map (get-service-graph, get-trace-graph,
// get-time-series-service-statistics), each with its shapes and one of its
// errors as the CLI reports it. Sampling, insights, tags, policies,
// encryption and telemetry records have theirs in their own files; trace
// retrieval, indexing rules and the segment destination are newer than the
// CLI's model (botocore 1.43 on Debian 12 knows 30 of the 38 operations).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { startServer } from './lib/server.mjs';

// Debian's awscli (scripts/install-deps.sh --with-tests), else any aws on PATH.
const AWS = process.env.AWS_CLI ?? (existsSync('/usr/bin/aws') ? '/usr/bin/aws' : 'aws');
const installed = spawnSync(AWS, ['--version'], { encoding: 'utf8' }).status === 0;

let server;
let home;
before(async () => {
  server = await startServer();
  home = mkdtempSync(join(tmpdir(), 'roentgen-awscli-'));
});
after(async () => {
  await server?.stop();
  if (home) rmSync(home, { recursive: true, force: true });
});

// `aws xray <args…>` against the server: {status, json, stderr}.
function xray(...args) {
  const r = spawnSync(AWS, ['xray', ...args, '--endpoint-url', server.endpoint, '--region', 'us-east-1', '--output', 'json'], {
    encoding: 'utf8',
    env: {
      PATH: process.env.PATH, HOME: home, AWS_CONFIG_FILE: join(home, 'none'), AWS_SHARED_CREDENTIALS_FILE: join(home, 'none'),
      AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
      AWS_MAX_ATTEMPTS: '1', AWS_PAGER: '', AWS_EC2_METADATA_DISABLED: 'true',
    },
  });
  return { status: r.status, json: r.status === 0 && r.stdout.trim() ? JSON.parse(r.stdout) : undefined, stderr: r.stderr };
}
function ok(...args) {
  const r = xray(...args);
  assert.equal(r.status, 0, `aws xray ${args.join(' ')}: ${r.stderr}`);
  return r.json ?? {};
}

const now = () => Date.now() / 1000;
const newId = () => randomBytes(8).toString('hex');
function newTraceId() {
  return `1-${Math.floor(now()).toString(16).padStart(8, '0')}-${randomBytes(12).toString('hex')}`;
}

// A browser → API trace with an email annotation.
function documents(email) {
  const t = now();
  const traceId = newTraceId();
  const web = { name: 'web-app', id: newId(), trace_id: traceId, start_time: t - 2, end_time: t, annotations: { email } };
  const api = {
    name: 'notes-api', id: newId(), trace_id: traceId, parent_id: web.id, start_time: t - 1.5, end_time: t - 0.5,
    origin: 'AWS::AppSync::GraphQLAPI', http: { response: { status: 200 } },
  };
  return { traceId, docs: [web, api] };
}

test('put-trace-segments, batch-get-traces and get-trace-summaries with a filter', { skip: !installed && 'aws CLI not installed' }, () => {
  const alice = documents('alice@example.com');
  const bob = documents('bob@example.com');
  const put = ok('put-trace-segments', '--trace-segment-documents',
    ...[...alice.docs, ...bob.docs].map((d) => JSON.stringify(d)), '{not json');
  assert.equal(put.UnprocessedTraceSegments.length, 1);
  assert.equal(put.UnprocessedTraceSegments[0].ErrorCode, 'MalformedJson');

  const batch = ok('batch-get-traces', '--trace-ids', alice.traceId, newTraceId());
  assert.equal(batch.Traces.length, 1);
  assert.equal(batch.Traces[0].Id, alice.traceId);
  assert.equal(batch.Traces[0].Segments.length, 2);
  assert.equal(batch.UnprocessedTraceIds.length, 1);

  const found = ok('get-trace-summaries', '--start-time', String(Math.floor(now() - 60)),
    '--end-time', String(Math.ceil(now() + 60)), '--filter-expression', 'annotation.email = "alice@example.com"');
  assert.deepEqual(found.TraceSummaries.map((s) => s.Id), [alice.traceId]);

  const bad = xray('get-trace-summaries', '--start-time', String(Math.floor(now() - 60)),
    '--end-time', String(Math.ceil(now())), '--filter-expression', 'annotation.email = ');
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /InvalidRequestException/);
});

test('groups: create, get, get-groups, update, delete', { skip: !installed && 'aws CLI not installed' }, () => {
  const created = ok('create-group', '--group-name', 'alice', '--filter-expression', 'annotation.email = "alice@example.com"');
  assert.equal(created.Group.GroupName, 'alice');
  assert.match(created.Group.GroupARN, /^arn:aws:xray:us-east-1:\d{12}:group\/alice\//);
  assert.equal(ok('get-group', '--group-arn', created.Group.GroupARN).Group.GroupName, 'alice');
  const groups = ok('get-groups');
  assert.deepEqual(groups.Groups.map((g) => g.GroupName).sort(), ['Default', 'alice']);
  const updated = ok('update-group', '--group-name', 'alice', '--filter-expression', 'service("notes-api")',
    '--insights-configuration', 'InsightsEnabled=true,NotificationsEnabled=false');
  assert.equal(updated.Group.FilterExpression, 'service("notes-api")');
  assert.equal(updated.Group.InsightsConfiguration.InsightsEnabled, true);
  const duplicate = xray('create-group', '--group-name', 'alice');
  assert.notEqual(duplicate.status, 0);
  assert.match(duplicate.stderr, /InvalidRequestException/);
  ok('delete-group', '--group-name', 'alice');
  const gone = xray('get-group', '--group-name', 'alice');
  assert.notEqual(gone.status, 0);
  assert.match(gone.stderr, /InvalidRequestException/);
});

test('the service map: get-service-graph, get-trace-graph, get-time-series-service-statistics', { skip: !installed && 'aws CLI not installed' }, () => {
  const t = documents('carol@example.com');
  ok('put-trace-segments', '--trace-segment-documents', ...t.docs.map((d) => JSON.stringify(d)));
  const range = ['--start-time', String(Math.floor(now() / 60) * 60 - 120), '--end-time', String(Math.ceil(now() / 60) * 60 + 60)];
  const graph = ok('get-service-graph', ...range);
  const names = graph.Services.map((s) => s.Name);
  assert.ok(names.includes('web-app') && names.includes('notes-api'), names.join());
  const api = graph.Services.find((s) => s.Name === 'notes-api');
  assert.equal(api.Type, 'AWS::AppSync::GraphQLAPI');
  assert.ok(api.SummaryStatistics.TotalCount >= 1);

  const traceGraph = ok('get-trace-graph', '--trace-ids', t.traceId);
  const traceNames = traceGraph.Services.map((s) => s.Name);
  assert.ok(traceNames.includes('web-app') && traceNames.includes('notes-api'), traceNames.join());
  const edge = traceGraph.Services.find((s) => s.Name === 'web-app').Edges;
  const apiRef = traceGraph.Services.find((s) => s.Name === 'notes-api').ReferenceId;
  assert.ok(edge.some((e) => e.ReferenceId === apiRef), JSON.stringify(traceGraph));

  const series = ok('get-time-series-service-statistics', ...range, '--entity-selector-expression', 'service("notes-api")',
    '--period', '60');
  assert.ok(series.TimeSeriesServiceStatistics.length >= 1);
  const total = series.TimeSeriesServiceStatistics.reduce((n, p) => n + (p.ServiceSummaryStatistics?.TotalCount ?? 0), 0);
  assert.ok(total >= 1, JSON.stringify(series));

  const badRange = xray('get-service-graph', '--start-time', String(Math.floor(now())), '--end-time', String(Math.floor(now()) - 60));
  assert.notEqual(badRange.status, 0);
  assert.match(badRange.stderr, /InvalidRequestException/);
});
