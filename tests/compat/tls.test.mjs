// HTTPS (roentgen serve --tls-cert/--tls-key): the real @aws-sdk/client-xray
// and `roentgen query` over TLS, signing with a key from `roentgen keys
// create`, trusting a certificate made here with Debian's openssl; the
// certificate reloaded on SIGHUP.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import https from 'node:https';
import tls from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XRayClient, GetTraceSummariesCommand, PutTraceSegmentsCommand } from '@aws-sdk/client-xray';
import { makeCertificate as makeCertificateIn } from './lib/certificates.mjs';
import { startServer, BIN } from './lib/server.mjs';
import { eventually } from './lib/clients.mjs';

const dir = mkdtempSync(join(tmpdir(), 'roentgen-tls-'));
let server;
let certificate;
let key;
let putTraceId; // the trace the first test puts

const makeCertificate = (name) => makeCertificateIn(dir, name);

// The SHA-256 fingerprint of the certificate a new TLS connection is shown.
function presentedFingerprint(port, ca) {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, ca }, () => {
      const fingerprint = socket.getPeerCertificate().fingerprint256;
      socket.end();
      resolve(fingerprint);
    });
    socket.on('error', reject);
  });
}

const client = (ca) => new XRayClient({
  endpoint: server.endpoint,
  region: 'us-east-1',
  credentials: { accessKeyId: key.AccessKeyId, secretAccessKey: key.SecretAccessKey },
  maxAttempts: 1,
  requestHandler: { httpsAgent: new https.Agent({ ca }) },
});

before(async () => {
  certificate = makeCertificate('roentgen-test');
  const keysFile = join(dir, 'keys.json');
  key = JSON.parse(execFileSync(BIN, ['keys', 'create', '--keys', keysFile, '--actions', 'xray:*'],
    { encoding: 'utf8' }));
  server = await startServer({
    args: ['--keys', keysFile, '--otlp-grpc-listen', 'off'],
    tls: { cert: certificate.cert, key: certificate.key, ca: certificate.ca },
  });
});
after(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('the AWS SDK puts and finds a segment over HTTPS', async () => {
  assert.match(server.endpoint, /^https:\/\/127\.0\.0\.1:\d+$/);
  assert.match(server.output(), /HTTPS \(TLS 1\.2\+\) with the certificate in .*: CN=roentgen-test, valid until/);
  const now = Date.now() / 1000;
  const traceId = `1-${Math.floor(now).toString(16).padStart(8, '0')}-${randomBytes(12).toString('hex')}`;
  const xray = client(certificate.ca);
  const put = await xray.send(new PutTraceSegmentsCommand({
    TraceSegmentDocuments: [JSON.stringify({
      name: 'over-tls', id: randomBytes(8).toString('hex'), trace_id: traceId,
      start_time: now - 1, end_time: now,
    })],
  }));
  assert.deepEqual(put.UnprocessedTraceSegments, []);
  const found = await eventually(async () => {
    const { TraceSummaries } = await xray.send(new GetTraceSummariesCommand({
      StartTime: new Date(Date.now() - 600e3), EndTime: new Date(Date.now() + 60e3),
    }));
    return TraceSummaries.find((t) => t.Id === traceId);
  });
  assert.equal(found.Id, traceId);
  putTraceId = traceId;
});

test('roentgen query over HTTPS: verified, signed, and clear about a bad certificate', () => {
  const env = { ...process.env, AWS_ACCESS_KEY_ID: key.AccessKeyId, AWS_SECRET_ACCESS_KEY: key.SecretAccessKey };
  delete env.AWS_CA_BUNDLE;
  const query = (args, extraEnv = {}) => spawnSync(BIN,
    ['query', '--json', '--since', '10m', 'service("over-tls")', ...args],
    { encoding: 'utf8', env: { ...env, ...extraEnv } });
  const ids = (r) => r.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l).Id);

  let r = query(['--server', server.endpoint, '--ca-file', certificate.cert]);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(ids(r), [putTraceId]);
  // AWS_CA_BUNDLE as the AWS CLI honours it; the name localhost (SNI, DNS SAN).
  r = query(['--server', `https://localhost:${server.port}/`], { AWS_CA_BUNDLE: certificate.cert });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(ids(r), [putTraceId]);

  // The system's CAs do not know the test's certificate.
  r = query(['--server', server.endpoint]);
  assert.equal(r.status, 1);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, new RegExp(`^error: the certificate of https://127\\.0\\.0\\.1:${server.port} is not trusted: self-signed certificate`));
  // Plain HTTP to the HTTPS port.
  r = query(['--server', `127.0.0.1:${server.port}`]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^error: cannot reach http:\/\/127\.0\.0\.1:\d+: /);

  // Over TLS the signature is still checked: none, or a wrong secret, is refused.
  r = query(['--server', server.endpoint, '--ca-file', certificate.cert],
    { AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /^error: MissingAuthenticationTokenException: Missing Authentication Token/);
  // Another first character (a secret that begins with "x" stays itself under `x…`).
  const wrongSecret = `${key.SecretAccessKey[0] === 'x' ? 'y' : 'x'}${key.SecretAccessKey.slice(1)}`;
  r = query(['--server', server.endpoint, '--ca-file', certificate.cert],
    { AWS_SECRET_ACCESS_KEY: wrongSecret });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /^error: InvalidSignatureException: /);
});

test('plain HTTP and untrusting clients get nowhere', async () => {
  await assert.rejects(fetch(`http://127.0.0.1:${server.port}/healthz`));
  // Without the test's certificate Node trusts only public roots.
  await assert.rejects(client(undefined).send(new GetTraceSummariesCommand({
    StartTime: new Date(Date.now() - 60e3), EndTime: new Date(),
  })), /self-signed certificate/);
});

test('SIGHUP reloads the certificate for new connections', async () => {
  const before = await presentedFingerprint(server.port, certificate.ca);
  const renewed = makeCertificate('roentgen-renewed');
  copyFileSync(renewed.cert, certificate.cert);
  copyFileSync(renewed.key, certificate.key);
  server.signal('SIGHUP');
  const after = await eventually(async () => {
    const fingerprint = await presentedFingerprint(server.port, renewed.ca);
    return fingerprint !== before && fingerprint;
  });
  assert.notEqual(after, before);
  assert.match(server.output(), /HTTPS certificate reloaded from .*CN=roentgen-renewed/);
  certificate = { ...certificate, ca: renewed.ca };
  const { TraceSummaries } = await client(renewed.ca).send(new GetTraceSummariesCommand({
    StartTime: new Date(Date.now() - 600e3), EndTime: new Date(Date.now() + 60e3),
  }));
  assert.ok(TraceSummaries.length >= 1);
});
