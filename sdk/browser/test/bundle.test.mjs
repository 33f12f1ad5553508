import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';

const code = readFileSync(new URL('../dist/xray.js', import.meta.url), 'utf8');

test('the bundle is under 10 KB gzipped', () => {
  const gz = gzipSync(code, { level: 9 }).length;
  assert.ok(gz <= 10 * 1024, `${gz} bytes gzipped`);
});

test('the bundle imports nothing: one self-contained ES module', () => {
  assert.doesNotMatch(code, /\bimport\s*[\s{*"'(]|require\(/);
  assert.match(code, /export\s*\{/);
});
