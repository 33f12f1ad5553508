// Tags (on groups and sampling rules), the encryption configuration, resource policies, the trace segment
// destination and the telemetry counters, through the real
// @aws-sdk/client-xray (every operation and its errors, as the SDK
// deserialises them) and Debian's `aws` CLI (the operations its model knows),
// against a real `roentgen serve`; then a restart keeps what was set.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateGroupCommand, DeleteGroupCommand, TagResourceCommand, UntagResourceCommand,
  ListTagsForResourceCommand, GetEncryptionConfigCommand, PutEncryptionConfigCommand,
  PutResourcePolicyCommand, ListResourcePoliciesCommand, DeleteResourcePolicyCommand,
  GetTraceSegmentDestinationCommand, UpdateTraceSegmentDestinationCommand,
  PutTelemetryRecordsCommand, CreateSamplingRuleCommand, DeleteSamplingRuleCommand,
} from '@aws-sdk/client-xray';
import { startServer } from './lib/server.mjs';
import { xrayClient } from './lib/clients.mjs';

const dataDir = mkdtempSync(join(tmpdir(), 'roentgen-config-apis-'));
let server;
let client;
before(async () => {
  server = await startServer({ dataDir });
  client = xrayClient(server.endpoint);
});
after(async () => {
  await server?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

// The error a call fails with (the test fails if it succeeds).
async function failure(command) {
  try {
    await client.send(command);
  } catch (e) {
    return e;
  }
  assert.fail(`${command.constructor.name} succeeded`);
}

const policyDocument = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{
    Sid: 'SNS-Access', Effect: 'Allow', Principal: { Service: 'sns.amazonaws.com' },
    Action: 'xray:PutTraceSegments', Resource: '*',
    Condition: { StringEquals: { 'aws:SourceAccount': '123456789012' } },
  }],
});

let groupArn;

test('tags on a group: TagResource, UntagResource, ListTagsForResource', async () => {
  const { Group } = await client.send(new CreateGroupCommand({
    GroupName: 'tagged', FilterExpression: 'fault', Tags: [{ Key: 'team', Value: 'web' }],
  }));
  groupArn = Group.GroupARN;
  const list = async () => (await client.send(new ListTagsForResourceCommand({ ResourceARN: groupArn }))).Tags;
  assert.deepEqual(await list(), [{ Key: 'team', Value: 'web' }]);

  await client.send(new TagResourceCommand({
    ResourceARN: groupArn,
    Tags: [{ Key: 'team', Value: 'ops' }, { Key: 'Team', Value: 'other' }, { Key: 'Équipe', Value: 'ünï 日本' }],
  }));
  assert.deepEqual(await list(), [
    { Key: 'team', Value: 'ops' }, { Key: 'Team', Value: 'other' }, { Key: 'Équipe', Value: 'ünï 日本' },
  ]);
  await client.send(new UntagResourceCommand({ ResourceARN: groupArn, TagKeys: ['Team', 'absent'] }));
  assert.deepEqual(await list(), [{ Key: 'team', Value: 'ops' }, { Key: 'Équipe', Value: 'ünï 日本' }]);
});

test('tag errors: ResourceNotFoundException, TooManyTagsException, InvalidRequestException', async () => {
  const unknown = 'arn:aws:xray:us-east-1:000000000000:group/nope/AAAAAAAAAAAAAAAAAAAAAAAAAA';
  for (const command of [
    new ListTagsForResourceCommand({ ResourceARN: unknown }),
    new TagResourceCommand({ ResourceARN: unknown, Tags: [{ Key: 'a', Value: 'b' }] }),
    new UntagResourceCommand({ ResourceARN: unknown, TagKeys: ['a'] }),
  ]) {
    const e = await failure(command);
    assert.equal(e.name, 'ResourceNotFoundException');
    assert.equal(e.$metadata.httpStatusCode, 404);
    assert.equal(e.ResourceName, unknown);
    assert.match(e.message, /no taggable resource has the ARN/);
  }

  const many = Array.from({ length: 49 }, (_, i) => ({ Key: `k${i}`, Value: 'v' }));
  const tooMany = await failure(new TagResourceCommand({ ResourceARN: groupArn, Tags: many }));
  assert.equal(tooMany.name, 'TooManyTagsException');
  assert.equal(tooMany.$metadata.httpStatusCode, 400);
  assert.equal(tooMany.ResourceName, groupArn);
  assert.match(tooMany.message, /at most 50 tags; this request would leave it with 51/);

  const reserved = await failure(new TagResourceCommand({ ResourceARN: groupArn, Tags: [{ Key: 'aws:x', Value: 'y' }] }));
  assert.equal(reserved.name, 'InvalidRequestException');
  assert.equal(reserved.message, 'Tags[0].Key: the aws: prefix is reserved');
  const badChar = await failure(new TagResourceCommand({ ResourceARN: groupArn, Tags: [{ Key: 'a', Value: 'b!' }] }));
  assert.equal(badChar.name, 'InvalidRequestException');
  assert.match(badChar.message, /^Tags\[0\]\.Value: the character '!' is not allowed/);
  const long = await failure(new TagResourceCommand({ ResourceARN: groupArn, Tags: [{ Key: 'k'.repeat(129), Value: '' }] }));
  assert.equal(long.name, 'InvalidRequestException');
  assert.equal(long.message, 'Tags[0].Key: must be 1 to 128 characters long');
  // CreateGroup checks its Tags the same way.
  const create = await failure(new CreateGroupCommand({ GroupName: 'x', Tags: [{ Key: 'AWS:x', Value: '' }] }));
  assert.equal(create.name, 'InvalidRequestException');
});

test('tags on a sampling rule, its Tags at creation, and the Default rule', async () => {
  const { SamplingRuleRecord } = await client.send(new CreateSamplingRuleCommand({
    SamplingRule: {
      RuleName: 'tagged-rule', ResourceARN: '*', Priority: 100, FixedRate: 0.1, ReservoirSize: 1,
      ServiceName: '*', ServiceType: '*', Host: '*', HTTPMethod: '*', URLPath: '*', Version: 1,
    },
    Tags: [{ Key: 'owner', Value: 'sre' }],
  }));
  const ruleArn = SamplingRuleRecord.SamplingRule.RuleARN;
  const list = async (arn) => (await client.send(new ListTagsForResourceCommand({ ResourceARN: arn }))).Tags;
  assert.deepEqual(await list(ruleArn), [{ Key: 'owner', Value: 'sre' }]);
  await client.send(new TagResourceCommand({ ResourceARN: ruleArn, Tags: [{ Key: 'tier', Value: 'gold' }] }));
  await client.send(new UntagResourceCommand({ ResourceARN: ruleArn, TagKeys: ['owner'] }));
  assert.deepEqual(await list(ruleArn), [{ Key: 'tier', Value: 'gold' }]);
  const defaultArn = 'arn:aws:xray:us-east-1:000000000000:sampling-rule/Default';
  await client.send(new TagResourceCommand({ ResourceARN: defaultArn, Tags: [{ Key: 'env', Value: 'prod' }] }));
  assert.deepEqual(await list(defaultArn), [{ Key: 'env', Value: 'prod' }]);
  const badTag = await failure(new CreateSamplingRuleCommand({
    SamplingRule: { ...SamplingRuleRecord.SamplingRule, RuleName: 'other', RuleARN: undefined },
    Tags: [{ Key: 'aws:x', Value: '' }],
  }));
  assert.equal(badTag.name, 'InvalidRequestException');
  await client.send(new DeleteSamplingRuleCommand({ RuleName: 'tagged-rule' }));
  const gone = await failure(new ListTagsForResourceCommand({ ResourceARN: ruleArn }));
  assert.equal(gone.name, 'ResourceNotFoundException');
  assert.equal(gone.ResourceName, ruleArn);
});

test('encryption: GetEncryptionConfig, PutEncryptionConfig NONE; KMS is refused', async () => {
  const initial = await client.send(new GetEncryptionConfigCommand({}));
  assert.deepEqual(initial.EncryptionConfig, { Status: 'ACTIVE', Type: 'NONE' });
  const put = await client.send(new PutEncryptionConfigCommand({ Type: 'NONE' }));
  assert.deepEqual(put.EncryptionConfig, { Status: 'ACTIVE', Type: 'NONE' });
  const kms = await failure(new PutEncryptionConfigCommand({ Type: 'KMS', KeyId: 'alias/aws/xray' }));
  assert.equal(kms.name, 'InvalidRequestException');
  assert.equal(kms.$metadata.httpStatusCode, 400);
  assert.match(kms.message, /KMS is not supported: Roentgen has no AWS KMS/);
  const bad = await failure(new PutEncryptionConfigCommand({ Type: 'AES' }));
  assert.equal(bad.message, "Type: must be NONE or KMS, got 'AES'");
  assert.deepEqual((await client.send(new GetEncryptionConfigCommand({}))).EncryptionConfig,
    { Status: 'ACTIVE', Type: 'NONE' });
});

test('trace segment destination: XRay; CloudWatchLogs is refused', async () => {
  const initial = await client.send(new GetTraceSegmentDestinationCommand({}));
  assert.equal(initial.Destination, 'XRay');
  assert.equal(initial.Status, 'ACTIVE');
  const updated = await client.send(new UpdateTraceSegmentDestinationCommand({ Destination: 'XRay' }));
  assert.equal(updated.Destination, 'XRay');
  assert.equal(updated.Status, 'ACTIVE');
  const cwl = await failure(new UpdateTraceSegmentDestinationCommand({ Destination: 'CloudWatchLogs' }));
  assert.equal(cwl.name, 'InvalidRequestException');
  assert.match(cwl.message, /CloudWatchLogs is not supported: Roentgen has no CloudWatch Logs/);
});

test('resource policies: put, revisions, list, delete and their exceptions', async () => {
  const { ResourcePolicy: created } = await client.send(new PutResourcePolicyCommand({
    PolicyName: 'sns-access', PolicyDocument: policyDocument, PolicyRevisionId: '0', BypassPolicyLockoutCheck: false,
  }));
  assert.equal(created.PolicyName, 'sns-access');
  assert.equal(created.PolicyDocument, policyDocument);
  assert.ok(created.LastUpdatedTime instanceof Date);
  assert.ok(Math.abs(created.LastUpdatedTime.getTime() - Date.now()) < 60000);
  const rev1 = created.PolicyRevisionId;

  const exists = await failure(new PutResourcePolicyCommand({
    PolicyName: 'sns-access', PolicyDocument: policyDocument, PolicyRevisionId: '0',
  }));
  assert.equal(exists.name, 'InvalidPolicyRevisionIdException');
  const { ResourcePolicy: updated } = await client.send(new PutResourcePolicyCommand({
    PolicyName: 'sns-access', PolicyDocument: policyDocument, PolicyRevisionId: rev1,
  }));
  assert.notEqual(updated.PolicyRevisionId, rev1);
  const stale = await failure(new PutResourcePolicyCommand({
    PolicyName: 'sns-access', PolicyDocument: policyDocument, PolicyRevisionId: rev1,
  }));
  assert.equal(stale.name, 'InvalidPolicyRevisionIdException');
  assert.equal(stale.$metadata.httpStatusCode, 400);

  const malformed = await failure(new PutResourcePolicyCommand({ PolicyName: 'bad', PolicyDocument: '{"Statement":[]}' }));
  assert.equal(malformed.name, 'MalformedPolicyDocumentException');
  assert.equal(malformed.message, 'PolicyDocument: Statement: must not be empty');
  const big = JSON.stringify({ ...JSON.parse(policyDocument), Id: 'x'.repeat(5200) });
  const size = await failure(new PutResourcePolicyCommand({ PolicyName: 'big', PolicyDocument: big }));
  assert.equal(size.name, 'PolicySizeLimitExceededException');
  const name = await failure(new PutResourcePolicyCommand({ PolicyName: 'no spaces', PolicyDocument: policyDocument }));
  assert.equal(name.name, 'InvalidRequestException');

  for (let i = 1; i < 5; i++) {
    await client.send(new PutResourcePolicyCommand({ PolicyName: `p${i}`, PolicyDocument: policyDocument }));
  }
  const count = await failure(new PutResourcePolicyCommand({ PolicyName: 'p5', PolicyDocument: policyDocument }));
  assert.equal(count.name, 'PolicyCountLimitExceededException');

  const { ResourcePolicies } = await client.send(new ListResourcePoliciesCommand({}));
  assert.deepEqual(ResourcePolicies.map((p) => p.PolicyName), ['p1', 'p2', 'p3', 'p4', 'sns-access']);
  assert.equal(ResourcePolicies[4].PolicyRevisionId, updated.PolicyRevisionId);

  const staleDelete = await failure(new DeleteResourcePolicyCommand({ PolicyName: 'p1', PolicyRevisionId: rev1 }));
  assert.equal(staleDelete.name, 'InvalidPolicyRevisionIdException');
  for (let i = 1; i < 5; i++) await client.send(new DeleteResourcePolicyCommand({ PolicyName: `p${i}` }));
  // Deleting what is not there is not an error.
  await client.send(new DeleteResourcePolicyCommand({ PolicyName: 'p1' }));
  const after = await client.send(new ListResourcePoliciesCommand({}));
  assert.deepEqual(after.ResourcePolicies.map((p) => p.PolicyName), ['sns-access']);
});

async function metricsText() {
  let res;
  try {
    res = await fetch(`${server.endpoint}/metrics`);
  } catch {
    // The AWS CLI tests run it with spawnSync, which blocks this process's
    // event loop: when they take longer than the server's idle timeout (60 s,
    // on a slow machine), fetch's pool could not retire the keep-alive
    // connection the server closed meanwhile, and reuses it once.
    res = await fetch(`${server.endpoint}/metrics`);
  }
  return res.text();
}
const metric = (text, name, labels) => {
  const m = text.match(new RegExp(`^${name}\\{${labels}\\} (\\d+)$`, 'm'));
  return m ? Number(m[1]) : undefined;
};

test('PutTelemetryRecords: the counters appear in /metrics per reporting host', async () => {
  const record = {
    Timestamp: new Date(), SegmentsReceivedCount: 10, SegmentsSentCount: 8, SegmentsSpilloverCount: 1,
    SegmentsRejectedCount: 1,
    BackendConnectionErrors: {
      TimeoutCount: 1, ConnectionRefusedCount: 2, HTTPCode4XXCount: 3, HTTPCode5XXCount: 4, UnknownHostCount: 5, OtherCount: 6,
    },
  };
  await client.send(new PutTelemetryRecordsCommand({ TelemetryRecords: [record, record], Hostname: 'web-1', EC2InstanceId: 'i-0abc' }));
  await client.send(new PutTelemetryRecordsCommand({ TelemetryRecords: [record], EC2InstanceId: 'i-0abc' }));
  const text = await metricsText();
  assert.equal(metric(text, 'roentgen_daemon_segments_total', 'host="web-1",kind="received"'), 20);
  assert.equal(metric(text, 'roentgen_daemon_segments_total', 'host="web-1",kind="sent"'), 16);
  assert.equal(metric(text, 'roentgen_daemon_segments_total', 'host="i-0abc",kind="spillover"'), 1);
  assert.equal(metric(text, 'roentgen_daemon_backend_connection_errors_total', 'host="web-1",kind="http_5xx"'), 8);
  assert.equal(metric(text, 'roentgen_daemon_backend_connection_errors_total', 'host="i-0abc",kind="unknown_host"'), 5);
  assert.equal(Number(text.match(/^roentgen_telemetry_records_total (\d+)$/m)?.[1]), 3);
  const bad = await failure(new PutTelemetryRecordsCommand({ TelemetryRecords: [{ Timestamp: new Date(), SegmentsSentCount: -1 }] }));
  assert.equal(bad.name, 'InvalidRequestException');
});

// Debian's awscli (scripts/install-deps.sh --with-tests), else any aws on PATH.
const AWS = process.env.AWS_CLI ?? (existsSync('/usr/bin/aws') ? '/usr/bin/aws' : 'aws');
const awsAvailable = spawnSync(AWS, ['--version'], { encoding: 'utf8' }).status === 0;
function aws(...args) {
  const home = mkdtempSync(join(tmpdir(), 'roentgen-aws-home-'));
  try {
    const r = spawnSync(AWS, ['xray', ...args, '--endpoint-url', server.endpoint, '--region', 'us-east-1', '--output', 'json'], {
      encoding: 'utf8',
      env: {
        PATH: process.env.PATH, HOME: home, AWS_CONFIG_FILE: join(home, 'none'), AWS_SHARED_CREDENTIALS_FILE: join(home, 'none'),
        AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
        AWS_MAX_ATTEMPTS: '1', AWS_PAGER: '', AWS_EC2_METADATA_DISABLED: 'true',
      },
    });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr, json: () => JSON.parse(r.stdout || '{}') };
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

test('the AWS CLI: tags, encryption, resource policies, telemetry', { skip: !awsAvailable && 'aws CLI not installed' }, () => {
  let r = aws('tag-resource', '--resource-arn', groupArn, '--tags', 'Key=cli,Value=yes');
  assert.equal(r.status, 0, r.stderr);
  r = aws('list-tags-for-resource', '--resource-arn', groupArn);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(r.json().Tags.find((t) => t.Key === 'cli'), { Key: 'cli', Value: 'yes' });
  r = aws('untag-resource', '--resource-arn', groupArn, '--tag-keys', 'cli');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(aws('list-tags-for-resource', '--resource-arn', groupArn).json().Tags.find((t) => t.Key === 'cli'), undefined);
  r = aws('list-tags-for-resource', '--resource-arn', 'arn:aws:xray:us-east-1:000000000000:group/none/X');
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /ResourceNotFoundException/);

  r = aws('put-encryption-config', '--type', 'NONE');
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(r.json().EncryptionConfig, { Status: 'ACTIVE', Type: 'NONE' });
  r = aws('get-encryption-config');
  assert.deepEqual(r.json().EncryptionConfig, { Status: 'ACTIVE', Type: 'NONE' });
  r = aws('put-encryption-config', '--type', 'KMS', '--key-id', 'alias/aws/xray');
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /InvalidRequestException.*KMS is not supported/);

  r = aws('put-resource-policy', '--policy-name', 'cli-policy', '--policy-document', policyDocument);
  assert.equal(r.status, 0, r.stderr);
  const revision = r.json().ResourcePolicy.PolicyRevisionId;
  r = aws('list-resource-policies');
  assert.ok(r.json().ResourcePolicies.some((p) => p.PolicyName === 'cli-policy' && p.PolicyRevisionId === revision));
  r = aws('put-resource-policy', '--policy-name', 'cli-policy', '--policy-document', '{"Statement":{}}');
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /MalformedPolicyDocumentException/);
  r = aws('delete-resource-policy', '--policy-name', 'cli-policy', '--policy-revision-id', 'stale');
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /InvalidPolicyRevisionIdException/);
  r = aws('delete-resource-policy', '--policy-name', 'cli-policy', '--policy-revision-id', revision);
  assert.equal(r.status, 0, r.stderr);

  r = aws('put-telemetry-records', '--hostname', 'cli-host', '--telemetry-records',
    JSON.stringify([{ Timestamp: Math.floor(Date.now() / 1000), SegmentsSentCount: 7 }]));
  assert.equal(r.status, 0, r.stderr);
});

test('PutTelemetryRecords from the AWS CLI is counted', { skip: !awsAvailable && 'aws CLI not installed' }, async () => {
  assert.equal(metric(await metricsText(), 'roentgen_daemon_segments_total', 'host="cli-host",kind="sent"'), 7);
});

test('a restart keeps tags, encryption, destination and policies', async () => {
  await server.stop();
  server = await startServer({ dataDir });
  client = xrayClient(server.endpoint);
  const { Tags } = await client.send(new ListTagsForResourceCommand({ ResourceARN: groupArn }));
  assert.deepEqual(Tags, [{ Key: 'team', Value: 'ops' }, { Key: 'Équipe', Value: 'ünï 日本' }]);
  assert.deepEqual((await client.send(new GetEncryptionConfigCommand({}))).EncryptionConfig, { Status: 'ACTIVE', Type: 'NONE' });
  assert.equal((await client.send(new GetTraceSegmentDestinationCommand({}))).Destination, 'XRay');
  const { ResourcePolicies } = await client.send(new ListResourcePoliciesCommand({}));
  assert.deepEqual(ResourcePolicies.map((p) => p.PolicyName), ['sns-access']);
  assert.equal(ResourcePolicies[0].PolicyDocument, policyDocument);
  // Deleting the group takes its tags with it.
  await client.send(new DeleteGroupCommand({ GroupName: 'tagged' }));
  const gone = await failure(new ListTagsForResourceCommand({ ResourceARN: groupArn }));
  assert.equal(gone.name, 'ResourceNotFoundException');
});
