// HTTPS (roentgen serve --tls-cert/--tls-key): the real @aws-sdk/client-xray
// over TLS, signing with a key from `roentgen keys create`, trusting a
// certificate made here with Debian's openssl; the certificate reloaded on
// SIGHUP.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import tls from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XRayClient, GetTraceSummariesCommand, PutTraceSegmentsCommand } from '@aws-sdk/client-xray';
import { startServer, BIN } from './lib/server.mjs';
import { eventually } from './lib/clients.mjs';

const dir = mkdtempSync(join(tmpdir(), 'roentgen-tls-'));
let server;
let certificate;
let key;

// A self-signed certificate for 127.0.0.1 and localhost (CA:TRUE, as
// `openssl req -x509` makes it, so a client may trust it as its own root).
function makeCertificate(name) {
  const cert = join(dir, `${name}-cert.pem`);
  const keyFile = join(dir, `${name}-key.pem`);
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', keyFile, '-out', cert, '-days', '1', '-subj', `/CN=${name}`,
    '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
  ], { stdio: 'ignore' });
  return { cert, key: keyFile, ca: readFileSync(cert) };
}

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
