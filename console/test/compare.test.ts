import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TraceAnalyticsResponse } from '../src/api/analytics';
import type { TraceSummary } from '../src/api/types';
import {
  compareHash,
  diffHash,
  parseCompare,
  parseDiff,
  setFilters,
  slowFast,
  swap,
  tracesHash,
  userVsEveryone,
} from '../src/compare/compare-params';
import { coverageNote } from '../src/compare/coverage';
import { compareSets, differenceScore, rootCauseLabel, rootCauseTerm, truncatedBound } from '../src/compare/set-diff';
import { analyticsFromSummaries, rootCauseOf } from '../src/compare/summary-analytics';
import { nearestTrace, orderTraces, quantiles, windowAround } from '../src/compare/typical';
import { parseHash } from '../src/lib/router';

// A TraceAnalytics answer with only what a test sets.
function answer(x: Partial<TraceAnalyticsResponse> & { TraceCount: number }): TraceAnalyticsResponse {
  return {
    TracesProcessedCount: x.TraceCount,
    Complete: true,
    ScannedFrom: 0,
    Status: { Ok: x.TraceCount, Error: 0, Throttle: 0, Fault: 0, Partial: 0 },
    ResponseTimeHistogram: [],
    DurationHistogram: [],
    TimeSeries: { Period: 60, Points: [] },
    Annotations: [],
    Users: [],
    Urls: [],
    HttpMethods: [],
    HttpStatuses: [],
    Services: [],
    RootCauses: { Fault: [], Error: [], ResponseTime: [] },
    ...x,
  };
}

test('the score is 0 for what chance explains and grows with the evidence', () => {
  assert.equal(differenceScore(1, 2, 0, 2), 0); // 50% vs 0% of two traces each
  assert.equal(differenceScore(50, 100, 50, 100), 0);
  const small = differenceScore(8, 10, 2, 10); // 80% vs 20%, ten traces each
  const large = differenceScore(400, 1000, 200, 1000); // 40% vs 20%, a thousand each
  assert.ok(small > 0 && large > 0);
  assert.ok(large > small, `${large} > ${small}`);
  // symmetric in A and B
  assert.equal(differenceScore(3, 40, 30, 50), differenceScore(30, 50, 3, 40));
  assert.equal(differenceScore(1, 0, 1, 10), 0);
});

test('rows: shares, Δ in A − B, ranked by score; every value has a filter term', () => {
  const A = answer({
    TraceCount: 100,
    Status: { Ok: 40, Error: 0, Throttle: 0, Fault: 60, Partial: 0 },
    Users: [
      { Value: 'alice@example.com', TraceCount: 30 },
      { Value: 'bob@example.com', TraceCount: 20 },
    ],
    HttpStatuses: [{ Value: 502, TraceCount: 60 }],
    RootCauses: {
      Fault: [{ Service: 'notes-fn', Type: 'AWS::Lambda::Function', Entity: 'notes-fn', Exception: 'TypeError', TraceCount: 55 }],
      Error: [],
      ResponseTime: [],
    },
  });
  const B = answer({
    TraceCount: 400,
    Users: [
      { Value: 'alice@example.com', TraceCount: 120 },
      { Value: 'bob@example.com', TraceCount: 80 },
    ],
    HttpStatuses: [{ Value: 200, TraceCount: 400 }],
  });
  const d = compareSets(A, B, 20);
  const status = d.byDimension.status;
  // OK (40% vs 100%) and Fault (60% vs 0%) differ by as much on as many
  // traces; the tie goes to the value with more traces
  assert.deepEqual(status.map((r) => r.label), ['OK', 'Fault', 'Error', 'Partial', 'Throttle']);
  const fault = status[1]!;
  assert.equal(fault.a.share, 0.6);
  assert.equal(fault.b.share, 0);
  assert.equal(fault.delta, 0.6);
  assert.equal(fault.term, 'fault');
  assert.equal(status[0]!.delta, -0.6);
  assert.equal(status[0]!.score, fault.score);
  // users at 30% / 20% in both sets: no difference, score 0
  assert.ok(d.byDimension.user.every((r) => Math.abs(r.delta) < 1e-12 && r.score === 0));
  assert.equal(d.byDimension.user[0]!.term, 'user = "alice@example.com"');
  const rc = d.byDimension.rootcause[0]!;
  assert.equal(rc.label, 'notes-fn: TypeError');
  assert.equal(rc.group, 'Fault');
  assert.equal(rc.term, 'rootcause.fault.service { name = "notes-fn" } AND rootcause.fault.entity { last AND name = "notes-fn" } AND rootcause.fault.exception { name = "TypeError" }');
  assert.deepEqual(
    d.byDimension.httpstatus.map((r) => [r.label, r.term, r.delta]),
    [
      ['200', 'http.status = 200', -1],
      ['502', 'http.status = 502', 0.6],
    ],
  );
  // the combined list leaves out what does not differ, best first
  assert.deepEqual(
    d.biggest.map((r) => r.label),
    ['200', 'OK', '502', 'Fault', 'notes-fn: TypeError'],
  );
  assert.ok(d.biggest.every((r, i) => i === 0 || r.score <= d.biggest[i - 1]!.score));
});

test('a value missing from a truncated list is at most the smallest listed count', () => {
  assert.equal(truncatedBound([{ TraceCount: 9 }, { TraceCount: 4 }], 20), null); // short list: complete
  assert.equal(truncatedBound([{ TraceCount: 9 }, { TraceCount: 4 }], 2), 4); // full list: maybe cut
  assert.equal(truncatedBound([{ TraceCount: 9 }, { TraceCount: 4 }], 2, 0), null); // nothing else: complete
  assert.equal(truncatedBound([{ TraceCount: 9 }, { TraceCount: 4 }], 20, 3), 3); // 3 traces elsewhere
  const A = answer({ TraceCount: 100, Urls: [{ Value: '/a', TraceCount: 50 }, { Value: '/b', TraceCount: 40 }] });
  const B = answer({ TraceCount: 100, Urls: [{ Value: '/b', TraceCount: 60 }, { Value: '/c', TraceCount: 30 }], ...({ OtherUrls: 10 } as object) });
  const urls = compareSets(A, B, 20).byDimension.url;
  const a = urls.find((r) => r.label === '/a')!;
  // B has at most 10 traces of /a (the unlisted ones): not 0, and the
  // difference uses the bound nearest A's share
  assert.deepEqual(a.b, { count: 10, share: 0.1, atMost: true });
  assert.ok(Math.abs(a.delta - 0.4) < 1e-12);
  // Root causes carry their Other… figures inside RootCauses.
  const rc = (count: number, other: number) =>
    answer({ TraceCount: 100, RootCauses: { Fault: [{ Service: 's', Entity: 's', TraceCount: count }], Error: [], ResponseTime: [], ...({ OtherFault: other } as object) } });
  const missing = compareSets(rc(50, 0), answer({ TraceCount: 100, RootCauses: { Fault: [{ Service: 't', Entity: 't', TraceCount: 9 }], Error: [], ResponseTime: [], ...({ OtherFault: 2 } as object) } }), 20);
  const s = missing.byDimension.rootcause.find((r) => r.label === 's')!;
  assert.deepEqual(s.b, { count: 2, share: 0.02, atMost: true });
  const t = missing.byDimension.rootcause.find((r) => r.label === 't')!;
  assert.deepEqual(t.a, { count: 0, share: 0, atMost: false });
  const c = urls.find((r) => r.label === '/c')!;
  // A's list is complete (2 < 20, no Other figure): /c has none there
  assert.deepEqual(c.a, { count: 0, share: 0, atMost: false });
});

test('annotations are key = value rows with their own terms', () => {
  const A = answer({
    TraceCount: 10,
    Annotations: [
      { Key: 'operation', TraceCount: 10, Values: [{ Value: { StringValue: 'listNotes' }, TraceCount: 9 }, { Value: { StringValue: 'getNote' }, TraceCount: 1 }], OtherValues: 0 },
      { Key: 'otel.route', TraceCount: 2, Values: [{ Value: { NumberValue: 7 }, TraceCount: 2 }], OtherValues: 0 },
    ],
  });
  const B = answer({
    TraceCount: 10,
    Annotations: [{ Key: 'operation', TraceCount: 10, Values: [{ Value: { StringValue: 'getNote' }, TraceCount: 10 }], OtherValues: 0 }],
  });
  const d = compareSets(A, B, 20);
  const rows = d.byDimension.annotation;
  assert.deepEqual(rows.slice(0, 2).map((r) => r.label).sort(), ['operation = getNote', 'operation = listNotes']);
  const route = rows.find((r) => r.group === 'otel.route')!;
  assert.equal(route.term, 'annotation["otel.route"] = 7');
  assert.equal(route.b.count, 0);
  assert.deepEqual(d.annotationKeys.sort(), ['operation', 'otel.route']);
});

test('root-cause labels and terms follow the server naming (entity path joined with " > ")', () => {
  const r = { Service: 'Web-Application', Entity: 'Web-Application > api.notes.example.com', TraceCount: 3 };
  assert.equal(rootCauseLabel(r), 'Web-Application › api.notes.example.com');
  assert.equal(
    rootCauseTerm('Error', { Service: 'notes-api', Entity: 'notes-api', TraceCount: 1 }),
    'rootcause.error.service { name = "notes-api" } AND rootcause.error.entity { last AND name = "notes-api" } AND !rootcause.error.exception',
  );
  assert.equal(rootCauseTerm('ResponseTime', { ...r, Exception: 'X' }), 'rootcause.responsetime.service { name = "Web-Application" } AND rootcause.responsetime.entity { last AND name = "api.notes.example.com" }');
  assert.deepEqual(
    rootCauseOf({
      Services: [
        { Name: 'api', EntityPath: [{ Name: 'api', Exceptions: [{ Name: 'Upstream' }] }] },
        { Name: 'fn', Type: 'AWS::Lambda::Function', EntityPath: [{ Name: 'fn' }, { Name: 'toNote', Exceptions: [{ Name: 'TypeError' }] }] },
      ],
    }),
    { Service: 'fn', Type: 'AWS::Lambda::Function', Entity: 'fn > toNote', Exception: 'Upstream' },
  );
});

function summary(id: string, x: Partial<TraceSummary> = {}): TraceSummary {
  return { Id: id, HasFault: false, HasError: false, HasThrottle: false, IsPartial: false, Http: {}, Annotations: {}, Users: [], ServiceIds: [], Revision: 1, ...x };
}

test('analytics computed from summaries count each trace once per value', () => {
  const s = [
    summary('1', { ResponseTime: 0.1, StartTime: 10, HasFault: true, HasError: true, Users: [{ UserName: 'a', ServiceIds: [] }, { UserName: 'a', ServiceIds: [] }], Http: { HttpStatus: 502, HttpURL: '/x', HttpMethod: 'POST' } }),
    summary('2', { ResponseTime: 0.2, StartTime: 20, IsPartial: true, Users: [{ UserName: 'b', ServiceIds: [] }], Http: { HttpStatus: 200, HttpURL: '/x' } }),
    summary('3', { ResponseTime: 0.2, StartTime: 30, HasThrottle: true, HasError: true, ServiceIds: [{ Name: 'api', Type: 'AWS::AppSync::GraphQLAPI' }, { Name: 'api', Type: 'AWS::AppSync::GraphQLAPI' }] }),
  ];
  const x = analyticsFromSummaries(s, false, 1);
  assert.equal(x.TraceCount, 3);
  assert.equal(x.Complete, false);
  assert.equal(x.ScannedFrom, 10);
  assert.deepEqual(x.Status, { Ok: 1, Error: 0, Throttle: 1, Fault: 1, Partial: 1 });
  assert.deepEqual(x.ResponseTimeHistogram, [{ Value: 0.1, Count: 1 }, { Value: 0.2, Count: 2 }]);
  assert.deepEqual(x.Users, [{ Value: 'a', TraceCount: 1 }]); // limit 1, ties by value
  assert.equal((x as unknown as { OtherUsers: number }).OtherUsers, 1);
  assert.deepEqual(x.Urls, [{ Value: '/x', TraceCount: 2 }]);
  assert.deepEqual(x.Services, [{ Name: 'api', Type: 'AWS::AppSync::GraphQLAPI', TraceCount: 1 }]);
});

test('compare URLs round-trip; empty B is everything but A', () => {
  const p = parseCompare(new URLSearchParams('a=fault&range=6h&group=slow%20ones&trt=Event'));
  assert.deepEqual(p, { a: 'fault', b: '', range: '6h', group: 'slow ones', trt: 'Event' });
  const hash = compareHash(p);
  assert.deepEqual(parseCompare(parseHash(hash).params), p);
  assert.equal(parseHash(hash).view, 'compare');
  const f = setFilters(p);
  assert.equal(f.a.expression, '(fault) AND group.name = "slow ones"');
  assert.equal(f.a.userColumn(2), 1);
  assert.equal(f.b.expression, '(!(fault)) AND group.name = "slow ones"');
  assert.equal(f.bIsRest, true);
  const both = setFilters({ ...p, b: 'ok', group: '' });
  assert.equal(both.b.expression, 'ok');
  assert.equal(both.bIsRest, false);
  assert.equal(setFilters({ ...p, a: '', b: '', group: '' }).a.expression, '');
  assert.equal(setFilters({ ...p, a: '', b: '', group: '' }).b.expression, '');
  assert.equal(parseCompare(new URLSearchParams('')).range, '1h');
});

test('links to the traces view carry a set and a value', () => {
  const p = parseCompare(new URLSearchParams('a=fault&b=ok&range=1h'));
  const a = parseHash(tracesHash(p, 'a', 'user = "x"'));
  assert.equal(a.view, 'traces');
  assert.equal(a.params.get('q'), '(fault) AND user = "x"');
  assert.equal(a.params.get('range'), '1h');
  assert.equal(parseHash(tracesHash({ ...p, b: '' }, 'b')).params.get('q'), '!(fault)');
  assert.equal(parseHash(tracesHash({ ...p, a: '' }, 'a', 'ok')).params.get('q'), 'ok');
});

test('diff URLs: both ids, a missing one, and the sets they came from', () => {
  const p = parseCompare(new URLSearchParams('a=fault&b=ok&range=1h'));
  const h = diffHash('1-aaaa-01', '1-bbbb-02', p);
  const r = parseHash(h);
  assert.equal(r.view, 'diff');
  assert.deepEqual(parseDiff(r.parts, r.params), { a: '1-aaaa-01', b: '1-bbbb-02', from: p });
  const missing = parseHash(diffHash(undefined, '1-bbbb-02'));
  assert.deepEqual(parseDiff(missing.parts, missing.params), { b: '1-bbbb-02' });
  const none = parseHash('#/diff');
  assert.deepEqual(parseDiff(none.parts, none.params), {});
});

test('presets and swapping', () => {
  assert.deepEqual(slowFast(0.2345678), { id: 'slow', label: 'Slow vs fast', a: 'responsetime >= 0.234568', b: 'responsetime < 0.234568' });
  assert.equal(userVsEveryone('a "b"').a, 'user = "a \\"b\\""');
  const p = parseCompare(new URLSearchParams('a=fault&b=ok'));
  assert.deepEqual([swap(p).a, swap(p).b], ['ok', 'fault']);
  const rest = parseCompare(new URLSearchParams('a=fault'));
  assert.deepEqual([swap(rest).a, swap(rest).b], ['!(fault)', 'fault']);
});

test('typical traces: nearest to a quantile, most recent among equals', () => {
  const list = [
    summary('a', { ResponseTime: 0.1, StartTime: 1 }),
    summary('b', { ResponseTime: 0.3, StartTime: 2 }),
    summary('c', { ResponseTime: 0.5, StartTime: 3 }),
    summary('d', { StartTime: 4 }), // in progress
    summary('e', { ResponseTime: 0.5, StartTime: 5 }),
  ];
  assert.equal(nearestTrace(list, 0.45)?.Id, 'e');
  assert.equal(nearestTrace(list, 0.12)?.Id, 'a');
  assert.equal(nearestTrace([], 1), undefined);
  assert.deepEqual(orderTraces(list, 'recent', undefined, 3).map((s) => s.Id), ['e', 'd', 'c']);
  assert.deepEqual(orderTraces(list, 'slowest', undefined, 3).map((s) => s.Id), ['c', 'e', 'b']);
  assert.deepEqual(orderTraces(list, 'typical', 0.28, 2).map((s) => s.Id), ['b', 'a']);
  const q = quantiles([{ Value: 0.1, Count: 50 }, { Value: 0.2, Count: 40 }, { Value: 1.5, Count: 10 }]);
  assert.deepEqual(q, { p50: 0.1, p90: 0.2, p99: 1.5 });
  assert.deepEqual(quantiles([]), {});
  assert.deepEqual(windowAround(0.2), [0.19, 0.211]);
  assert.deepEqual(windowAround(0), [0, 0.002]);
});

test('a set not aggregated in full says what it is based on', () => {
  const side = (x: Partial<TraceAnalyticsResponse>, computed = false) => ({
    name: 'A' as const,
    title: 'Selection',
    filter: 'fault',
    computed,
    data: answer({ TraceCount: 1200, ...x }),
  });
  assert.equal(coverageNote(side({ Complete: true })), null);
  const cut = coverageNote(side({ Complete: false, TracesProcessedCount: 150000, ScannedFrom: 0 }))!;
  assert.match(cut, /^A is based on the most recent 150,000 traces of the range: the server scans at most that many/);
  const computed = coverageNote(side({ Complete: false, TraceCount: 2000 }, true))!;
  assert.match(computed, /most recent 2,000 traces: this server has no TraceAnalytics/);
});
