// SIGHUP (systemctl reload) re-reads the keys file (docs/operations.md): a
// key revoked in the file is refused to the real @aws-sdk/client-xray right
// after the signal, a key added works; a file that no longer parses keeps
// the keys last loaded, and the log says why. (The certificate's reload on
// SIGHUP is tested in tls.test.mjs for HTTPS, in otlp-grpc-tls.test.mjs for
// OTLP/gRPC.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetTraceSummariesCommand } from '@aws-sdk/client-xray';
import { BIN, startServer } from './lib/server.mjs';
import { xrayClient, eventually } from './lib/clients.mjs';

test('SIGHUP re-reads the keys file; a broken one keeps the keys last loaded', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'roentgen-sighup-'));
  const keysFile = join(dir, 'keys.json');
  const keys = (...args) => execFileSync(BIN, ['keys', ...args, '--keys', keysFile], { encoding: 'utf8' });
  const create = (name) => JSON.parse(keys('create', '--actions', 'xray:GetTraceSummaries', '--name', name));
  const query = (k) => xrayClient(server.endpoint, { accessKeyId: k.AccessKeyId, secretAccessKey: k.SecretAccessKey })
    .send(new GetTraceSummariesCommand({ StartTime: new Date(Date.now() - 60e3), EndTime: new Date() }));
  const refused = async (k) => {
    try {
      await query(k);
      return undefined;
    } catch (e) {
      return e.name;
    }
  };
  // SIGHUP, and the log's word that it was taken.
  const hup = async () => {
    const before = (server.output().match(/received SIGHUP/g) ?? []).length;
    server.signal('SIGHUP');
    await eventually(() => (server.output().match(/received SIGHUP/g) ?? []).length > before);
  };

  const first = create('first');
  const server = await startServer({ args: ['--keys', keysFile] });
  try {
    await query(first);
    keys('revoke', first.AccessKeyId);
    const second = create('second');
    await hup();
    assert.match(server.output(), /received SIGHUP: re-reading the keys file/);
    assert.equal(await refused(first), 'UnrecognizedClientException');
    await query(second);

    writeFileSync(keysFile, '{ not json');
    await hup();
    await query(second);  // the keys last loaded stay in use
    assert.match(server.output(), /keys file not reloaded, the keys last loaded stay in use/);
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
