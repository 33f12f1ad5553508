// SigV4 and keys (roentgen serve --keys): the real @aws-sdk/client-xray, the
// SDK's own signer (@smithy/signature-v4, as the web console signs) and, when
// installed, the AWS CLI (botocore), against a server whose keys come from
// `roentgen keys create`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BatchGetTracesCommand, CreateGroupCommand, GetGroupsCommand, GetTraceSummariesCommand,
  PutTraceSegmentsCommand,
} from '@aws-sdk/client-xray';
import { SignatureV4 } from '@smithy/signature-v4';
import { startServer, BIN } from './lib/server.mjs';
import { xrayClient, eventually, sleep } from './lib/clients.mjs';

const dir = mkdtempSync(join(tmpdir(), 'roentgen-security-'));
const keysFile = join(dir, 'keys.json');
let server;
let admin;
let writer;

// `roentgen keys …`, its JSON output parsed.
function keys(...args) {
  return JSON.parse(execFileSync(BIN, ['keys', ...args, '--keys', keysFile], { encoding: 'utf8' }));
}
const asCredentials = (k) => ({
  accessKeyId: k.AccessKeyId, secretAccessKey: k.SecretAccessKey,
  ...(k.SessionToken ? { sessionToken: k.SessionToken } : {}),
});
const client = (k) => xrayClient(server.endpoint, asCredentials(k));

const now = () => Date.now() / 1000;
const newTraceId = () => `1-${Math.floor(now()).toString(16).padStart(8, '0')}-${randomBytes(12).toString('hex')}`;
const segment = (traceId = newTraceId()) => JSON.stringify({
  name: 'secure-app', id: randomBytes(8).toString('hex'), trace_id: traceId,
  start_time: now() - 1, end_time: now(),
});
const summaries = (k) => client(k).send(new GetTraceSummariesCommand({
  StartTime: new Date(Date.now() - 600e3), EndTime: new Date(Date.now() + 60e3),
}));

// The error the SDK raised: its name, HTTP status and message.
async function refusal(promise) {
  try {
    await promise;
  } catch (e) {
    return { name: e.name, status: e.$metadata?.httpStatusCode, message: e.message };
  }
  assert.fail('the request was not refused');
}

before(async () => {
  admin = keys('create', '--actions', 'xray:*,roentgen:*', '--name', 'admin');
  writer = keys('create', '--actions', 'xray:PutTraceSegments', '--name', 'writer');
  server = await startServer({ args: ['--keys', keysFile] });
});
after(async () => {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('keys create prints the documented JSON', () => {
  assert.deepEqual(Object.keys(admin).sort(), ['AccessKeyId', 'SecretAccessKey']);
  assert.match(admin.AccessKeyId, /^AKRG[A-Z2-7]{16}$/);
  assert.equal(admin.SecretAccessKey.length, 40);
  const listed = keys('list');
  assert.deepEqual(listed.map((k) => k.Name), ['admin', 'writer']);
  assert.ok(listed.every((k) => !('SecretAccessKey' in k)));
});

test('the server says at start whether it requires signed requests', async () => {
  assert.match(server.output(), /API requests must be signed \(SigV4, service xray\)/);
  const open = await startServer();
  try {
    assert.match(open.output(), /no --keys: the API is open \(no signature needed\) to anyone on this machine \(127\.0\.0\.1 is loopback\)/);
    // Any credentials do there.
    const out = await xrayClient(open.endpoint, { accessKeyId: 'any', secretAccessKey: 'any' })
      .send(new GetTraceSummariesCommand({ StartTime: new Date(Date.now() - 60e3), EndTime: new Date() }));
    assert.deepEqual(out.TraceSummaries, []);
  } finally {
    await open.stop();
  }
});

test('the real client with the right keys writes, reads and manages groups', async () => {
  const traceId = newTraceId();
  const put = await client(admin).send(new PutTraceSegmentsCommand({ TraceSegmentDocuments: [segment(traceId)] }));
  assert.deepEqual(put.UnprocessedTraceSegments, []);
  const found = await eventually(async () => {
    const out = await summaries(admin);
    return out.TraceSummaries.some((s) => s.Id === traceId) && out;
  });
  assert.ok(found);
  const { Traces } = await client(admin).send(new BatchGetTracesCommand({ TraceIds: [traceId] }));
  assert.equal(Traces[0].Id, traceId);
  await client(admin).send(new CreateGroupCommand({ GroupName: 'secured', FilterExpression: 'fault' }));
  const { Groups } = await client(admin).send(new GetGroupsCommand({}));
  assert.ok(Groups.some((g) => g.GroupName === 'secured'));
});

test('a wrong secret is InvalidSignatureException', async () => {
  const e = await refusal(summaries({ ...admin, SecretAccessKey: 'x'.repeat(40) }));
  assert.equal(e.name, 'InvalidSignatureException');
  assert.equal(e.status, 403);
  assert.match(e.message, /^The request signature we calculated does not match the signature you provided/);
});

test('an unknown key is UnrecognizedClientException', async () => {
  const e = await refusal(summaries({ AccessKeyId: 'AKRGUNKNOWNKEY000000', SecretAccessKey: 'x'.repeat(40) }));
  assert.equal(e.name, 'UnrecognizedClientException');
  assert.equal(e.status, 403);
  assert.equal(e.message, 'The security token included in the request is invalid.');
});

test('an unsigned request is MissingAuthenticationTokenException; health, metrics and console stay open', async () => {
  const res = await fetch(`${server.endpoint}/TraceSummaries`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ StartTime: now() - 60, EndTime: now() }),
  });
  assert.equal(res.status, 403);
  assert.equal(res.headers.get('x-amzn-errortype'), 'MissingAuthenticationTokenException');
  assert.deepEqual(await res.json(), {
    __type: 'MissingAuthenticationTokenException', message: 'Missing Authentication Token',
  });
  assert.equal((await fetch(`${server.endpoint}/healthz`)).status, 200);
  assert.equal((await fetch(`${server.endpoint}/metrics`)).status, 200);
  assert.notEqual((await fetch(`${server.endpoint}/`)).status, 403);
  const unsignedPut = await fetch(`${server.endpoint}/TraceSegments`, {
    method: 'POST', body: JSON.stringify({ TraceSegmentDocuments: [segment()] }),
  });
  assert.equal(unsignedPut.status, 403);
});

test('a key limited to xray:PutTraceSegments writes but gets AccessDeniedException on reads', async () => {
  const put = await client(writer).send(new PutTraceSegmentsCommand({ TraceSegmentDocuments: [segment()] }));
  assert.deepEqual(put.UnprocessedTraceSegments, []);
  const e = await refusal(summaries(writer));
  assert.equal(e.name, 'AccessDeniedException');
  assert.equal(e.status, 403);
  assert.equal(e.message, `User: arn:roentgen:iam::key/${writer.AccessKeyId} is not authorized to perform: xray:GetTraceSummaries`);
});

test('a session key works until its --ttl, then is ExpiredTokenException', async () => {
  const session = keys('create', '--actions', 'xray:GetTraceSummaries', '--ttl', '2s');
  assert.deepEqual(Object.keys(session).sort(), ['AccessKeyId', 'Expiration', 'SecretAccessKey', 'SessionToken']);
  assert.match(session.Expiration, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  await summaries(session);
  // Without its token the session key is unknown.
  const noToken = await refusal(summaries({ ...session, SessionToken: undefined }));
  assert.equal(noToken.name, 'UnrecognizedClientException');
  await sleep(Date.parse(session.Expiration) - Date.now() + 500);
  const e = await refusal(summaries(session));
  assert.equal(e.name, 'ExpiredTokenException');
  assert.equal(e.status, 403);
  assert.equal(e.message, 'The security token included in the request is expired');
});

test('a key created while the server runs works at once, and a revoked key stops', async () => {
  const late = keys('create', '--actions', 'xray:GetTraceSummaries');
  await summaries(late);
  execFileSync(BIN, ['keys', 'revoke', '--keys', keysFile, late.AccessKeyId], { stdio: 'pipe' });
  const e = await eventually(async () => {
    const r = await refusal(summaries(late));
    return r.name === 'UnrecognizedClientException' && r;
  }, { timeoutMs: 5000 });
  assert.equal(e.status, 403);
  // The other keys are untouched.
  await summaries(admin);
});

// Signs like the web console (console/src/api/sigv4.ts): @smithy/signature-v4,
// service xray, headers content-type and host.
async function consoleFetch(path, body, k, { sendBody, applyChecksum = false, gzip = false } = {}) {
  const sha256 = class {
    constructor(secret) { this.h = secret ? createHmac('sha256', secret) : createHash('sha256'); }
    update(data) { this.h.update(data); }
    async digest() { return new Uint8Array(this.h.digest()); }
  };
  const signer = new SignatureV4({
    service: 'xray', region: 'eu-west-3', sha256, credentials: asCredentials(k), applyChecksum,
  });
  const url = new URL(server.endpoint);
  const text = gzip ? gzipSync(JSON.stringify(body)) : JSON.stringify(body);
  const signed = await signer.sign({
    method: 'POST', protocol: 'http:', hostname: url.hostname, port: Number(url.port), path, query: {},
    headers: {
      'content-type': 'application/json', host: url.host, ...(gzip ? { 'content-encoding': 'gzip' } : {}),
    },
    body: text,
  });
  const headers = Object.fromEntries(Object.entries(signed.headers).filter(([n]) => n.toLowerCase() !== 'host'));
  return fetch(`${server.endpoint}${path}`, { method: 'POST', headers, body: sendBody ?? text });
}

test('an app backend gets short-lived keys from POST /roentgen/CreateSessionKeys, never more than its own', async () => {
  const backend = keys('create', '--actions', 'roentgen:CreateSessionKeys,xray:PutTraceSegments,xray:GetTraceSummaries');
  const res = await consoleFetch('/roentgen/CreateSessionKeys', { Actions: ['xray:PutTraceSegments'], DurationSeconds: 900 }, backend);
  assert.equal(res.status, 200, await res.clone().text());
  const browser = await res.json();
  assert.match(browser.AccessKeyId, /^ASRG/);
  assert.ok(Date.parse(browser.Expiration) - Date.now() > 800e3);

  // The real client with the session keys (x-amz-security-token) writes...
  const put = await client(browser).send(new PutTraceSegmentsCommand({ TraceSegmentDocuments: [segment()] }));
  assert.deepEqual(put.UnprocessedTraceSegments, []);
  // ...and may do nothing else.
  assert.equal((await refusal(summaries(browser))).name, 'AccessDeniedException');

  const greedy = await consoleFetch('/roentgen/CreateSessionKeys', { Actions: ['xray:*'] }, backend);
  assert.equal(greedy.status, 403);
  assert.equal(greedy.headers.get('x-amzn-errortype'), 'AccessDeniedException');

  // Revoking the backend's key revokes the session keys it made.
  execFileSync(BIN, ['keys', 'revoke', '--keys', keysFile, backend.AccessKeyId], { stdio: 'pipe' });
  await eventually(async () => (await refusal(
    client(browser).send(new PutTraceSegmentsCommand({ TraceSegmentDocuments: [segment()] })),
  )).name === 'UnrecognizedClientException', { timeoutMs: 5000 });
});

test('requests signed as the web console signs them pass; tampered ones do not', async () => {
  const ok = await consoleFetch('/TraceSummaries', { StartTime: now() - 60, EndTime: now() }, admin);
  assert.equal(ok.status, 200, await ok.clone().text());
  assert.ok(Array.isArray((await ok.json()).TraceSummaries));
  const analytics = await consoleFetch('/roentgen/TraceAnalytics', { StartTime: now() - 60, EndTime: now() }, admin);
  assert.notEqual(analytics.status, 403, await analytics.clone().text());
  // With x-amz-content-sha256 signed too, and over a gzipped body (the bytes sent are signed).
  const checksummed = await consoleFetch('/TraceSummaries', { StartTime: now() - 60, EndTime: now() }, admin,
    { applyChecksum: true });
  assert.equal(checksummed.status, 200, await checksummed.clone().text());
  const gzipped = await consoleFetch('/TraceSummaries', { StartTime: now() - 60, EndTime: now() }, admin,
    { gzip: true });
  assert.equal(gzipped.status, 200, await gzipped.clone().text());
  // The same signature over another body.
  const tampered = await consoleFetch('/TraceSummaries', { StartTime: now() - 60, EndTime: now() }, admin,
    { sendBody: JSON.stringify({ StartTime: 0, EndTime: now() }) });
  assert.equal(tampered.status, 403);
  assert.equal(tampered.headers.get('x-amzn-errortype'), 'InvalidSignatureException');
});

test('roentgen query signs with AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY', () => {
  const run = (env) => spawnSync(BIN, ['query', '--server', `127.0.0.1:${server.port}`, '--json', '--since', '10m'], {
    encoding: 'utf8', env: { PATH: process.env.PATH, ...env },
  });
  const signed = run({ AWS_ACCESS_KEY_ID: admin.AccessKeyId, AWS_SECRET_ACCESS_KEY: admin.SecretAccessKey });
  assert.equal(signed.status, 0, signed.stderr);
  const unsigned = run({});
  assert.notEqual(unsigned.status, 0);
  assert.match(unsigned.stderr, /Missing Authentication Token/);
});

// Debian's awscli (scripts/install-deps.sh --with-tests), else any aws on PATH.
const AWS = process.env.AWS_CLI ?? (existsSync('/usr/bin/aws') ? '/usr/bin/aws' : 'aws');
const aws = spawnSync(AWS, ['--version'], { encoding: 'utf8' });
test('the AWS CLI (botocore) with the keys in AWS_* variables', { skip: aws.status !== 0 && 'aws CLI not installed' }, () => {
  const run = (k) => spawnSync(AWS, [
    'xray', 'get-trace-summaries', '--endpoint-url', server.endpoint, '--region', 'us-west-2',
    '--start-time', String(Math.floor(now() - 600)), '--end-time', String(Math.floor(now() + 60)), '--output', 'json',
  ], {
    encoding: 'utf8',
    env: {
      PATH: process.env.PATH, HOME: dir, AWS_CONFIG_FILE: join(dir, 'none'), AWS_SHARED_CREDENTIALS_FILE: join(dir, 'none'),
      AWS_ACCESS_KEY_ID: k.AccessKeyId, AWS_SECRET_ACCESS_KEY: k.SecretAccessKey,
      ...(k.SessionToken ? { AWS_SESSION_TOKEN: k.SessionToken } : {}),
      AWS_MAX_ATTEMPTS: '1', AWS_PAGER: '', AWS_EC2_METADATA_DISABLED: 'true',
    },
  });
  const ok = run(admin);
  assert.equal(ok.status, 0, ok.stderr);
  assert.ok(Array.isArray(JSON.parse(ok.stdout).TraceSummaries));
  const session = run(keys('create', '--actions', 'xray:Get*', '--ttl', '5m'));
  assert.equal(session.status, 0, session.stderr);
  const denied = run(writer);
  assert.notEqual(denied.status, 0);
  assert.match(denied.stderr, /AccessDeniedException/);
  const wrong = run({ ...admin, SecretAccessKey: 'y'.repeat(40) });
  assert.match(wrong.stderr, /InvalidSignatureException/);
});
