import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addTerm, annotationTerm, composeFilter, quote, responseTimeTerm } from '../src/lib/filter';

test('quote escapes quotes and backslashes', () => {
  assert.equal(quote('say "hi" \\o/'), '"say \\"hi\\" \\\\o/"');
});

test('annotation terms use the dotted form when the key allows it', () => {
  assert.equal(annotationTerm('email', 'alice@example.com'), 'annotation.email = "alice@example.com"');
  assert.equal(annotationTerm('otel.http.route', '/x'), 'annotation["otel.http.route"] = "/x"');
  assert.equal(annotationTerm('age', 41), 'annotation.age = 41');
  assert.equal(annotationTerm('vip', true), 'annotation.vip = true');
});

test('addTerm ANDs a term on, parenthesising a top-level OR only', () => {
  assert.equal(addTerm('', 'fault'), 'fault');
  assert.equal(addTerm('ok', 'user = "a"'), 'ok AND user = "a"');
  assert.equal(addTerm('fault OR error', 'user = "a"'), '(fault OR error) AND user = "a"');
  assert.equal(addTerm('service("a") { fault OR error }', 'ok'), 'service("a") { fault OR error } AND ok');
  assert.equal(addTerm('user = "x or y"', 'ok'), 'user = "x or y" AND ok');
  assert.equal(addTerm('fault AND ok', 'ok'), 'fault AND ok');
});

test('composeFilter maps server columns back to what the user typed', () => {
  const plain = composeFilter('user = alice', []);
  assert.equal(plain.expression, 'user = alice');
  assert.equal(plain.userColumn(8), 8);
  const c = composeFilter('user = alice', [responseTimeTerm(0.1, 0.2)]);
  assert.equal(c.expression, '(user = alice) AND responsetime >= 0.1 AND responsetime < 0.2');
  assert.equal(c.userColumn(9), 8);
  assert.equal(c.userColumn(40), undefined);
  assert.equal(composeFilter('  ', ['fault']).expression, 'fault');
});
