// The recorder with a fake network: batching, signing, retries, the queue's
// bound, the flush on page hide, traced fetch and GraphQL calls.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { XRay, signRequest } from '../dist/xray.js';

const creds = { accessKeyId: 'AKRGTEST', secretAccessKey: 'secret-secret-secret', sessionToken: 'RGST1.x' };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const until = async (cond, what, ms = 3000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await sleep(5);
  }
};

// A fetch that records requests and answers with `respond(request)` (default 200 with no unprocessed).
function fakeNetwork(respond = () => new Response('{"UnprocessedTraceSegments":[]}', { status: 200 })) {
  const requests = [];
  const fetch = async (input, init = {}) => {
    const r = { url: String(input), method: init.method ?? 'GET', headers: new Headers(init.headers), body: init.body, keepalive: init.keepalive };
    requests.push(r);
    return respond(r);
  };
  const puts = () => requests.filter((r) => r.url.endsWith('/TraceSegments'));
  const docs = () => puts().flatMap((r) => JSON.parse(r.body).TraceSegmentDocuments.map((d) => JSON.parse(d)));
  return { fetch, requests, puts, docs };
}

function recorder(net, o = {}) {
  const errors = [];
  const xray = new XRay({ name: 'Web-Application', endpoint: 'http://xray.test', region: 'eu-west-1', sampling: false,
    credentials: () => creds, fetch: net.fetch, onError: (e) => errors.push(e), ...o });
  return { xray, errors };
}

test('a full batch goes at once, signed; a lone segment within flushIntervalMs', async () => {
  const net = fakeNetwork();
  const { xray, errors } = recorder(net, { batchSize: 3, flushIntervalMs: 100 });
  for (let i = 0; i < 3; i++) xray.endSegment(xray.beginSegment('app', { annotations: { i } }));
  await until(() => net.puts().length === 1, 'the batch');
  const put = net.puts()[0];
  assert.equal(put.url, 'http://xray.test/TraceSegments');
  assert.deepEqual(JSON.parse(put.body).TraceSegmentDocuments.map((d) => JSON.parse(d).annotations.i), [0, 1, 2]);
  // The signature is the one for this body, key and date.
  const date = put.headers.get('x-amz-date');
  const when = new Date(`${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6, 11)}:${date.slice(11, 13)}:${date.slice(13, 15)}Z`);
  const expected = signRequest({ method: 'POST', url: new URL(put.url), headers: { 'content-type': 'application/json' }, body: put.body }, creds, 'eu-west-1', 'xray', when);
  assert.equal(put.headers.get('authorization'), expected.authorization);
  assert.equal(put.headers.get('x-amz-security-token'), 'RGST1.x');

  const t0 = Date.now();
  xray.endSegment(xray.beginSegment());
  await until(() => net.puts().length === 2, 'the timed flush');
  assert.ok(Date.now() - t0 >= 90, 'waited for the interval');
  assert.deepEqual(errors, []);
  await xray.shutdown();
});

test('unprocessed documents and refusals go to onError, never thrown; 5xx is retried with backoff', async () => {
  let answer = 0;
  const net = fakeNetwork(() => {
    answer++;
    if (answer === 1) return new Response('{"UnprocessedTraceSegments":[{"Id":"abc","ErrorCode":"InvalidField","Message":"name"}]}', { status: 200 });
    if (answer === 2) return new Response('{"__type":"ServiceUnavailableException","message":"draining"}', { status: 503 });
    if (answer === 3) return new Response('{"UnprocessedTraceSegments":[]}', { status: 200 });
    return new Response('{"__type":"InvalidRequestException","message":"bad"}', { status: 400, headers: { 'x-amzn-ErrorType': 'InvalidRequestException:http://x' } });
  });
  const { xray, errors } = recorder(net, { flushIntervalMs: 10 });
  xray.endSegment(xray.beginSegment());
  await xray.flush();
  assert.equal(errors[0].kind, 'unprocessed');
  assert.deepEqual(errors[0].details.unprocessed, [{ Id: 'abc', ErrorCode: 'InvalidField', Message: 'name' }]);

  xray.endSegment(xray.beginSegment());
  await until(() => answer === 3, 'the retry');
  await until(() => xray.stats.queued === 0, 'the retried batch sent');
  assert.equal(errors[1].details.status, 503);
  assert.equal(errors[1].details.errorType, 'ServiceUnavailableException');
  assert.equal(net.puts()[1].body, net.puts()[2].body, 'the same batch again');

  xray.endSegment(xray.beginSegment());
  await until(() => errors.length === 3, 'the refusal');
  assert.equal(errors[2].details.errorType, 'InvalidRequestException');
  assert.equal(xray.stats.dropped, 1, 'a 400 is not retried');
  assert.equal(xray.stats.rejected, 1);
  await xray.shutdown();
});

test('the queue is bounded while the endpoint is down: the oldest go, counted', async () => {
  const net = fakeNetwork(() => Promise.reject(new TypeError('Failed to fetch')));
  const { xray, errors } = recorder(net, { maxQueue: 5, batchSize: 100, flushIntervalMs: 60_000 });
  for (let i = 0; i < 8; i++) xray.endSegment(xray.beginSegment('app', { annotations: { i } }));
  assert.equal(xray.stats.dropped, 3);
  assert.equal(xray.stats.queued, 5);
  assert.deepEqual(errors.map((e) => e.kind), ['dropped', 'dropped', 'dropped']);
  await xray.flush();
  assert.equal(errors.at(-1).kind, 'network');
  assert.equal(xray.stats.queued, 5, 'kept for a retry');
  xray.sampling?.stop();
  await xray.shutdown().catch(() => {});
});

test('on page hide one keepalive request of at most 64 KB goes out, signed synchronously', async () => {
  const doc = new EventTarget();
  doc.visibilityState = 'visible';
  const win = new EventTarget();
  globalThis.document = doc;
  globalThis.addEventListener = win.addEventListener.bind(win);
  globalThis.removeEventListener = win.removeEventListener.bind(win);
  try {
    const net = fakeNetwork();
    const { xray } = recorder(net, { flushIntervalMs: 60_000 });
    await sleep(10); // the keys arrive
    for (let i = 0; i < 40; i++) {
      const seg = xray.beginSegment();
      seg.addMetadata('blob', 'x'.repeat(3000));
      xray.endSegment(seg);
    }
    doc.visibilityState = 'hidden';
    doc.dispatchEvent(new Event('visibilitychange'));
    assert.equal(net.puts().length, 1, 'sent inside the event handler');
    const [put] = net.puts();
    assert.equal(put.keepalive, true);
    assert.ok(new TextEncoder().encode(put.body).length <= 65535, `${put.body.length}`);
    const sent = JSON.parse(put.body).TraceSegmentDocuments.length;
    assert.ok(sent > 10 && sent < 40, `${sent}`);
    assert.equal(xray.stats.queued, 40 - sent);
    win.dispatchEvent(new Event('pagehide'));
    assert.equal(net.puts().length, 2);
    await xray.shutdown();
    assert.equal(net.docs().length, 40);

    // A segment still open goes as in progress, then complete when it ends.
    const { xray: x2 } = recorder(net, { flushIntervalMs: 60_000 });
    await sleep(10);
    const open = x2.beginSegment('slow-action');
    open.beginSubsegment('call');
    win.dispatchEvent(new Event('pagehide'));
    const partial = JSON.parse(JSON.parse(net.puts().at(-1).body).TraceSegmentDocuments[0]);
    assert.deepEqual([partial.id, partial.in_progress, partial.end_time, partial.subsegments[0].in_progress], [open.id, true, undefined, true]);
    x2.endSegment(open);
    await x2.shutdown();
    const complete = net.docs().at(-1);
    assert.deepEqual([complete.id, complete.in_progress, typeof complete.end_time], [open.id, undefined, 'number']);
  } finally {
    delete globalThis.document;
    delete globalThis.addEventListener;
    delete globalThis.removeEventListener;
  }
});

test('traced fetch: a subsegment per call, the header where propagateTo allows, statuses recorded', async () => {
  const net = fakeNetwork((r) => {
    if (r.url.startsWith('http://xray.test')) return new Response('{}');
    if (r.url.includes('/missing')) return new Response('no', { status: 404 });
    if (r.url.includes('/broken')) return Promise.reject(new TypeError('Failed to fetch'));
    return new Response('{"data":{"notes":[]}}', { status: 200, headers: { 'content-length': '21' } });
  });
  const { xray } = recorder(net, { propagateTo: ['http://api.test', /^http:\/\/graph\.test\/graphql/] });
  const seg = xray.beginSegment('Web-Application', { user: 'alice@example.com', annotations: { email: 'alice@example.com' } });
  await xray.fetch('http://api.test/notes?secret=1', { method: 'post', headers: { 'x-app': '1' } });
  await xray.fetch('http://elsewhere.test/missing');
  await assert.rejects(xray.fetch('http://api.test/broken'), /Failed to fetch/);
  const answer = await xray.graphql('http://graph.test/graphql', { query: 'query Notes { notes { id } }' });
  assert.deepEqual(answer, { data: { notes: [] } });
  xray.endSegment(seg);
  await xray.flush();

  const app = net.requests.filter((r) => !r.url.startsWith('http://xray.test'));
  const [doc] = net.docs();
  const [notes, missing, broken, graph] = doc.subsegments;
  assert.equal(app[0].headers.get('x-amzn-trace-id'), `Root=${seg.trace_id};Parent=${notes.id};Sampled=1`);
  assert.equal(app[0].headers.get('x-app'), '1', 'the caller\'s headers are kept');
  assert.equal(app[1].headers.get('x-amzn-trace-id'), null, 'no header to an origin not listed');
  assert.equal(app[3].headers.get('x-amzn-trace-id'), `Root=${seg.trace_id};Parent=${graph.id};Sampled=1`);
  assert.equal(app[3].headers.get('content-type'), 'application/json');
  assert.deepEqual(JSON.parse(app[3].body), { query: 'query Notes { notes { id } }' });

  assert.deepEqual({ name: notes.name, namespace: notes.namespace, http: notes.http },
    { name: 'api.test', namespace: 'remote', http: { request: { method: 'POST', url: 'http://api.test/notes', traced: true }, response: { status: 200, content_length: 21 } } });
  assert.deepEqual([missing.error, missing.http.request.traced, missing.http.response.status], [true, undefined, 404]);
  assert.equal(broken.fault, true);
  assert.equal(broken.cause.exceptions[0].type, 'TypeError');
  assert.equal(broken.cause.exceptions[0].remote, true);
  assert.equal(graph.name, 'Notes');
  assert.ok(notes.start_time >= doc.start_time && notes.end_time <= doc.end_time);
  await xray.shutdown();
});

test('GraphQL errors in a 200 answer mark the call as an error with their messages', async () => {
  const net = fakeNetwork((r) => r.url.startsWith('http://xray.test') ? new Response('{}')
    : new Response('{"data":null,"errors":[{"message":"note text must not be empty"}]}'));
  const { xray } = recorder(net);
  const seg = xray.beginSegment();
  const answer = await xray.graphql('http://graph.test/graphql', { query: 'mutation AddNote { addNote(text: "") { id } }' });
  assert.equal(answer.errors[0].message, 'note text must not be empty');
  xray.endSegment(seg);
  await xray.flush();
  const sub = net.docs()[0].subsegments[0];
  assert.equal(sub.name, 'AddNote');
  assert.equal(sub.error, true);
  assert.deepEqual(sub.cause.exceptions.map((e) => [e.type, e.message, e.remote]), [['GraphQLError', 'note text must not be empty', true]]);
});

test('a call still open when its segment ends is sent on its own when it ends', async () => {
  let release;
  const net = fakeNetwork((r) => r.url.startsWith('http://xray.test') ? new Response('{}')
    : new Promise((resolve) => { release = () => resolve(new Response('ok')); }));
  const { xray } = recorder(net);
  const seg = xray.beginSegment();
  const pending = xray.fetch('http://slow.test/x');
  xray.endSegment(seg);
  await xray.flush();
  assert.equal(net.docs()[0].subsegments, undefined);
  release();
  await pending;
  await xray.flush();
  const sub = net.docs()[1];
  assert.deepEqual([sub.type, sub.trace_id, sub.parent_id, sub.name], ['subsegment', seg.trace_id, seg.id, 'slow.test']);
  assert.equal(net.docs().length, 2, 'sent once');
});

test('a segment over 64 KB goes out as its subsegments and a smaller segment', async () => {
  const net = fakeNetwork();
  const { xray, errors } = recorder(net);
  const seg = xray.beginSegment();
  for (let i = 0; i < 4; i++) seg.beginSubsegment(`part${i}`).addMetadata('blob', 'y'.repeat(20_000)).close();
  xray.endSegment(seg);
  await xray.flush();
  const docs = net.docs();
  assert.deepEqual(docs.map((d) => d.type ?? 'segment'), ['subsegment', 'subsegment', 'subsegment', 'subsegment', 'segment']);
  assert.ok(docs.slice(0, 4).every((d) => d.parent_id === seg.id && d.trace_id === seg.trace_id));
  assert.equal(docs[4].subsegments, undefined);
  assert.deepEqual(errors, []);
});

test('an unsampled trace sends nothing and says Sampled=0', async () => {
  const net = fakeNetwork();
  const { xray } = recorder(net, { propagateTo: ['http://api.test'] });
  const seg = xray.beginSegment('app', { sampled: false });
  await xray.fetch('http://api.test/x');
  xray.endSegment(seg);
  await xray.flush();
  assert.match(net.requests[0].headers.get('x-amzn-trace-id'), /^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=0$/);
  assert.equal(net.puts().length, 0);
});

test('instrumentFetch traces the page\'s own fetch calls; undone by the function it returns', async () => {
  const net = fakeNetwork((r) => r.url.startsWith('http://xray.test') ? new Response('{}') : new Response('ok'));
  const { xray } = recorder(net, { propagateTo: ['http://api.test'] });
  const original = globalThis.fetch;
  const undo = xray.instrumentFetch();
  try {
    const seg = xray.beginSegment();
    await fetch('http://api.test/a');
    undo();
    assert.equal(globalThis.fetch, original);
    xray.endSegment(seg);
    await xray.flush();
    const [sub] = net.docs()[0].subsegments;
    assert.equal(net.requests[0].headers.get('x-amzn-trace-id'), `Root=${seg.trace_id};Parent=${sub.id};Sampled=1`);
  } finally {
    globalThis.fetch = original;
  }
});

test('a bad annotation given to beginSegment reaches onError; the segment goes without it', async () => {
  const net = fakeNetwork();
  const { xray, errors } = recorder(net);
  xray.endSegment(xray.beginSegment('app', { annotations: { 'e-mail': 'a@example.com', email: 'a@example.com' } }));
  await xray.flush();
  assert.deepEqual(errors.map((e) => e.kind), ['usage']);
  assert.match(errors[0].message, /e-mail/);
  assert.deepEqual(net.docs()[0].annotations, { email: 'a@example.com' });
});
