import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Trace } from '../src/api/types';
import { ancestors, biggestSelfDifferences, diffTraces, durationDiffers, visibleRows } from '../src/compare/span-diff';
import { buildSpanTree, selfTime } from '../src/compare/span-tree';

// A compact way to write a trace: segments as nested objects.
type Doc = Record<string, unknown>;
let seq = 0;
const sub = (name: string, start: number, end: number, extra: Doc = {}, subsegments: Doc[] = []): Doc => ({
  id: extra.id ?? `s${seq++}`,
  name,
  start_time: start,
  end_time: end,
  ...extra,
  ...(subsegments.length ? { subsegments } : {}),
});
const trace = (id: string, docs: Doc[]): Trace => ({
  Id: id,
  Segments: docs.map((d, i) => ({ Id: String(d.id ?? i), Document: JSON.stringify(d) })),
});

// The scenario's shape: browser → API (→ Lambda → function → DynamoDB × n).
function scenario(id: string, { dynamo = 1, lambda = true, fault = false, scale = 1 } = {}): Trace {
  const t = (x: number) => 1000 + x * scale;
  const fetchId = `${id}-fetch`;
  const invokeId = `${id}-invoke`;
  const lambdaId = `${id}-lambda`;
  const docs: Doc[] = [
    sub('Web-Application', t(0), t(1), { id: `${id}-browser`, ...(fault ? { fault: true } : {}) }, [
      sub('api.notes.example.com', t(0.01), t(0.99), { id: fetchId, namespace: 'remote' }),
    ]),
    sub('notes-api', t(0.05), t(0.97), { id: `${id}-api`, parent_id: fetchId, origin: 'AWS::AppSync::GraphQLAPI' }, [
      sub('Mutation.createNote', t(0.07), t(0.95), {}, lambda ? [sub('Lambda', t(0.1), t(0.92), { id: invokeId, namespace: 'aws' })] : []),
    ]),
  ];
  if (lambda) {
    docs.push(sub('notes-fn', t(0.12), t(0.91), { id: lambdaId, parent_id: invokeId, origin: 'AWS::Lambda' }));
    const calls = Array.from({ length: dynamo }, (_, i) => sub('DynamoDB', t(0.2 + i * 0.01), t(0.205 + i * 0.01), { namespace: 'aws' }));
    docs.push(sub('notes-fn', t(0.15), t(0.9), { id: `${id}-fn`, parent_id: lambdaId, origin: 'AWS::Lambda::Function', ...(fault ? { fault: true } : {}) }, calls));
  }
  // Documents arrive in any order: the tree must not depend on it.
  return trace(id, docs.reverse());
}

test('the span tree links segments under the subsegments that called them', () => {
  const tree = buildSpanTree(scenario('t1', { dynamo: 2 }));
  assert.equal(tree.spans.length, 9);
  assert.equal(tree.roots.length, 1);
  const names: string[] = [];
  const walk = (i: number, depth: number) => {
    names.push(`${'  '.repeat(depth)}${tree.spans[i]!.name}`);
    for (const c of tree.spans[i]!.children) walk(c, depth + 1);
  };
  walk(tree.roots[0]!, 0);
  assert.deepEqual(names, [
    'Web-Application',
    '  api.notes.example.com',
    '    notes-api',
    '      Mutation.createNote',
    '        Lambda',
    '          notes-fn',
    '            notes-fn',
    '              DynamoDB',
    '              DynamoDB',
  ]);
  assert.equal(tree.start, 1000);
  assert.equal(tree.end, 1001);
});

test('in-progress spans, unreadable documents and parent cycles', () => {
  const t = trace('x', [
    { id: 'a', name: 'a', start_time: 1, in_progress: true, parent_id: 'b' },
    { id: 'b', name: 'b', start_time: 1, end_time: 2, parent_id: 'a' },
  ]);
  t.Segments.push({ Id: 'bad', Document: '{not json' });
  const tree = buildSpanTree(t);
  assert.equal(tree.unreadable, 1);
  assert.equal(tree.spans[0]!.inProgress, true);
  assert.equal(tree.spans[0]!.end, undefined);
  // a → b → a would be a cycle: one link is refused, so one root remains
  assert.equal(tree.roots.length, 1);
});

test('self time is the duration less the union of the children', () => {
  const tree = buildSpanTree(trace('x', [sub('p', 0, 10, {}, [sub('c1', 1, 4), sub('c2', 3, 6), sub('c3', 8, 12)])]));
  // children cover [1,6] and [8,10]: 7 s of 10
  assert.equal(selfTime(tree, 0), 3);
});

test('a trace against itself: every span matched, nothing changed', () => {
  const a = buildSpanTree(scenario('t1', { dynamo: 3 }));
  const d = diffTraces(a, a);
  assert.equal(d.nodes.length, a.spans.length);
  assert.equal(d.totals.matched, a.spans.length);
  assert.equal(d.totals.onlyA + d.totals.onlyB + d.totals.statusChanged + d.totals.durationChanged, 0);
  assert.ok(d.nodes.every((n) => n.delta === 0 && !n.changed));
  assert.deepEqual(visibleRows(d, new Set(), true, 'tree'), []);
});

test('spans missing from one trace are marked only-in-A / only-in-B with their subtrees', () => {
  const ok = buildSpanTree(scenario('ok', { dynamo: 1 }));
  const err = buildSpanTree(scenario('err', { lambda: false }));
  const d = diffTraces(ok, err);
  const only = d.nodes.filter((n) => n.side === 'onlyA').map((n) => `${n.name}/${n.detail ?? ''}`);
  assert.deepEqual(only, ['Lambda/aws', 'notes-fn/AWS::Lambda', 'notes-fn/AWS::Lambda::Function', 'DynamoDB/aws']);
  assert.equal(d.totals.onlyB, 0);
  assert.equal(d.totals.matched, 4);
  // the reverse diff says the same from the other side
  const r = diffTraces(err, ok);
  assert.equal(r.totals.onlyB, 4);
  assert.equal(r.totals.onlyA, 0);
});

test('repeated siblings pair by occurrence; extra ones are one-sided', () => {
  const a = buildSpanTree(scenario('a', { dynamo: 12 }));
  const b = buildSpanTree(scenario('b', { dynamo: 20 }));
  const d = diffTraces(a, b);
  const dynamo = d.nodes.filter((n) => n.name === 'DynamoDB');
  assert.equal(dynamo.filter((n) => n.side === 'both').length, 12);
  assert.equal(dynamo.filter((n) => n.side === 'onlyB').length, 8);
  // the one-sided ones come after the matched ones (by start offset)
  assert.deepEqual(
    dynamo.map((n) => n.side),
    [...Array(12).fill('both'), ...Array(8).fill('onlyB')],
  );
});

test('durations and statuses: Δ = A − B, changes flagged, totals', () => {
  const slow = buildSpanTree(scenario('slow', { scale: 2, fault: true }));
  const fast = buildSpanTree(scenario('fast'));
  const d = diffTraces(slow, fast);
  const root = d.nodes[d.roots[0]!]!;
  assert.equal(root.name, 'Web-Application');
  assert.equal(root.aDuration, 2);
  assert.equal(root.bDuration, 1);
  assert.equal(root.delta, 1);
  assert.equal(root.deltaPct, 1);
  assert.equal(root.aStatus, 'fault');
  assert.equal(root.bStatus, 'ok');
  assert.ok(root.statusChanged && root.durationChanged && root.changed);
  assert.equal(d.totals.statusChanged, 2); // the browser and the function
  assert.equal(d.totals.aDuration, 2);
  assert.equal(d.totals.bDuration, 1);
  assert.equal(root.impact, 1);
});

test('small duration changes are not changes', () => {
  assert.equal(durationDiffers(1, 1.05), false); // 5%
  assert.equal(durationDiffers(1, 1.2), true);
  assert.equal(durationDiffers(0.0005, 0.0009), false); // under 1 ms
  assert.equal(durationDiffers(undefined, 1), false);
});

test('a wrapper inserted in one trace does not unmatch what it wraps', () => {
  const a = buildSpanTree(trace('a', [sub('root', 0, 10, {}, [sub('db', 1, 2), sub('cache', 3, 4)])]));
  const b = buildSpanTree(trace('b', [sub('root', 0, 10, {}, [sub('retry', 0.5, 3, {}, [sub('db', 1, 2)]), sub('cache', 3, 4)])]));
  const d = diffTraces(a, b);
  const rows = d.nodes.map((n) => `${'  '.repeat(n.depth)}${n.name} ${n.side}`);
  assert.deepEqual(rows, ['root both', '  retry onlyB', '    db both', '  cache both']);
});

test('a renamed span pairs with its counterpart when their children share names', () => {
  const a = buildSpanTree(trace('a', [sub('root', 0, 10, {}, [sub('Query.listNotes', 1, 9, {}, [sub('Lambda', 2, 8)]), sub('cache', 9, 9.5)])]));
  const b = buildSpanTree(trace('b', [sub('root', 0, 10, {}, [sub('Query.getNote', 1, 5, {}, [sub('Lambda', 2, 4)]), sub('metrics', 9, 9.5)])]));
  const d = diffTraces(a, b);
  const rows = d.nodes.map((n) => `${'  '.repeat(n.depth)}${n.name}${n.bName ? ` (B: ${n.bName})` : ''} ${n.side}`);
  // cache and metrics have no children in common: not a rename
  assert.deepEqual(rows, ['root both', '  Query.listNotes (B: Query.getNote) both', '    Lambda both', '  cache onlyA', '  metrics onlyB']);
  const renamed = d.nodes[1]!;
  assert.equal(renamed.changed, true);
  assert.equal(renamed.delta, 4);
});

test('visible rows: collapse, hide unchanged, order by impact', () => {
  const a = buildSpanTree(trace('a', [sub('root', 0, 10, {}, [sub('x', 0, 1, {}, [sub('x1', 0, 0.5)]), sub('y', 1, 5), sub('z', 5, 6)])]));
  const b = buildSpanTree(trace('b', [sub('root', 0, 8, {}, [sub('x', 0, 1, {}, [sub('x1', 0, 0.5)]), sub('y', 1, 3), sub('z', 5, 6.5)])]));
  const d = diffTraces(a, b);
  const names = (rows: number[]) => rows.map((i) => d.nodes[i]!.name);
  assert.deepEqual(names(visibleRows(d, new Set(), false, 'tree')), ['root', 'x', 'x1', 'y', 'z']);
  const x = d.nodes.findIndex((n) => n.name === 'x');
  assert.deepEqual(names(visibleRows(d, new Set([x]), false, 'tree')), ['root', 'x', 'y', 'z']);
  assert.deepEqual(names(visibleRows(d, new Set(), true, 'tree')), ['root', 'y', 'z']);
  assert.deepEqual(names(visibleRows(d, new Set(), false, 'impact')), ['root', 'y', 'z', 'x', 'x1']);
  const x1 = d.nodes.findIndex((n) => n.name === 'x1');
  assert.deepEqual(ancestors(d, x1), [x, 0]);
  // where the time went: y's own time grew by 2 s; root's by 0.5 s (10 − 6
  // covered against 8 − 4.5) and z's shrank by 0.5 s (ties in tree order)
  assert.deepEqual(names(biggestSelfDifferences(d, 3)), ['y', 'root', 'z']);
});

test('5,001 spans against themselves and against a variant stay fast', () => {
  const docs: Doc[] = [];
  const calls: Doc[] = [];
  for (let s = 0; s < 50; s++) calls.push(sub(`svc-${s}.internal`, s * 0.05, s * 0.05 + 2, { id: `call-${s}`, namespace: 'remote' }));
  docs.push(sub('gateway', 0, 6.5, { id: 'root' }, calls));
  for (let s = 0; s < 50; s++) {
    const subs: Doc[] = [];
    for (let k = 0; k < 98; k++) subs.push(sub(k % 10 === 0 ? 'query' : 'compute', s * 0.05 + k * 0.018, s * 0.05 + k * 0.018 + 0.016));
    docs.push(sub(`svc-${s}`, s * 0.05 + 0.01, s * 0.05 + 1.96, { parent_id: `call-${s}` }, subs));
  }
  const big = trace('big', docs);
  const variant = trace('v', docs.filter((_, i) => i !== 7).map((d, i) => (i === 3 ? { ...d, end_time: (d.end_time as number) + 1 } : d)));
  const t0 = performance.now();
  const a = buildSpanTree(big);
  const self = diffTraces(a, a);
  const other = diffTraces(a, buildSpanTree(variant));
  const rows = visibleRows(other, new Set(), false, 'impact');
  const ms = performance.now() - t0;
  assert.equal(a.spans.length, 5001);
  assert.equal(self.totals.matched, 5001);
  assert.equal(other.totals.onlyA, 99); // svc-6 and its 98 subsegments
  assert.equal(other.totals.durationChanged, 1);
  assert.equal(rows.length, 5001);
  assert.ok(ms < 500, `took ${ms} ms`);
});
