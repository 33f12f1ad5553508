import assert from 'node:assert/strict';
import { test } from 'node:test';
import { criticalPath, sectionsBySpan } from '../src/trace/critical-path';
import { findSpans } from '../src/trace/find';
import { formatInt } from '../src/trace/fmt';
import { buildDisplayTree, closedAncestors, flatten, initialOpen, setOpen, unionIntervals } from '../src/trace/rows';
import {
  ancestors,
  buildTree,
  findException,
  services,
  spanStatus,
  traceLinks,
  traceStatusOf,
  type SegmentDoc,
  type SpanTree,
} from '../src/trace/spans';
import {
  barBox,
  clampWindow,
  dragWindow,
  makeScale,
  minimapBars,
  niceStep,
  percent,
  selectWithin,
  tickLabel,
  ticks,
  zoomWindow,
} from '../src/trace/timescale';
import { dominantStatus, layoutGraph, ringArcs, shares } from '../src/trace/trace-graph';

const T = 1_700_000_000;
const seg = (over: Partial<SegmentDoc> & { id: string; name: string }): SegmentDoc => ({
  trace_id: '1-65f00000-000000000000000000000001',
  start_time: T,
  end_time: T + 1,
  ...over,
});
const names = (tree: SpanTree, list: number[]) => list.map((i) => tree.spans[i]!.name);
const byName = (tree: SpanTree, name: string) => tree.spans.find((s) => s.name === name)!;

// web → (subsegment call) → api segment → (subsegment db); fn under the api
// segment itself; an orphan whose parent is missing; an in-progress span.
function scenario(): SpanTree {
  const docs: SegmentDoc[] = [
    seg({
      id: 'w',
      name: 'web',
      start_time: T,
      end_time: T + 1,
      subsegments: [{ id: 'c1', name: 'call', start_time: T + 0.1, end_time: T + 0.9 } as SegmentDoc],
    }),
    seg({
      id: 'a',
      name: 'api',
      parent_id: 'c1',
      start_time: T + 0.2,
      end_time: T + 0.8,
      http: { response: { status: 502 } },
      subsegments: [
        // An independently sent subsegment, already spliced in by the server.
        { id: 'd', name: 'db', namespace: 'remote', start_time: T + 0.3, end_time: T + 0.4, type: 'subsegment' } as SegmentDoc,
        { id: 'slow', name: 'slow', start_time: T + 0.45, in_progress: true } as SegmentDoc,
      ],
    }),
    seg({ id: 'f', name: 'fn', parent_id: 'a', start_time: T + 0.5, end_time: T + 0.6, links: [{ trace_id: '1-65f00000-0000000000000000000000ff', id: 'x1' }] }),
    seg({ id: 'o', name: 'orphan', parent_id: 'gone', start_time: T + 0.05, end_time: T + 0.07 }),
  ];
  return buildTree(docs.map((d) => JSON.stringify(d)));
}

test('segments nest under the subsegment or segment their parent_id names', () => {
  const tree = scenario();
  assert.equal(tree.segmentCount, 4);
  assert.equal(tree.spans.length, 7);
  const api = byName(tree, 'api');
  assert.equal(tree.spans[api.parent]!.name, 'call');
  assert.equal(api.depth, 2);
  const fn = byName(tree, 'fn');
  assert.equal(tree.spans[fn.parent]!.name, 'api');
  assert.deepEqual(names(tree, api.children), ['db', 'slow', 'fn']); // by start time
  assert.deepEqual(names(tree, ancestors(tree, byName(tree, 'db').index)), ['api', 'call', 'web']);
  assert.deepEqual(names(tree, tree.order), ['web', 'call', 'api', 'db', 'slow', 'fn', 'orphan']);
  assert.equal(byName(tree, 'db').kind, 'subsegment');
  assert.equal(byName(tree, 'db').segment, api.index);
  assert.equal(tree.spans[tree.root]!.name, 'web');
  assert.deepEqual(services(tree), ['web', 'api', 'fn', 'orphan']);
});

test('orphans whose parent is missing are top-level and flagged', () => {
  const tree = scenario();
  const orphan = byName(tree, 'orphan');
  assert.equal(orphan.parent, -1);
  assert.equal(orphan.orphan, true);
  assert.equal(tree.orphans, 1);
  assert.deepEqual(names(tree, tree.roots), ['web', 'orphan']);
  assert.equal(byName(tree, 'web').orphan, false);
});

test('a parent_id cycle is cut and its segment shown as an orphan', () => {
  const tree = buildTree([
    seg({ id: 'a', name: 'a', parent_id: 'bs', subsegments: [{ id: 'as', name: 'as', start_time: T, end_time: T + 1 } as SegmentDoc] }),
    seg({ id: 'b', name: 'b', parent_id: 'as', subsegments: [{ id: 'bs', name: 'bs', start_time: T, end_time: T + 1 } as SegmentDoc] }),
  ]);
  assert.equal(tree.order.length, 4);
  assert.equal(tree.roots.length, 1);
  assert.equal(tree.spans[tree.roots[0]!]!.orphan, true);
});

test('in-progress spans run to the trace end and make the trace partial', () => {
  const tree = scenario();
  const slow = byName(tree, 'slow');
  assert.equal(slow.inProgress, true);
  assert.equal(slow.end, T + 1);
  assert.equal(tree.partial, true);
  assert.equal(tree.start, T);
  assert.equal(tree.end, T + 1);
  const done = buildTree([seg({ id: 'x', name: 'x' })]);
  assert.equal(done.partial, false);
});

test('status: fault / throttle / error from flags or HTTP status, worst first', () => {
  assert.equal(spanStatus({}), 'ok');
  assert.equal(spanStatus({ http: { response: { status: 503 } } }), 'fault');
  assert.equal(spanStatus({ http: { response: { status: 429 } } }), 'throttle');
  assert.equal(spanStatus({ http: { response: { status: 404 } } }), 'error');
  assert.equal(spanStatus({ error: true, throttle: true }), 'throttle');
  assert.equal(spanStatus({ error: true, fault: true }), 'fault');
  assert.equal(traceStatusOf(scenario()), 'fault');
});

test('links and exceptions referred to by id are found', () => {
  const tree = scenario();
  assert.deepEqual(
    traceLinks(tree).map((l) => [l.traceId, l.spanId, tree.spans[l.from]!.name]),
    [['1-65f00000-0000000000000000000000ff', 'x1', 'fn']],
  );
  const t2 = buildTree([
    seg({ id: 'p', name: 'p', cause: { exceptions: [{ id: 'e1', type: 'TypeError', message: 'boom' }] } }),
    seg({ id: 'q', name: 'q', parent_id: 'p', cause: 'e1' }),
  ]);
  const found = findException(t2, 'e1');
  assert.equal(t2.spans[found!.span]!.name, 'p');
  assert.equal(found!.exception.type, 'TypeError');
  assert.equal(findException(t2, 'nope'), undefined);
});

test('zero-duration spans keep their place and a zero-length trace still scales', () => {
  const tree = buildTree([seg({ id: 'z', name: 'z', start_time: T, end_time: T, subsegments: [{ id: 'z1', name: 'z1', start_time: T, end_time: T } as SegmentDoc] })]);
  assert.equal(tree.spans.length, 2);
  assert.equal(tree.end - tree.start, 0);
  const scale = makeScale(tree.start, tree.end);
  assert.ok(scale.duration > 0);
  assert.deepEqual(barBox(scale, T, T), { left: 0, width: 0 });
  assert.deepEqual(criticalPath(tree), []);
  const rows = flatten(buildDisplayTree(tree, true), initialOpen);
  assert.equal(rows.length, 2);
});

test('critical path follows the last-finishing child back in time (Jaeger)', () => {
  // R [0,10]: A [1,4], B [2,8] (B1 [3,5], B2 [5.5,7]), C [8.5,9]
  const sub = (id: string, a: number, b: number, subsegments?: SegmentDoc[]) =>
    ({ id, name: id, start_time: T + a, end_time: T + b, ...(subsegments ? { subsegments } : {}) }) as SegmentDoc;
  const tree = buildTree([
    seg({
      id: 'R',
      name: 'R',
      start_time: T,
      end_time: T + 10,
      subsegments: [sub('A', 1, 4), sub('B', 2, 8, [sub('B1', 3, 5), sub('B2', 5.5, 7)]), sub('C', 8.5, 9)],
    }),
  ]);
  const path = criticalPath(tree).map((s) => [tree.spans[s.span]!.name, +(s.start - T).toFixed(3), +(s.end - T).toFixed(3)]);
  assert.deepEqual(path, [
    ['R', 9, 10],
    ['C', 8.5, 9],
    ['R', 8, 8.5],
    ['B', 7, 8],
    ['B2', 5.5, 7],
    ['B', 5, 5.5],
    ['B1', 3, 5],
    ['B', 2, 3],
    ['R', 0, 2],
  ]);
  const bySpan = sectionsBySpan(criticalPath(tree));
  assert.equal(bySpan.has(byName(tree, 'A').index), false);
  assert.deepEqual(
    bySpan.get(byName(tree, 'B').index)!.map((s) => [s.start - T, s.end - T]),
    [
      [2, 3],
      [5, 5.5],
      [7, 8],
    ],
  );
});

test('critical path clips a child that outlives its parent, and crosses segments', () => {
  const tree = buildTree([
    seg({ id: 'P', name: 'P', start_time: T, end_time: T + 5, subsegments: [{ id: 'X', name: 'X', start_time: T + 3, end_time: T + 7 } as SegmentDoc] }),
    seg({ id: 'S', name: 'S', parent_id: 'X', start_time: T + 3.5, end_time: T + 4 }),
  ]);
  const path = criticalPath(tree).map((s) => [tree.spans[s.span]!.name, s.start - T, s.end - T]);
  assert.deepEqual(path, [
    ['X', 4, 5],
    ['S', 3.5, 4],
    ['X', 3, 3.5],
    ['P', 0, 3],
  ]);
});

test('repeated siblings fold into a group with count, total and wall time', () => {
  const call = (i: number, a: number, b: number) => ({ id: `d${i}`, name: 'DynamoDB', namespace: 'aws', start_time: T + a, end_time: T + b }) as SegmentDoc;
  const tree = buildTree([
    seg({
      id: 'fn',
      name: 'fn',
      start_time: T,
      end_time: T + 2,
      subsegments: [
        call(1, 0.1, 0.3),
        call(2, 0.2, 0.4), // overlaps the first: wall < total
        call(3, 0.5, 0.6),
        { ...call(4, 0.6, 0.7), error: true },
        { id: 'r', name: 'reports-db', start_time: T + 0.8, end_time: T + 0.9 } as SegmentDoc,
        call(5, 1.0, 1.1),
        call(6, 1.2, 1.3),
      ],
    }),
  ]);
  const display = buildDisplayTree(tree, true);
  const fn = display.roots[0]!;
  assert.equal(fn.children.length, 4); // group, reports-db, DynamoDB, DynamoDB (a run of 2 stays)
  const g = fn.children[0]!.group!;
  assert.equal(g.count, 4);
  assert.equal(g.name, 'DynamoDB');
  assert.equal(+g.total.toFixed(6), 0.6);
  assert.equal(+g.wall.toFixed(6), 0.5);
  assert.equal(g.status, 'error');
  assert.equal(g.statusCounts.error, 1);
  assert.deepEqual(g.intervals.map(([a, b]) => [+(a - T).toFixed(3), +(b - T).toFixed(3)]), [
    [0.1, 0.4],
    [0.5, 0.7],
  ]);

  // Groups start closed: fn, the group, reports-db, two lone calls.
  let state = initialOpen;
  let rows = flatten(display, state);
  assert.deepEqual(rows.map((r) => (r.node.group ? `${r.node.group.name}×${r.node.group.count}` : tree.spans[r.node.span]!.name)), [
    'fn',
    'DynamoDB×4',
    'reports-db',
    'DynamoDB',
    'DynamoDB',
  ]);
  assert.equal(rows[1]!.hasChildren, true);
  assert.equal(rows[1]!.open, false);
  // Opening the group shows its members one level deeper.
  state = setOpen(state, [fn.children[0]!], true);
  rows = flatten(display, state);
  assert.equal(rows.length, 9);
  assert.equal(rows[2]!.depth, 2);
  // Expand all / collapse all.
  assert.equal(flatten(display, { spans: true, groups: true, toggled: new Map() }).length, 9);
  assert.equal(flatten(display, { spans: false, groups: false, toggled: new Map() }).length, 1);
  // A member hidden in a closed group is revealed by opening its ancestors.
  const member = display.nodes[display.nodeOfSpan[byName(tree, 'DynamoDB').index]!]!;
  assert.deepEqual(closedAncestors(initialOpen, member).map((n) => n.key), [fn.children[0]!.key]);
  // Without grouping every call is its own row.
  assert.equal(flatten(buildDisplayTree(tree, false), initialOpen).length, 8);
});

test('unionIntervals merges overlaps and caps the number of pieces', () => {
  assert.deepEqual(unionIntervals([[3, 4], [0, 1], [0.5, 2]]), [[0, 2], [3, 4]]);
  const many: [number, number][] = Array.from({ length: 1000 }, (_, i) => [i, i + 0.5]);
  assert.ok(unionIntervals(many, 200).length <= 200);
});

test('time scale: percent, bar boxes clipped to the window, ticks and labels', () => {
  const scale = makeScale(T, T + 2, { from: 0.25, to: 0.75 });
  assert.equal(percent(scale, T + 0.5), 0);
  assert.equal(percent(scale, T + 1.5), 100);
  assert.equal(barBox(scale, T, T + 0.2), null);
  assert.deepEqual(barBox(scale, T + 1, T + 1.25), { left: 50, width: 25 });
  assert.deepEqual(barBox(scale, T, T + 2), { left: -1, width: 102 });
  assert.equal(niceStep(1, 5), 0.2);
  assert.equal(niceStep(6.5, 6), 2);
  const t = ticks(makeScale(T, T + 1), 5);
  assert.deepEqual(t.map((x) => +x.offset.toFixed(3)), [0, 0.2, 0.4, 0.6, 0.8, 1]);
  assert.equal(tickLabel(0.2, 0.2), '200 ms');
  assert.equal(tickLabel(2, 2), '2 s');
  assert.equal(tickLabel(0.00025, 0.00005), '250 µs');
  // One unit per axis: 2.5 s, not 2500 ms, when the axis reaches seconds.
  assert.equal(tickLabel(2.5, 0.5, 3.5), '2.5 s');
  assert.equal(tickLabel(0.5, 0.5, 3.5), '0.5 s');
  assert.equal(tickLabel(0.0125, 0.0025, 0.02), '12.5 ms');
});

test('minimap window: drag, resize, select and zoom stay inside the trace', () => {
  const w = { from: 0.2, to: 0.4 };
  assert.deepEqual(dragWindow(w, 'move', 0.7), { from: 0.8, to: 1 });
  assert.deepEqual(dragWindow(w, 'move', -0.5), { from: 0, to: 0.2 });
  assert.deepEqual(dragWindow(w, 'from', 0.5).to, 0.4);
  assert.ok(dragWindow(w, 'from', 0.5).from < 0.4);
  assert.deepEqual(dragWindow(w, 'to', 1), { from: 0.2, to: 1 });
  const s = selectWithin({ from: 0, to: 0.5 }, 0.8, 0.2);
  assert.equal(+s.from.toFixed(6), 0.1);
  assert.equal(+s.to.toFixed(6), 0.4);
  assert.deepEqual(clampWindow({ from: -1, to: 3 }), { from: 0, to: 1 });
  const z = zoomWindow({ from: 0, to: 1 }, 0.5);
  assert.deepEqual([+z.from.toFixed(6), +z.to.toFixed(6)], [0.25, 0.75]);
  const bars = minimapBars(
    [
      { start: T, end: T + 1, status: 'ok' },
      { start: T + 0.5, end: T + 0.5, status: 'fault' },
    ],
    [0, 1],
    T,
    1,
    100,
    20,
  );
  assert.deepEqual(bars.map((b) => [b.x, b.y, b.w]), [
    [0, 0, 100],
    [50, 10, 1],
  ]);
});

test('trace map: shares, left-to-right layout, ring arcs', () => {
  const sh = shares({ OkCount: 2, ErrorStatistics: { ThrottleCount: 1, OtherCount: 0, TotalCount: 1 }, FaultStatistics: { TotalCount: 1 }, TotalCount: 4, TotalResponseTime: 2 });
  assert.deepEqual(sh.shares, { ok: 0.5, error: 0, throttle: 0.25, fault: 0.25 });
  assert.equal(sh.avg, 0.5);
  assert.equal(dominantStatus(sh.shares), 'fault');
  const g = layoutGraph([
    { ReferenceId: 1, Name: 'client', Type: 'client', Edges: [{ ReferenceId: 2 }] },
    { ReferenceId: 2, Name: 'api', Edges: [{ ReferenceId: 3 }, { ReferenceId: 99 }] },
    { ReferenceId: 3, Name: 'db', Type: 'AWS::DynamoDB::Table', Edges: [] },
  ]);
  const x = (id: number) => g.nodes.find((n) => n.id === id)!.x;
  assert.ok(x(1) < x(2) && x(2) < x(3));
  assert.equal(g.edges.length, 2); // the edge to an unknown node is dropped
  assert.ok(g.edges[0]!.points.length >= 2);
  assert.equal(ringArcs({ ok: 1, error: 0, throttle: 0, fault: 0 }, 10).length, 1);
  assert.equal(ringArcs({ ok: 0.5, error: 0.5, throttle: 0, fault: 0 }, 10).length, 2);
});

test('find: every word must appear in what a span says, in waterfall order', () => {
  const tree = buildTree([
    seg({
      id: 'w1',
      name: 'web',
      annotations: { email: 'alice@example.com' },
      subsegments: [
        { id: 'd1', name: 'DynamoDB', namespace: 'aws', aws: { operation: 'GetItem' }, start_time: T, end_time: T + 0.1 } as SegmentDoc,
        { id: 'd2', name: 'DynamoDB', namespace: 'aws', aws: { operation: 'PutItem' }, start_time: T + 0.2, end_time: T + 0.3, cause: { exceptions: [{ type: 'ThrottlingException' }] } } as SegmentDoc,
      ],
    }),
  ]);
  const found = (q: string) => names(tree, findSpans(tree, q)).join(',');
  assert.equal(found(''), '');
  assert.equal(found('dynamodb'), 'DynamoDB,DynamoDB');
  assert.equal(found('dynamodb putitem'), 'DynamoDB');
  assert.equal(found('throttlingexception'), 'DynamoDB');
  assert.equal(found('email=alice'), 'web');
  assert.equal(found('d1'), 'DynamoDB');
  assert.equal(found('nothing-like-this'), '');
});

test('formatInt groups thousands', () => {
  assert.deepEqual([0, 999, 1000, 5001, 1234567].map(formatInt), ['0', '999', '1,000', '5,001', '1,234,567']);
});
