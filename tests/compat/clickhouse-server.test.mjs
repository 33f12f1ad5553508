// The helper that gives the ClickHouse engine's tests a clickhouse-server of
// their own (lib/clickhouse.mjs): it starts on free loopback ports, answers
// as both of its users, and its stop ends the process and removes its files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { startClickHouse, CLICKHOUSE_PASSWORD_USER, CLICKHOUSE_PASSWORD } from './lib/clickhouse.mjs';

const alive = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

test('a clickhouse-server of the test\'s own starts, answers and stops by PID', async () => {
  const ch = await startClickHouse();
  try {
    assert.match(ch.url, /^clickhouse:\/\/127\.0\.0\.1:\d+\/default$/);
    assert.equal(await ch.query('SELECT 6 * 7'), '42\n');
    await ch.query('CREATE DATABASE helper_test');
    await ch.query('CREATE TABLE helper_test.t (s String) ENGINE = Memory');
    await ch.query("INSERT INTO helper_test.t VALUES ('a\\'b')");
    assert.equal(await ch.query('SELECT s FROM helper_test.t FORMAT TabSeparatedRaw'), "a'b\n");
    await assert.rejects(ch.query('SELECT * FROM helper_test.nope'), /Code: 60/);

    const auth = (password) => fetch(`http://127.0.0.1:${ch.httpPort}/`, {
      method: 'POST',
      body: 'SELECT 1',
      headers: { 'X-ClickHouse-User': CLICKHOUSE_PASSWORD_USER, 'X-ClickHouse-Key': password },
    });
    assert.equal((await auth(CLICKHOUSE_PASSWORD)).status, 200);
    const wrong = await auth('wrong');
    assert.notEqual(wrong.status, 200);
    assert.match(await wrong.text(), /Code: (193|516)/);
  } finally {
    await ch.stop();
  }
  assert.equal(alive(ch.pid), false);
  assert.equal(existsSync(ch.dir), false);
  await assert.rejects(fetch(`http://127.0.0.1:${ch.httpPort}/ping`));
});
