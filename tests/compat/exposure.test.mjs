// Who may reach the server: an open API beyond loopback is refused without
// --insecure, and UDP datagrams from the real aws-xray-sdk-core are taken
// only from --udp-allow's networks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetTraceSummariesCommand } from '@aws-sdk/client-xray';
import { startServer, freePort, BIN } from './lib/server.mjs';
import { xrayClient, eventually, sleep } from './lib/clients.mjs';
import { AWSXRay, useDaemon } from './lib/sdk.mjs';

test('an open API on a non-loopback address is refused, naming both ways out', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'roentgen-exposure-'));
  try {
    const port = await freePort();
    const run = spawnSync(BIN, ['serve', '--listen', `0.0.0.0:${port}`, '--data-dir', join(dir, 'data')],
      { encoding: 'utf8', timeout: 10000 });
    assert.equal(run.status, 1);
    assert.match(run.stderr + run.stdout,
      /--listen 0\.0\.0\.0:\d+ is not a loopback address, and without --keys anyone who can reach it could read and write traces\. Give --keys FILE .* or --insecure to serve it open anyway/);
    assert.equal(existsSync(join(dir, 'data')), false, 'nothing was opened');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('datagrams from outside --udp-allow are dropped and counted', async () => {
  // The SDK sends from 127.0.0.1, which this server does not allow.
  const server = await startServer({ args: ['--udp-allow', '127.0.0.2/32', '--otlp-grpc-listen', 'off'] });
  try {
    assert.match(server.output(), /UDP datagrams are taken from 127\.0\.0\.2\/32 only \(--udp-allow\)/);
    useDaemon(server.port);
    const segment = new AWSXRay.Segment('outsider');
    segment.close();
    const metrics = await eventually(async () => {
      const text = await (await fetch(`${server.endpoint}/metrics`)).text();
      return text.includes('roentgen_udp_datagrams_dropped_total{reason="not_allowed"} 1\n') && text;
    });
    assert.match(metrics, /roentgen_udp_datagrams_received_total 0\n/);
    await sleep(100);
    const { TraceSummaries } = await xrayClient(server.endpoint).send(new GetTraceSummariesCommand({
      StartTime: new Date(Date.now() - 600e3), EndTime: new Date(Date.now() + 60e3),
    }));
    assert.deepEqual(TraceSummaries, []);
  } finally {
    await server.stop();
  }
});
