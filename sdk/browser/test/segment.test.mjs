import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Segment, checkAnnotation, exceptionOf, graphqlOperationName, parseStack } from '../dist/xray.js';

test('annotation keys and values as X-Ray takes them', () => {
  assert.equal(checkAnnotation('email', 'alice@example.com'), '');
  assert.equal(checkAnnotation('A_9', 1.5), '');
  assert.equal(checkAnnotation('ok', true), '');
  assert.equal(checkAnnotation('k'.repeat(500), 'v'), '');
  assert.match(checkAnnotation('k'.repeat(501), 'v'), /1-500 letters/);
  assert.match(checkAnnotation('user-email', 'v'), /letters, digits and '_'/);
  assert.match(checkAnnotation('a.b', 'v'), /letters, digits and '_'/);
  assert.match(checkAnnotation('', 'v'), /1-500/);
  assert.match(checkAnnotation('n', NaN), /finite/);
  assert.match(checkAnnotation('o', { a: 1 }), /string, number or boolean/);
  assert.match(checkAnnotation('s', 'é'.repeat(1001)), /over 1000 characters/);
  assert.equal(checkAnnotation('s', '😀'.repeat(1000)), '');
});

test('a bad annotation is reported and left out, never thrown', () => {
  const seg = new Segment('app');
  const reported = [];
  seg.report = (e) => reported.push(e.message);
  seg.addAnnotation('email', 'a@example.com').addAnnotation('bad key', 'x');
  assert.deepEqual(seg.toDocument().annotations, { email: 'a@example.com' });
  assert.equal(reported.length, 1);
});

test('stack frames from Chromium, Firefox and Safari', () => {
  const chrome = `TypeError: x is undefined
    at toNote (https://app.example.com/assets/app.js:88:13)
    at async addNote (https://app.example.com/assets/app.js:52:5)
    at https://app.example.com/assets/main.js:7:1`;
  assert.deepEqual(parseStack(chrome).frames, [
    { path: 'https://app.example.com/assets/app.js', line: 88, label: 'toNote' },
    { path: 'https://app.example.com/assets/app.js', line: 52, label: 'async addNote' },
    { path: 'https://app.example.com/assets/main.js', line: 7 },
  ]);
  const gecko = `toNote@https://app.example.com/assets/app.js:88:13
@https://app.example.com/assets/main.js:7:1`;
  assert.deepEqual(parseStack(gecko).frames, [
    { path: 'https://app.example.com/assets/app.js', line: 88, label: 'toNote' },
    { path: 'https://app.example.com/assets/main.js', line: 7 },
  ]);
  const deep = Array.from({ length: 60 }, (_, i) => `    at f${i} (https://a/x.js:${i + 1}:1)`).join('\n');
  const p = parseStack(`Error: deep\n${deep}`);
  assert.equal(p.frames.length, 50);
  assert.equal(p.truncated, 10);
});

test('errors become faults with a cause; statuses set error, throttle, fault', () => {
  const seg = new Segment('app');
  const err = new RangeError('too far');
  seg.close(err);
  const doc = seg.toDocument();
  assert.equal(doc.fault, true);
  const [ex] = doc.cause.exceptions;
  assert.equal(ex.type, 'RangeError');
  assert.equal(ex.message, 'too far');
  assert.match(ex.id, /^[0-9a-f]{16}$/);
  assert.ok(ex.stack.length > 0 && ex.stack[0].line > 0, JSON.stringify(ex.stack));
  const plain = exceptionOf('plain', true);
  assert.deepEqual({ ...plain, id: 'x' }, { id: 'x', type: 'string', message: 'plain', remote: true });

  const s = new Segment('app');
  s.beginSubsegment('a').setResponse(404);
  s.beginSubsegment('b').setResponse(429);
  s.beginSubsegment('c').setResponse(503, 12);
  const [a, b, c] = s.subsegments;
  assert.deepEqual([a.error, a.fault, a.throttle], [true, undefined, undefined]);
  assert.deepEqual([b.error, b.throttle], [true, true]);
  assert.deepEqual([c.fault, c.http.response], [true, { status: 503, content_length: 12 }]);
});

test('the document: fields, in-progress and open subsegments left out', () => {
  const seg = new Segment('Web-Application', { user: 'alice@example.com', annotations: { email: 'alice@example.com' }, metadata: { page: '/notes' } });
  const done = seg.beginSubsegment('api.example.com', { namespace: 'remote' });
  done.close();
  const open = seg.beginSubsegment('slow');
  assert.equal(seg.toDocument(true).in_progress, true);
  assert.equal(seg.toDocument(true).subsegments[1].in_progress, true);
  seg.close();
  const doc = seg.toDocument();
  assert.equal(doc.name, 'Web-Application');
  assert.equal(doc.user, 'alice@example.com');
  assert.deepEqual(doc.annotations, { email: 'alice@example.com' });
  assert.deepEqual(doc.metadata, { default: { page: '/notes' } });
  assert.ok(doc.end_time >= doc.start_time);
  assert.equal(doc.in_progress, undefined);
  assert.deepEqual(doc.subsegments.map((s) => s.name), ['api.example.com']);
  assert.equal(doc.subsegments[0].namespace, 'remote');
  const independent = open.toDocument(false, true);
  assert.deepEqual([independent.type, independent.trace_id, independent.parent_id], ['subsegment', seg.trace_id, seg.id]);
});

test('GraphQL operation names', () => {
  assert.equal(graphqlOperationName({ query: 'mutation AddNote($t: String!) { addNote(text: $t) { id } }' }), 'AddNote');
  assert.equal(graphqlOperationName({ query: '  # comment\n query Notes { notes { id } }' }), 'Notes');
  assert.equal(graphqlOperationName({ query: '{ notes { id } }' }), 'query');
  assert.equal(graphqlOperationName({ query: 'mutation { x }' }), 'mutation');
  assert.equal(graphqlOperationName({ query: 'query A { a }', operationName: 'B' }), 'B');
});
