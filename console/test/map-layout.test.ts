import assert from 'node:assert/strict';
import { test } from 'node:test';
import { combPath, detailLevel, edgePath, edgeWidth, fitView, nearestInDirection, reveal, ringArcs, zoomAt } from '../src/map/geometry';
import { findFans, layoutMap, nodeWidth, onRing, RING_RADIUS } from '../src/map/layout';

const near = (a: number, b: number, eps = 0.01) => assert.ok(Math.abs(a - b) <= eps, `${a} ≈ ${b}`);

test('ring arcs run clockwise from 12 o\'clock in status order, a lone status as a full circle', () => {
  assert.deepEqual(ringArcs(0, 0, 10, { ok: 0, error: 0, throttle: 0, fault: 0 }), []);
  const full = ringArcs(0, 0, 10, { ok: 1, error: 0, throttle: 0, fault: 0 });
  assert.equal(full.length, 1);
  assert.equal(full[0]!.d, 'M0 -10A10 10 0 1 1 0 10A10 10 0 1 1 0 -10');
  const half = ringArcs(0, 0, 10, { ok: 0.5, error: 0, throttle: 0, fault: 0.5 });
  assert.deepEqual(
    half.map((a) => a.status),
    ['ok', 'fault'],
  );
  assert.equal(half[0]!.d, 'M0 -10A10 10 0 0 1 0 10');
  assert.equal(half[1]!.d, 'M0 10A10 10 0 0 1 0 -10');
  // Three quarters ok: the large-arc flag is set; a quarter fault ends at the top.
  const q = ringArcs(0, 0, 10, { ok: 0.75, error: 0, throttle: 0, fault: 0.25 });
  assert.equal(q[0]!.d, 'M0 -10A10 10 0 1 1 -10 0');
  assert.equal(q[1]!.d, 'M-10 0A10 10 0 0 1 0 -10');
  // A tiny fault share is still drawn, at the minimum turn.
  const tiny = ringArcs(0, 0, 10, { ok: 0.999, error: 0, throttle: 0, fault: 0.001 }, 0.05);
  assert.equal(tiny.length, 2);
  assert.equal(tiny[1]!.d, `M${String(Math.round(-10 * Math.sin(0.1 * Math.PI) * 100) / 100)} ${String(Math.round(-10 * Math.cos(0.1 * Math.PI) * 100) / 100)}A10 10 0 0 1 0 -10`);
});

test('edge paths are straight through two points and smooth through more', () => {
  assert.equal(edgePath([{ x: 0, y: 0 }, { x: 10, y: 5 }]), 'M0 0L10 5');
  const d = edgePath([{ x: 0, y: 0 }, { x: 10, y: 0 }, { x: 20, y: 10 }]);
  assert.equal((d.match(/C/g) ?? []).length, 2);
  assert.ok(d.endsWith(' 20 10'));
  assert.equal(edgePath([]), '');
});

test('edge widths grow with the log of the rate', () => {
  assert.equal(edgeWidth(0, 100), 1.25);
  assert.equal(edgeWidth(100, 100), 5);
  const mid = edgeWidth(10, 100);
  assert.ok(mid > 1.25 && mid < 5);
});

test('fit centres the map and never magnifies past 1:1', () => {
  const small = fitView(100, 50, 1000, 500);
  assert.deepEqual(small, { k: 1, x: 450, y: 225 });
  const big = fitView(2000, 1000, 1000, 500, 0);
  assert.equal(big.k, 0.5);
  assert.equal(big.x, 0);
  assert.equal(big.y, 0);
});

test('zooming keeps the point under the cursor in place', () => {
  const v = { x: 10, y: 20, k: 1 };
  const z = zoomAt(v, 2, 110, 220);
  // world point under (110, 220) before: (100, 200); after: same screen spot
  near(100 * z.k + z.x, 110);
  near(200 * z.k + z.y, 220);
  assert.equal(zoomAt({ x: 0, y: 0, k: 3 }, 2, 0, 0).k, 3);
});

test('reveal pans only when the point is near or past the edge', () => {
  const v = { x: 0, y: 0, k: 1 };
  assert.equal(reveal(v, { x: 400, y: 300 }, 800, 600), v);
  assert.deepEqual(reveal(v, { x: 2000, y: 300 }, 800, 600), { k: 1, x: -1600, y: 0 });
});

test('arrow keys move to the nearest node in that direction', () => {
  const p = new Map([
    ['a', { x: 0, y: 0 }],
    ['b', { x: 100, y: 0 }],
    ['c', { x: 100, y: 80 }],
    ['d', { x: 60, y: 50 }],
    ['e', { x: 0, y: 120 }],
  ]);
  assert.equal(nearestInDirection('a', p, 'right'), 'b');
  assert.equal(nearestInDirection('b', p, 'left'), 'a');
  assert.equal(nearestInDirection('b', p, 'down'), 'c');
  assert.equal(nearestInDirection('a', p, 'down'), 'e');
  assert.equal(nearestInDirection('a', p, 'up'), undefined);
  assert.equal(nearestInDirection('zz', p, 'up'), undefined);
});

test('the layout runs left to right from the client, with edge points on the rings', () => {
  const layout = layoutMap({
    nodes: [
      { key: '|client', label: 'Client', sublabel: '' },
      { key: 'web', label: 'Web-Application', sublabel: 'Service' },
      { key: 'api', label: 'notes-api', sublabel: 'AppSync API' },
      { key: 'db', label: 'notes', sublabel: 'DynamoDB table' },
      { key: 'sql', label: 'reports-db', sublabel: 'SQL database' },
    ],
    edges: [
      { key: '|client~web', from: '|client', to: 'web' },
      { key: 'web~api', from: 'web', to: 'api' },
      { key: 'api~db', from: 'api', to: 'db' },
      { key: 'api~sql', from: 'api', to: 'sql' },
      { key: 'api~api', from: 'api', to: 'api' },
      { key: 'api~gone', from: 'api', to: 'gone' },
    ],
  });
  const x = (k: string) => layout.nodes.get(k)!.x;
  assert.ok(x('|client') < x('web'));
  assert.ok(x('web') < x('api'));
  assert.ok(x('api') < x('db'));
  near(x('db'), x('sql'));
  assert.equal(layout.edges.size, 5);
  assert.equal(layout.edges.has('api~gone'), false);
  const e = layout.edges.get('web~api')!;
  const web = layout.nodes.get('web')!;
  const first = e.points[0]!;
  near(Math.hypot(first.x - web.x, first.y - web.y), RING_RADIUS + 3, 0.5);
  assert.ok(e.label.x > web.x && e.label.x < x('api'));
  assert.ok(layout.width > 0 && layout.height > 0);
  const loop = layout.edges.get('api~api')!;
  assert.equal(loop.points.length, 4);
  assert.equal(nodeWidth('x', ''), 96);
  assert.equal(nodeWidth('a'.repeat(200), ''), 176);
  assert.deepEqual(onRing({ x: 0, y: 0 }, { x: 10, y: 0 }, 5), { x: 5, y: 0 });
});

test('a 200-service layered map lays out in well under a second', () => {
  const nodes = [{ key: 'c', label: 'Client', sublabel: '' }];
  const edges: { key: string; from: string; to: string }[] = [];
  for (let l = 0; l < 10; l++) {
    for (let i = 0; i < 20; i++) {
      const key = `s${l}-${i}`;
      nodes.push({ key, label: `service-${l}-${i}`, sublabel: 'EC2 instance' });
      const from = l === 0 ? 'c' : `s${l - 1}-${(i * 7) % 20}`;
      edges.push({ key: `${from}~${key}`, from, to: key });
      if (l > 0) edges.push({ key: `s${l - 1}-${(i * 3 + 1) % 20}~${key}`, from: `s${l - 1}-${(i * 3 + 1) % 20}`, to: key });
    }
  }
  const t = performance.now();
  const layout = layoutMap({ nodes, edges });
  const ms = performance.now() - t;
  assert.equal(layout.nodes.size, 201);
  assert.ok(ms < 1500, `layout took ${ms} ms`);
});

test('a service calling many leaves is laid out as a grid, its edges as a comb', () => {
  const nodes = [
    { key: 'c', label: 'Client', sublabel: '' },
    { key: 'gw', label: 'gateway', sublabel: 'Service' },
    { key: 'shared', label: 'shared', sublabel: 'Service' },
  ];
  const edges = [
    { key: 'c~gw', from: 'c', to: 'gw' },
    { key: 'gw~shared', from: 'gw', to: 'shared' },
    { key: 'c~shared', from: 'c', to: 'shared' },
  ];
  for (let i = 0; i < 20; i++) {
    nodes.push({ key: `leaf${i}`, label: `leaf-${i}`, sublabel: 'Remote' });
    edges.push({ key: `gw~leaf${i}`, from: 'gw', to: `leaf${i}` });
  }
  const fans = findFans(edges);
  assert.deepEqual([...fans.keys()], ['gw']);
  // `shared` has two callers: not a leaf of the fan
  assert.equal(fans.get('gw')!.leaves.length, 20);
  assert.equal(fans.get('gw')!.columns, 5);
  assert.equal(findFans(edges.slice(0, 8)).size, 0);
  const layout = layoutMap({ nodes, edges });
  const xs = new Set<number>();
  const ys = new Set<number>();
  for (let i = 0; i < 20; i++) {
    const b = layout.nodes.get(`leaf${i}`)!;
    xs.add(Math.round(b.x));
    ys.add(Math.round(b.y));
    assert.ok(b.x > layout.nodes.get('gw')!.x);
  }
  assert.equal(xs.size, 5);
  assert.equal(ys.size, 4);
  const e = layout.edges.get('gw~leaf7')!;
  assert.equal(e.comb, true);
  assert.equal(e.quiet, true);
  assert.ok(layout.height < 4 * 150 + 200, `fan of 20 is ${layout.height} tall`);
  assert.equal(layout.edges.get('c~gw')!.comb, undefined);
  assert.ok(combPath(e.points).includes('L'));
});

test('zoomed out, text too small to read is left out', () => {
  assert.equal(detailLevel(0.07), 0);
  assert.equal(detailLevel(0.25), 1);
  assert.equal(detailLevel(0.4), 2);
  assert.equal(detailLevel(0.69), 3);
  assert.equal(detailLevel(1), 3);
});
