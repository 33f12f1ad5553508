// The SDK against a real Roentgen with --keys: segments signed with a
// short-lived write-only session key are stored and read back with
// @aws-sdk/client-xray; a key without the action is refused into onError;
// sampling follows rules made with CreateSamplingRule, and its statistics
// reach GetSamplingStatisticSummaries.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createRequire } from 'node:module';
import { BIN, startServer } from '../../../tests/compat/lib/server.mjs';
import { eventually, xrayClient } from '../../../tests/compat/lib/clients.mjs';
import { XRay } from '../dist/xray.js';

// The real AWS client, as pinned for the compatibility tests.
const require = createRequire(new URL('../../../tests/compat/package.json', import.meta.url));
const { BatchGetTracesCommand, CreateSamplingRuleCommand, GetSamplingStatisticSummariesCommand, GetTraceSummariesCommand } =
  require('@aws-sdk/client-xray');

let dir;
let server;
let admin;
const keysFile = () => join(dir, 'keys.json');
const createKey = (...args) => JSON.parse(execFileSync(BIN, ['keys', 'create', '--keys', keysFile(), ...args], { encoding: 'utf8' }));

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'roentgen-sdk-browser-'));
  const key = createKey('--actions', 'xray:*,roentgen:*', '--name', 'admin');
  server = await startServer({ args: ['--keys', keysFile(), '--otlp-grpc-listen', 'off', '--log-level', 'warn'] });
  admin = xrayClient(server.endpoint, { accessKeyId: key.AccessKeyId, secretAccessKey: key.SecretAccessKey });
});

after(async () => {
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('segments signed with a write-only session key are stored as sent', async () => {
  const session = createKey('--actions', 'xray:PutTraceSegments,xray:GetSamplingRules,xray:GetSamplingTargets', '--ttl', '15m');
  const errors = [];
  const xray = new XRay({ name: 'Web-Application', endpoint: server.endpoint, region: 'eu-central-1',
    credentials: async () => session, sampling: false, onError: (e) => errors.push(e) });
  const seg = xray.beginSegment('Web-Application', { user: 'alice@example.com', annotations: { email: 'alice@example.com', n: 3, ok: true } });
  const sub = seg.beginSubsegment('AddNote', { namespace: 'remote', http: { request: { method: 'POST', url: 'http://api.test/graphql' } } });
  sub.setResponse(200);
  sub.close();
  xray.endSegment(seg, new Error('it broke'));
  await xray.shutdown();
  assert.deepEqual(errors.map(String), []);
  assert.equal(xray.stats.sent, 1);

  const now = Date.now() / 1000;
  const summaries = await eventually(async () => {
    const out = await admin.send(new GetTraceSummariesCommand({ StartTime: new Date((now - 300) * 1000), EndTime: new Date((now + 60) * 1000),
      FilterExpression: 'annotation.email = "alice@example.com"' }));
    return out.TraceSummaries.length ? out.TraceSummaries : undefined;
  });
  assert.deepEqual(summaries.map((s) => s.Id), [seg.trace_id]);
  const traces = await admin.send(new BatchGetTracesCommand({ TraceIds: [seg.trace_id] }));
  const doc = JSON.parse(traces.Traces[0].Segments[0].Document);
  assert.equal(doc.id, seg.id);
  assert.equal(doc.user, 'alice@example.com');
  assert.deepEqual(doc.annotations, { email: 'alice@example.com', n: 3, ok: true });
  assert.equal(doc.fault, true);
  assert.equal(doc.cause.exceptions[0].message, 'it broke');
  assert.deepEqual(doc.subsegments.map((s) => [s.id, s.name, s.namespace, s.http.response.status]), [[sub.id, 'AddNote', 'remote', 200]]);
});

test('a key not allowed PutTraceSegments is reported to onError and not retried', async () => {
  const reader = createKey('--actions', 'xray:GetTraceSummaries', '--ttl', '15m');
  const errors = [];
  const xray = new XRay({ name: 'app', endpoint: server.endpoint, credentials: () => reader, sampling: false, onError: (e) => errors.push(e) });
  xray.endSegment(xray.beginSegment());
  await xray.shutdown();
  assert.equal(errors.length, 1, errors.map(String).join('\n'));
  assert.equal(errors[0].details.status, 403);
  assert.equal(errors[0].details.errorType, 'AccessDeniedException');
  assert.equal(xray.stats.dropped, 1);
});

test('sampling follows the server\'s rules and reports statistics', async () => {
  const rule = (RuleName, ServiceName, FixedRate, ReservoirSize, Priority) => ({ SamplingRule: { RuleName, ServiceName, FixedRate, ReservoirSize,
    Priority, ServiceType: '*', Host: '*', HTTPMethod: '*', URLPath: '*', ResourceARN: '*', Version: 1 } });
  await admin.send(new CreateSamplingRuleCommand(rule('browser-never', 'quiet-*', 0, 0, 1)));
  await admin.send(new CreateSamplingRuleCommand(rule('browser-always', 'loud-*', 1, 0, 2)));
  const session = createKey('--actions', 'xray:PutTraceSegments,xray:GetSamplingRules,xray:GetSamplingTargets', '--ttl', '15m');
  const errors = [];
  const xray = new XRay({ name: 'app', endpoint: server.endpoint, credentials: () => session, onError: (e) => errors.push(e) });
  await xray.sampling.refreshRules();
  assert.deepEqual(xray.sampling.rules.map((r) => r.rule.RuleName), ['browser-never', 'browser-always', 'Default']);
  const quiet = Array.from({ length: 5 }, () => xray.beginSegment('quiet-web').sampled);
  const loud = Array.from({ length: 5 }, () => xray.beginSegment('loud-web').sampled);
  assert.deepEqual(quiet, [false, false, false, false, false]);
  assert.deepEqual(loud, [true, true, true, true, true]);
  await xray.sampling.reportStatistics();
  assert.deepEqual(errors.map(String), []);
  const loudRule = xray.sampling.rules[1];
  assert.deepEqual([loudRule.quota, loudRule.fixedRate], [0, 1], 'the target for a rule without a reservoir');
  const stats = await eventually(async () => {
    const out = await admin.send(new GetSamplingStatisticSummariesCommand({}));
    const s = out.SamplingStatisticSummaries.filter((x) => x.RuleName.startsWith('browser-'));
    return s.length === 2 ? s : undefined;
  });
  assert.deepEqual(stats.map((s) => [s.RuleName, s.RequestCount, s.SampledCount]).sort(),
    [['browser-always', 5, 5], ['browser-never', 5, 0]]);
  await xray.shutdown();
});
