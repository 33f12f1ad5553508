import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TraceSummary } from '../src/api/types';
import { complete, type Vocabulary } from '../src/traces/completion';
import { mergeSummaries } from '../src/traces/trace-query';
import { parseSelection, formatSelection } from '../src/traces/selection';
import { sortRows } from '../src/traces/sort';
import { rebin, snapSelection, quantile, histogramOf } from '../src/lib/histogram';
import { parseRange, formatRange, resolveRange } from '../src/lib/time';

const vocab: Vocabulary = {
  annotationKeys: ['email', 'graphql_operation', 'otel.route'],
  annotationValues: new Map<string, (string | number | boolean)[]>([
    ['email', ['alice@example.com', 'bob@example.com']],
    ['age', [41, 29]],
  ]),
  services: ['notes-api', 'notes-fn', 'Web-Application'],
  users: ['alice@example.com', 'bob@example.com'],
  urls: ['https://notes.example.com/graphql/listNotes'],
};

const labels = (text: string, cursor = text.length) => complete(text, cursor, vocab)?.items.map((i) => i.label) ?? [];

test('keywords and functions complete by prefix, case-insensitively', () => {
  assert.deepEqual(labels('respo'), ['responsetime']);
  assert.ok(labels('http.').includes('http.status'));
  assert.ok(labels('SERV').includes('service()'));
  assert.ok(labels('').length > 10);
});

test('annotation keys complete after annotation., with the bracket form when needed', () => {
  assert.deepEqual(labels('annotation.e'), ['annotation.email']);
  assert.deepEqual(labels('annotation.ot'), ['annotation["otel.route"]']);
});

test('values seen in the range complete after an operator, quoted', () => {
  const c = complete('annotation.email = ', 19, vocab)!;
  assert.deepEqual(c.items.map((i) => i.insert), ['"alice@example.com"', '"bob@example.com"']);
  const inString = complete('user = "bo', 10, vocab)!;
  assert.deepEqual(inString.items.map((i) => i.insert), ['"bob@example.com"']);
  assert.equal(inString.from, 7);
});

test('service names complete inside service("…") and as whole service() terms', () => {
  const c = complete('service("no', 11, vocab)!;
  assert.deepEqual(c.items.map((i) => i.label), ['notes-api', 'notes-fn']);
  assert.equal(c.from, 8);
  assert.ok(labels('note').includes('service("notes-fn")'));
});

test('operators follow a keyword; AND / OR follow a complete term', () => {
  assert.ok(labels('http.url ').includes('CONTAINS'));
  assert.ok(labels('responsetime ').includes('>='));
  assert.deepEqual(labels('fault '), ['AND', 'OR', 'NOT']); // side by side means AND
});

const summary = (id: string, start: number, revision = 1, extra: Partial<TraceSummary> = {}): TraceSummary => ({
  Id: id,
  StartTime: start,
  HasFault: false,
  HasError: false,
  HasThrottle: false,
  IsPartial: false,
  Http: {},
  Annotations: {},
  Users: [],
  ServiceIds: [],
  Revision: revision,
  ...extra,
});

test('mergeSummaries adds new traces newest first and keeps the latest revision', () => {
  const a = summary('a', 10);
  const b = summary('b', 20);
  const merged = mergeSummaries([b, a], [summary('c', 15), summary('a', 10, 2, { HasFault: true })]);
  assert.deepEqual(merged.rows.map((r) => r.Id), ['b', 'c', 'a']);
  assert.deepEqual(merged.added, ['c']);
  assert.equal(merged.rows[2]!.HasFault, true);
  const stale = mergeSummaries(merged.rows, [summary('a', 10, 1)]);
  assert.equal(stale.rows[2]!.HasFault, true);
});

test('sortRows sorts by a column and keeps the server order for newest first', () => {
  const rows = [summary('a', 3, 1, { ResponseTime: 0.2 }), summary('b', 2, 1, { ResponseTime: 1.5 }), summary('c', 1, 1, { HasFault: true, ResponseTime: 0.1 })];
  assert.equal(sortRows(rows, { key: 'start', descending: true }), rows);
  assert.deepEqual(sortRows(rows, { key: 'response', descending: true }).map((r) => r.Id), ['b', 'a', 'c']);
  assert.deepEqual(sortRows(rows, { key: 'status', descending: true }).map((r) => r.Id)[0], 'c');
});

test('a response-time selection round-trips through the URL', () => {
  assert.deepEqual(parseSelection('0.2-0.5'), [0.2, 0.5]);
  assert.deepEqual(parseSelection('2-inf'), [2, Infinity]);
  assert.equal(parseSelection('0.5-0.2'), null);
  assert.equal(parseSelection('x'), null);
  assert.equal(formatSelection([2, Infinity]), '2-inf');
});

test('rebin folds a slow tail into one last bin and snaps selections to bins', () => {
  const entries = [...Array.from({ length: 100 }, (_, i) => ({ Value: 0.001 * (i + 1), Count: 10 })), { Value: 30, Count: 1 }];
  const b = rebin(entries);
  assert.ok(b.tailFrom !== null);
  assert.equal(b.counts.reduce((x, y) => x + y, 0), 1001);
  assert.equal(b.counts[b.counts.length - 1]! >= 1, true);
  const [lo, hi] = snapSelection(b, 0.0101, 0.0299);
  assert.ok(lo <= 0.0101 && hi >= 0.0299);
  assert.deepEqual(snapSelection(b, 0.01, 1000)[1], Infinity);
  assert.equal(quantile(histogramOf([0.1, 0.2, 0.3, 0.4]), 0.5), 0.2);
});

test('time ranges: relative and absolute forms round-trip; bad text falls back to the default', () => {
  const r = parseRange('15m');
  assert.equal(r.kind, 'relative');
  const w = resolveRange(r, 1_000_000_000);
  assert.equal(w.start, 1_000_000 - 900);
  const abs = parseRange('2026-12-01T10:00:00Z~2026-12-01T11:00:00Z');
  assert.equal(abs.kind, 'absolute');
  assert.equal(formatRange(abs), '2026-12-01T10:00:00Z~2026-12-01T11:00:00Z');
  assert.equal(formatRange(parseRange('31d')), '1h');
  assert.equal(formatRange(parseRange('garbage')), '1h');
});
