// Centralized sampling with the real clients: @aws-sdk/client-xray drives
// every sampling operation and its errors; the real aws-xray-sdk-core, with
// Roentgen as its daemon (AWS_XRAY_DAEMON_ADDRESS), samples by a rule created
// through client-xray and follows its update at its own poll intervals
// (targets every 10 s; rules every 300 s); the statistics it reports appear
// in GetSamplingStatisticSummaries; the AWS CLI, when installed, as a second
// client.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { createRequire } from 'node:module';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateSamplingRuleCommand, UpdateSamplingRuleCommand, DeleteSamplingRuleCommand,
  GetSamplingRulesCommand, GetSamplingTargetsCommand, GetSamplingStatisticSummariesCommand,
  paginateGetSamplingRules,
} from '@aws-sdk/client-xray';
import { startServer, BIN } from './lib/server.mjs';
import { xrayClient, eventually, sleep } from './lib/clients.mjs';

let server;
let xray;

before(async () => {
  server = await startServer();
  xray = xrayClient(server.endpoint);
});

after(async () => {
  await server?.stop();
});

const rule = (name, overrides = {}) => ({
  RuleName: name, ResourceARN: '*', Priority: 100, FixedRate: 0.1, ReservoirSize: 1,
  ServiceName: '*', ServiceType: '*', Host: '*', HTTPMethod: '*', URLPath: '*', Version: 1,
  ...overrides,
});

const errorOf = async (promise) => {
  try {
    await promise;
  } catch (e) {
    return e;
  }
  assert.fail('expected the call to fail');
};

const nowSeconds = () => Math.floor(Date.now() / 1000);

test('aws-xray-sdk-core samples by a rule created through client-xray and follows its update', async (t) => {
  const service = 'sampling-compat-svc';
  // The SDK starts its pollers at its first sampling decision: the rule
  // exists by then, so the SDK's first GetSamplingRules brings it.
  await xray.send(new CreateSamplingRuleCommand({
    SamplingRule: rule('compat-follow', { Priority: 1, ServiceName: service, FixedRate: 0, ReservoirSize: 0 }),
  }));

  process.env.AWS_XRAY_DAEMON_ADDRESS = `127.0.0.1:${server.port}`;
  const require = createRequire(import.meta.url);
  const AWSXRay = require('aws-xray-sdk-core');
  const log = [];
  const keep = (level) => (...args) => log.push(`${level}: ${args.join(' ')}`);
  AWSXRay.setLogger({ error: keep('error'), warn: keep('warn'), info: keep('info'), debug() {} });
  AWSXRay.middleware.setDefaultName(service);

  // An application traced by the SDK's middleware: every request gets the
  // SDK's own sampling decision.
  const decisions = [];
  const app = http.createServer((req, res) => {
    const segment = AWSXRay.middleware.traceRequestResponseCycle(req, res);
    decisions.push({ at: Date.now(), sampled: !segment.notTraced, rule: segment.aws?.xray?.rule_name });
    res.end('ok');
  });
  await new Promise((resolve) => app.listen(0, '127.0.0.1', resolve));
  const appPort = app.address().port;
  let running = true;
  const traffic = (async () => {
    while (running) {
      await fetch(`http://127.0.0.1:${appPort}/orders`).then((r) => r.text()).catch(() => {});
      await sleep(50);
    }
  })();
  const since = (t) => decisions.filter((d) => d.at >= t);

  try {
    // FixedRate 0, ReservoirSize 0: once the SDK has the rule, nothing is
    // sampled (the SDK's local fallback would sample 1/s + 5%).
    await eventually(() => {
      const recent = since(Date.now() - 3000);
      return recent.length >= 30 && recent.every((d) => !d.sampled);
    }, { timeoutMs: 15000, intervalMs: 250 });

    // The statistics the SDK reports (every 10 s) show up per rule.
    const summary = await eventually(async () => {
      const r = await xray.send(new GetSamplingStatisticSummariesCommand({}));
      const mine = r.SamplingStatisticSummaries.filter((s) => s.RuleName === 'compat-follow');
      const requests = mine.reduce((n, s) => n + s.RequestCount, 0);
      return requests > 0 && mine;
    }, { timeoutMs: 15000, intervalMs: 500 });
    assert.ok(summary.every((s) => s.SampledCount === 0 && s.BorrowCount === 0), JSON.stringify(summary));
    assert.ok(summary.every((s) => s.Timestamp instanceof Date && s.Timestamp.getTime() % 10000 === 0));

    // FixedRate 1: the SDK follows at its next target poll (≤ 10 s).
    const updatedAt = Date.now();
    await xray.send(new UpdateSamplingRuleCommand({ SamplingRuleUpdate: { RuleName: 'compat-follow', FixedRate: 1 } }));
    await eventually(() => {
      const recent = since(Date.now() - 2000).filter((d) => d.at > updatedAt);
      return recent.length >= 20 && recent.every((d) => d.sampled && d.rule === 'compat-follow');
    }, { timeoutMs: 25000, intervalMs: 250 });
    const followedAfterMs = since(updatedAt).find((d) => d.sampled).at - updatedAt;
    assert.ok(followedAfterMs <= 22000, `followed after ${followedAfterMs} ms`);
    t.diagnostic(`the SDK followed the update after ${followedAfterMs} ms (${decisions.length} requests so far)`);

    // ... and reports the sampled requests.
    await eventually(async () => {
      const r = await xray.send(new GetSamplingStatisticSummariesCommand({}));
      return r.SamplingStatisticSummaries.some((s) => s.RuleName === 'compat-follow' && s.SampledCount > 0);
    }, { timeoutMs: 15000, intervalMs: 500 });
  } catch (e) {
    e.message += `\n--- SDK log ---\n${log.slice(-20).join('\n')}`;
    throw e;
  } finally {
    running = false;
    await traffic;
    await new Promise((resolve) => app.close(resolve));
  }
  await xray.send(new DeleteSamplingRuleCommand({ RuleName: 'compat-follow' }));
});

test('client-xray: create, get, update, delete and their errors', async () => {
  const created = await xray.send(new CreateSamplingRuleCommand({
    SamplingRule: rule('checkout', { Priority: 5, ServiceName: 'checkout-*', HTTPMethod: 'POST', Attributes: { tier: 'gold' } }),
    Tags: [{ Key: 'team', Value: 'payments' }],
  }));
  const record = created.SamplingRuleRecord;
  assert.equal(record.SamplingRule.RuleName, 'checkout');
  assert.equal(record.SamplingRule.RuleARN, 'arn:aws:xray:us-east-1:000000000000:sampling-rule/checkout');
  assert.deepEqual(record.SamplingRule.Attributes, { tier: 'gold' });
  assert.ok(record.CreatedAt instanceof Date && Math.abs(record.CreatedAt.getTime() - Date.now()) < 60000);
  assert.equal(record.ModifiedAt.getTime(), record.CreatedAt.getTime());

  const listed = await xray.send(new GetSamplingRulesCommand({}));
  const names = listed.SamplingRuleRecords.map((r) => r.SamplingRule.RuleName);
  assert.deepEqual(names.slice(-2), ['checkout', 'Default']);
  const dflt = listed.SamplingRuleRecords.at(-1);
  assert.equal(dflt.SamplingRule.Priority, 10000);
  assert.equal(dflt.SamplingRule.FixedRate, 0.05);
  assert.equal(dflt.SamplingRule.ReservoirSize, 1);
  assert.equal(dflt.CreatedAt.getTime(), 0);

  const dup = await errorOf(xray.send(new CreateSamplingRuleCommand({ SamplingRule: rule('checkout') })));
  assert.equal(dup.name, 'InvalidRequestException');
  assert.match(dup.message, /already exists/);
  const badRate = await errorOf(xray.send(new CreateSamplingRuleCommand({ SamplingRule: rule('bad', { FixedRate: 1.5 }) })));
  assert.equal(badRate.name, 'InvalidRequestException');
  assert.equal(badRate.message, 'SamplingRule.FixedRate: must be between 0 and 1');
  const badPriority = await errorOf(xray.send(new CreateSamplingRuleCommand({ SamplingRule: rule('bad', { Priority: 10000 }) })));
  assert.equal(badPriority.message, 'SamplingRule.Priority: must be an integer from 1 to 9999');
  const reserved = await errorOf(xray.send(new CreateSamplingRuleCommand({ SamplingRule: rule('tagged'), Tags: [{ Key: 'aws:x', Value: 'y' }] })));
  assert.equal(reserved.name, 'InvalidRequestException');

  const updated = await xray.send(new UpdateSamplingRuleCommand({
    SamplingRuleUpdate: { RuleARN: record.SamplingRule.RuleARN, FixedRate: 0.75, Attributes: {} },
  }));
  assert.equal(updated.SamplingRuleRecord.SamplingRule.FixedRate, 0.75);
  assert.deepEqual(updated.SamplingRuleRecord.SamplingRule.Attributes, {});
  assert.equal(updated.SamplingRuleRecord.SamplingRule.HTTPMethod, 'POST');

  const defaultRate = await xray.send(new UpdateSamplingRuleCommand({ SamplingRuleUpdate: { RuleName: 'Default', FixedRate: 0.1, ReservoirSize: 2 } }));
  assert.equal(defaultRate.SamplingRuleRecord.SamplingRule.FixedRate, 0.1);
  const defaultMatcher = await errorOf(xray.send(new UpdateSamplingRuleCommand({ SamplingRuleUpdate: { RuleName: 'Default', ServiceName: 'web' } })));
  assert.equal(defaultMatcher.name, 'InvalidRequestException');
  assert.equal(defaultMatcher.message, 'Invalid update request for default sampling rule');
  const deleteDefault = await errorOf(xray.send(new DeleteSamplingRuleCommand({ RuleName: 'Default' })));
  assert.equal(deleteDefault.name, 'InvalidRequestException');
  assert.equal(deleteDefault.message, 'RuleName: the Default sampling rule cannot be deleted');
  const unknown = await errorOf(xray.send(new UpdateSamplingRuleCommand({ SamplingRuleUpdate: { RuleName: 'ghost', FixedRate: 1 } })));
  assert.equal(unknown.name, 'InvalidRequestException');

  const deleted = await xray.send(new DeleteSamplingRuleCommand({ RuleARN: record.SamplingRule.RuleARN }));
  assert.equal(deleted.SamplingRuleRecord.SamplingRule.FixedRate, 0.75);
  const gone = await errorOf(xray.send(new DeleteSamplingRuleCommand({ RuleName: 'checkout' })));
  assert.equal(gone.name, 'InvalidRequestException');
  await xray.send(new UpdateSamplingRuleCommand({ SamplingRuleUpdate: { RuleName: 'Default', FixedRate: 0.05, ReservoirSize: 1 } }));
});

test('client-xray: the rule limit, and one page holding every rule', async () => {
  const names = Array.from({ length: 25 }, (_, i) => `limit-${String(i).padStart(2, '0')}`);
  for (const [i, name] of names.entries()) {
    await xray.send(new CreateSamplingRuleCommand({ SamplingRule: rule(name, { Priority: 200 + i }) }));
  }
  const over = await errorOf(xray.send(new CreateSamplingRuleCommand({ SamplingRule: rule('limit-25') })));
  assert.equal(over.name, 'RuleLimitExceededException');
  const pages = [];
  for await (const page of paginateGetSamplingRules({ client: xray }, {})) pages.push(page);
  assert.equal(pages.length, 1);
  assert.deepEqual(pages[0].SamplingRuleRecords.map((r) => r.SamplingRule.RuleName), [...names, 'Default']);
  for (const name of names) await xray.send(new DeleteSamplingRuleCommand({ RuleName: name }));
});

test('client-xray: GetSamplingTargets shares a reservoir and reports unknown rules', async () => {
  await xray.send(new CreateSamplingRuleCommand({ SamplingRule: rule('shared', { ReservoirSize: 3, FixedRate: 0.2 }) }));
  const doc = (client) => ({
    RuleName: 'shared', ClientID: client, Timestamp: new Date(), RequestCount: 10, SampledCount: 3, BorrowCount: 0,
  });
  const a = 'a'.repeat(24);
  const b = 'b'.repeat(24);
  const first = await xray.send(new GetSamplingTargetsCommand({ SamplingStatisticsDocuments: [doc(a)] }));
  assert.equal(first.SamplingTargetDocuments.length, 1);
  const target = first.SamplingTargetDocuments[0];
  assert.equal(target.FixedRate, 0.2);
  assert.equal(target.ReservoirQuota, 3);
  assert.equal(target.Interval, 10);
  const ttl = (target.ReservoirQuotaTTL.getTime() - Date.now()) / 1000;
  assert.ok(ttl > 290 && ttl <= 301, `TTL in ${ttl} s`);
  assert.ok(first.LastRuleModification instanceof Date);
  const second = await xray.send(new GetSamplingTargetsCommand({
    SamplingStatisticsDocuments: [doc(b), { ...doc(a), RuleName: 'no-such-rule' }],
    SamplingBoostStatisticsDocuments: [{
      RuleName: 'no-such-rule', ServiceName: 'web', Timestamp: new Date(), AnomalyCount: 1, TotalCount: 5, SampledAnomalyCount: 1,
    }],
  }));
  assert.equal(second.SamplingTargetDocuments[0].ReservoirQuota, 1);
  const third = await xray.send(new GetSamplingTargetsCommand({ SamplingStatisticsDocuments: [doc(a)] }));
  assert.equal(third.SamplingTargetDocuments[0].ReservoirQuota, 2);
  assert.deepEqual(second.UnprocessedStatistics.map((u) => [u.RuleName, u.ErrorCode]), [['no-such-rule', '400']]);
  assert.deepEqual(second.UnprocessedBoostStatistics.map((u) => u.RuleName), ['no-such-rule']);
  const tooMany = await errorOf(xray.send(new GetSamplingTargetsCommand({
    SamplingStatisticsDocuments: Array.from({ length: 26 }, () => doc(a)),
  })));
  assert.equal(tooMany.name, 'InvalidRequestException');

  const summaries = await xray.send(new GetSamplingStatisticSummariesCommand({}));
  const shared = summaries.SamplingStatisticSummaries.filter((s) => s.RuleName === 'shared');
  assert.equal(shared.reduce((n, s) => n + s.RequestCount, 0), 30);
  assert.equal(shared.reduce((n, s) => n + s.SampledCount, 0), 9);
  await xray.send(new DeleteSamplingRuleCommand({ RuleName: 'shared' }));
});

// Debian's awscli (scripts/install-deps.sh --with-tests), else any aws on PATH.
const AWS = process.env.AWS_CLI ?? (existsSync('/usr/bin/aws') ? '/usr/bin/aws' : 'aws');
const awsVersion = spawnSync(AWS, ['--version'], { encoding: 'utf8' });
test('the AWS CLI: create, get rules and targets, summaries, update, delete', { skip: awsVersion.status !== 0 && 'aws CLI not installed' }, () => {
  const home = mkdtempSync(join(tmpdir(), 'roentgen-awscli-'));
  const aws = (...args) => {
    const r = spawnSync(AWS, ['xray', ...args, '--endpoint-url', server.endpoint, '--region', 'us-east-1', '--output', 'json'], {
      encoding: 'utf8',
      env: {
        PATH: process.env.PATH, HOME: home, AWS_CONFIG_FILE: join(home, 'none'), AWS_SHARED_CREDENTIALS_FILE: join(home, 'none'),
        AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
        AWS_MAX_ATTEMPTS: '1', AWS_PAGER: '', AWS_EC2_METADATA_DISABLED: 'true',
      },
    });
    return { ...r, json: () => JSON.parse(r.stdout) };
  };
  try {
    const created = aws('create-sampling-rule', '--sampling-rule', JSON.stringify(rule('cli-rule', { FixedRate: 0.5, ReservoirSize: 2 })),
      '--tags', 'Key=team,Value=cli');
    assert.equal(created.status, 0, created.stderr);
    assert.equal(created.json().SamplingRuleRecord.SamplingRule.RuleARN, 'arn:aws:xray:us-east-1:000000000000:sampling-rule/cli-rule');

    const rules = aws('get-sampling-rules');
    assert.equal(rules.status, 0, rules.stderr);
    assert.deepEqual(rules.json().SamplingRuleRecords.map((r) => r.SamplingRule.RuleName), ['cli-rule', 'Default']);

    const targets = aws('get-sampling-targets', '--sampling-statistics-documents', JSON.stringify([{
      RuleName: 'cli-rule', ClientID: 'c'.repeat(24), Timestamp: nowSeconds(), RequestCount: 4, SampledCount: 2, BorrowCount: 1,
    }]));
    assert.equal(targets.status, 0, targets.stderr);
    const t = targets.json().SamplingTargetDocuments[0];
    assert.equal(t.RuleName, 'cli-rule');
    assert.equal(t.ReservoirQuota, 2);
    assert.equal(t.FixedRate, 0.5);

    const summaries = aws('get-sampling-statistic-summaries');
    assert.equal(summaries.status, 0, summaries.stderr);
    assert.ok(summaries.json().SamplingStatisticSummaries.some((s) => s.RuleName === 'cli-rule' && s.RequestCount === 4));

    const updated = aws('update-sampling-rule', '--sampling-rule-update', JSON.stringify({ RuleName: 'cli-rule', FixedRate: 0.25 }));
    assert.equal(updated.status, 0, updated.stderr);
    assert.equal(updated.json().SamplingRuleRecord.SamplingRule.FixedRate, 0.25);

    const badRate = aws('update-sampling-rule', '--sampling-rule-update', JSON.stringify({ RuleName: 'cli-rule', FixedRate: 2 }));
    assert.notEqual(badRate.status, 0);
    assert.match(badRate.stderr, /InvalidRequestException.*FixedRate: must be between 0 and 1/);
    const deleteDefault = aws('delete-sampling-rule', '--rule-name', 'Default');
    assert.notEqual(deleteDefault.status, 0);
    assert.match(deleteDefault.stderr, /InvalidRequestException.*cannot be deleted/);

    const deleted = aws('delete-sampling-rule', '--rule-name', 'cli-rule');
    assert.equal(deleted.status, 0, deleted.stderr);
    assert.equal(deleted.json().SamplingRuleRecord.SamplingRule.RuleName, 'cli-rule');
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});

test('rules, and the Default rule\'s new rates, survive a restart', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'roentgen-sampling-'));
  try {
    let s = await startServer({ dataDir });
    let client = xrayClient(s.endpoint);
    await client.send(new CreateSamplingRuleCommand({
      SamplingRule: rule('kept', { Priority: 7, Attributes: { k: 'v' } }), Tags: [{ Key: 'team', Value: 'ops' }],
    }));
    await client.send(new UpdateSamplingRuleCommand({ SamplingRuleUpdate: { RuleName: 'Default', FixedRate: 0.3 } }));
    const before = (await client.send(new GetSamplingRulesCommand({}))).SamplingRuleRecords;
    assert.equal((await s.stop()).code, 0);

    s = await startServer({ dataDir, port: s.port });
    client = xrayClient(s.endpoint);
    try {
      const after = (await client.send(new GetSamplingRulesCommand({}))).SamplingRuleRecords;
      assert.deepEqual(after, before);
      assert.deepEqual(after.map((r) => [r.SamplingRule.RuleName, r.SamplingRule.FixedRate]), [['kept', 0.1], ['Default', 0.3]]);
    } finally {
      await s.stop();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('with --keys, the SDKs\' two calls go unsigned from the daemon networks; the rest needs a signature', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'roentgen-sampling-keys-'));
  const keysFile = join(dir, 'keys.json');
  const admin = JSON.parse(execFileSync(BIN, ['keys', 'create', '--actions', 'xray:*', '--keys', keysFile], { encoding: 'utf8' }));
  const s = await startServer({ args: ['--keys', keysFile] });
  try {
    const post = (path, body) => fetch(`${s.endpoint}${path}`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
    });
    const rules = await post('/GetSamplingRules', {});
    assert.equal(rules.status, 200);
    assert.deepEqual((await rules.json()).SamplingRuleRecords.map((r) => r.SamplingRule.RuleName), ['Default']);
    const targets = await post('/SamplingTargets', {
      SamplingStatisticsDocuments: [{ RuleName: 'Default', ClientID: 'd'.repeat(24), Timestamp: nowSeconds(), RequestCount: 1, SampledCount: 1 }],
    });
    assert.equal(targets.status, 200);
    assert.equal((await targets.json()).SamplingTargetDocuments[0].ReservoirQuota, 1);
    const create = await post('/CreateSamplingRule', { SamplingRule: rule('unsigned') });
    assert.equal(create.status, 403);
    const signed = xrayClient(s.endpoint, { accessKeyId: admin.AccessKeyId, secretAccessKey: admin.SecretAccessKey });
    const created = await signed.send(new CreateSamplingRuleCommand({ SamplingRule: rule('signed') }));
    assert.equal(created.SamplingRuleRecord.SamplingRule.RuleName, 'signed');
  } finally {
    await s.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
