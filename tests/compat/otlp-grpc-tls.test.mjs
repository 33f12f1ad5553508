// OTLP/gRPC over TLS (roentgen serve --tls-cert/--tls-key, and mutual TLS with
// --otlp-grpc-client-ca): the real @opentelemetry/exporter-trace-otlp-grpc,
// configured through its standard environment variables
// (OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE, …_CLIENT_CERTIFICATE, …_CLIENT_KEY)
// with certificates made here by Debian's openssl, exports spans that the
// real @aws-sdk/client-xray then finds over HTTPS, signed with a key from
// `roentgen keys create`. Plaintext and unauthenticated exporters get nowhere.
// SIGHUP gives gRPC a renewed certificate and client CAs, as it does HTTPS.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SpanKind } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { XRayClient, BatchGetTracesCommand, GetTraceSummariesCommand } from '@aws-sdk/client-xray';
import { makeCertificate as makeCertificateIn } from './lib/certificates.mjs';
import { startServer, freePort, BIN } from './lib/server.mjs';
import { eventually } from './lib/clients.mjs';
import { otel, xrayTraceId } from './lib/otel.mjs';

const dir = mkdtempSync(join(tmpdir(), 'roentgen-grpc-tls-'));
let certificate; // the server's
let exporterCertificate; // an exporter's client certificate (its own CA)
let key;
let keysFile;
let server; // TLS
let grpcPort;
let mtlsServer; // TLS with client certificates required
let mtlsGrpcPort;

const makeCertificate = (name) => makeCertificateIn(dir, name);

// The OTLP exporter's standard variables for the duration of `fn`.
async function withEnv(vars, fn) {
  const old = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  Object.assign(process.env, vars);
  try {
    return await fn();
  } finally {
    for (const [k, v] of Object.entries(old)) {
      if (v === undefined) delete process.env[k]; else process.env[k] = v;
    }
  }
}

// Exports one span through a gRPC exporter to `url`; returns its trace id
// (X-Ray's form). Rejects with the exporter's error (gRPC's UNAVAILABLE when
// no connection could be established) when the export failed.
async function exportSpan(url, serviceName) {
  const o = otel(serviceName, new OTLPTraceExporter({ url, timeoutMillis: 3000 }));
  const span = o.tracer.startSpan('consume orders', { kind: SpanKind.CONSUMER });
  span.end();
  try {
    await o.flush();
  } finally {
    await o.shutdown().catch(() => {});
  }
  return xrayTraceId(span.spanContext().traceId);
}

// An export that failed for want of a connection (the handshake failed).
const refused = /14 UNAVAILABLE: No connection established/;

// Finds trace ids over HTTPS trusting `ca`.
const xray = (target, ca = certificate.ca) => new XRayClient({
  endpoint: target.endpoint,
  region: 'us-east-1',
  credentials: { accessKeyId: key.AccessKeyId, secretAccessKey: key.SecretAccessKey },
  maxAttempts: 1,
  requestHandler: { httpsAgent: new https.Agent({ ca }) },
});

async function findTrace(target, ca, traceId) {
  const { Traces } = await eventually(async () => {
    const out = await xray(target, ca).send(new BatchGetTracesCommand({ TraceIds: [traceId] }));
    return out.Traces.length === 1 && out;
  });
  return JSON.parse(Traces[0].Segments[0].Document);
}

before(async () => {
  certificate = makeCertificate('roentgen-grpc');
  exporterCertificate = makeCertificate('exporter');
  keysFile = join(dir, 'keys.json');
  key = JSON.parse(execFileSync(BIN, ['keys', 'create', '--keys', keysFile, '--actions', 'xray:*'],
    { encoding: 'utf8' }));
  const tls = { cert: certificate.cert, key: certificate.key, ca: certificate.ca };
  grpcPort = await freePort();
  server = await startServer({
    args: ['--keys', keysFile, '--otlp-grpc-listen', `127.0.0.1:${grpcPort}`], tls,
  });
  mtlsGrpcPort = await freePort();
  mtlsServer = await startServer({
    args: ['--keys', keysFile, '--otlp-grpc-listen', `127.0.0.1:${mtlsGrpcPort}`,
      '--otlp-grpc-client-ca', exporterCertificate.cert],
    tls,
  });
});
after(async () => {
  for (const s of [server, mtlsServer]) {
    const r = await s?.stop();
    assert.equal(r?.code, 0, `server exit: ${JSON.stringify(r)}\n${s?.output()}`);
  }
  rmSync(dir, { recursive: true, force: true });
});

test('the start-up log says which listeners are TLS', () => {
  assert.match(server.output(), new RegExp(
    `TLS on: HTTP 127\\.0\\.0\\.1:${server.port}, OTLP/gRPC 127\\.0\\.0\\.1:${grpcPort}; ` +
    `plaintext: UDP 127\\.0\\.0\\.1:${server.port} \\(the daemon protocol has no TLS\\)`));
  assert.match(server.output(), /OTLP\/gRPC on 127\.0\.0\.1:\d+ takes exports without keys/);
  assert.match(mtlsServer.output(), new RegExp(
    `TLS on: HTTP 127\\.0\\.0\\.1:${mtlsServer.port}, OTLP/gRPC 127\\.0\\.0\\.1:${mtlsGrpcPort} ` +
    '\\(client certificates required\\)'));
  assert.doesNotMatch(mtlsServer.output(), /takes exports without keys/);
});

test('spans exported over TLS are found with GetTraceSummaries and BatchGetTraces', async () => {
  const traceId = await withEnv({ OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE: certificate.cert },
    () => exportSpan(`https://127.0.0.1:${grpcPort}`, 'grpc-over-tls'));
  const client = xray(server);
  const summary = await eventually(async () => {
    const { TraceSummaries } = await client.send(new GetTraceSummariesCommand({
      StartTime: new Date(Date.now() - 600e3), EndTime: new Date(Date.now() + 60e3),
      FilterExpression: 'service("grpc-over-tls")',
    }));
    return TraceSummaries.find((t) => t.Id === traceId);
  });
  assert.equal(summary.Id, traceId);
  const { Traces } = await client.send(new BatchGetTracesCommand({ TraceIds: [traceId] }));
  assert.equal(Traces.length, 1);
  assert.equal(JSON.parse(Traces[0].Segments[0].Document).name, 'grpc-over-tls');
});

test('plaintext and exporters that do not trust the certificate get nowhere', async () => {
  await assert.rejects(exportSpan(`http://127.0.0.1:${grpcPort}`, 'grpc-plaintext'), refused);
  const stranger = makeCertificate('stranger');
  await withEnv({ OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE: stranger.cert }, () => assert.rejects(
    exportSpan(`https://127.0.0.1:${grpcPort}`, 'grpc-untrusting'), refused));
  const { TraceSummaries } = await xray(server).send(new GetTraceSummariesCommand({
    StartTime: new Date(Date.now() - 600e3), EndTime: new Date(Date.now() + 60e3),
    FilterExpression: 'service("grpc-plaintext") OR service("grpc-untrusting")',
  }));
  assert.deepEqual(TraceSummaries, []);
});

test('with --otlp-grpc-client-ca only exporters with a certificate it signed may export', async () => {
  const url = `https://127.0.0.1:${mtlsGrpcPort}`;
  const traceId = await withEnv({
    OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE: certificate.cert,
    OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE: exporterCertificate.cert,
    OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY: exporterCertificate.key,
  }, () => exportSpan(url, 'grpc-mtls'));
  assert.equal((await findTrace(mtlsServer, certificate.ca, traceId)).name, 'grpc-mtls');

  // No client certificate, and one the CA did not sign.
  await withEnv({ OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE: certificate.cert },
    () => assert.rejects(exportSpan(url, 'grpc-anonymous'), refused));
  const other = makeCertificate('other-exporter');
  await withEnv({
    OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE: certificate.cert,
    OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE: other.cert,
    OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY: other.key,
  }, () => assert.rejects(exportSpan(url, 'grpc-stranger'), refused));
});

test('gRPC beyond loopback is refused without client certificates, even with --keys', async () => {
  const r = spawnSync(BIN, ['serve', '--listen', '127.0.0.1:0', '--data-dir', join(dir, 'refused'),
    '--keys', keysFile, '--tls-cert', certificate.cert, '--tls-key', certificate.key,
    '--otlp-grpc-listen', '0.0.0.0:4317'], { encoding: 'utf8', timeout: 10000 });
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /--otlp-grpc-listen 0\.0\.0\.0:4317 is not a loopback address, and OTLP\/gRPC checks no keys .*--otlp-grpc-client-ca/);
});

test('SIGHUP gives gRPC the renewed certificate and client CAs; a broken pair keeps the old', async () => {
  const old = makeCertificate('grpc-before');
  const renewed = makeCertificate('grpc-renewed');
  const oldExporter = makeCertificate('exporter-before');
  const newExporter = makeCertificate('exporter-renewed');
  // The files the server is given, renewed in place as an operator would.
  const served = {
    cert: join(dir, 'served-cert.pem'), key: join(dir, 'served-key.pem'),
    clientCa: join(dir, 'served-client-ca.pem'),
  };
  copyFileSync(old.cert, served.cert);
  copyFileSync(old.key, served.key);
  copyFileSync(oldExporter.cert, served.clientCa);
  const port = await freePort();
  const s = await startServer({
    args: ['--keys', keysFile, '--otlp-grpc-listen', `127.0.0.1:${port}`,
      '--otlp-grpc-client-ca', served.clientCa],
    tls: { cert: served.cert, key: served.key, ca: old.ca },
  });
  // Each call's trust and client certificate differ from every earlier
  // call's, so no exporter can reuse a connection made before a reload.
  const exportWith = (trusted, client, serviceName) => withEnv({
    OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE: trusted.cert,
    OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE: client.cert,
    OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY: client.key,
  }, () => exportSpan(`https://127.0.0.1:${port}`, serviceName));
  const logged = (pattern) => (s.output().match(pattern) ?? []).length;
  const hup = async (pattern) => {
    const before = logged(pattern);
    s.signal('SIGHUP');
    await eventually(() => logged(pattern) > before);
  };
  try {
    const first = await exportWith(old, oldExporter, 'grpc-before-renewal');
    assert.equal((await findTrace(s, old.ca, first)).name, 'grpc-before-renewal');

    copyFileSync(renewed.cert, served.cert);
    copyFileSync(renewed.key, served.key);
    copyFileSync(newExporter.cert, served.clientCa);
    await hup(/received SIGHUP: OTLP\/gRPC certificate reloaded from \S+served-cert\.pem, client CAs from \S+served-client-ca\.pem/g);
    // An exporter that trusts only the renewed certificate's CA, with a
    // client certificate only the new client CA signed.
    const renewedTrace = await exportWith(renewed, newExporter, 'grpc-after-renewal');
    assert.equal((await findTrace(s, renewed.ca, renewedTrace)).name, 'grpc-after-renewal');
    // Trusting only the old certificate, or signed by the old client CA: refused.
    await assert.rejects(exportWith(old, newExporter, 'grpc-trusts-old'), refused);
    await assert.rejects(exportWith(renewed, oldExporter, 'grpc-old-client'), refused);

    // A certificate file that no longer parses: logged, the renewed pair stays.
    writeFileSync(served.cert, 'not a certificate');
    await hup(/OTLP\/gRPC keeps the certificate it had/g);
    assert.match(s.output(), /received SIGHUP: otlp grpc: the certificate file \S+served-cert\.pem holds no PEM certificate; OTLP\/gRPC keeps the certificate it had/);
    // A new connection (its trust, the renewed CA and an unrelated one,
    // differs from every earlier call's) still gets the renewed certificate.
    const bundle = join(dir, 'renewed-and-stranger.pem');
    writeFileSync(bundle, Buffer.concat([renewed.ca, makeCertificate('stranger-ca').ca]));
    const kept = await exportWith({ cert: bundle }, newExporter, 'grpc-after-broken-reload');
    assert.equal((await findTrace(s, renewed.ca, kept)).name, 'grpc-after-broken-reload');
  } finally {
    const r = await s.stop();
    assert.equal(r.code, 0, `server exit: ${JSON.stringify(r)}\n${s.output()}`);
  }
});
