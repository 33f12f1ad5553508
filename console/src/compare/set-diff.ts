// Two sets of traces compared value by value: for every status, root cause,
// annotation value, user, URL, HTTP method and status and service, the share
// of each set's traces that have it, the difference in percentage points, and
// a score that ranks the differences.
//
// The score is the lower end of a 95% confidence interval for |share A −
// share B| (Agresti–Caffo: one success and one failure added to each set), or
// 0 when that interval reaches 0. So a large difference seen in a handful of
// traces ranks below a smaller one seen in thousands, and a difference that
// chance alone explains scores 0.
import type { RootCauseCount, TraceAnalyticsResponse, ValueCount } from '../api/analytics';
import type { AnnotationValue } from '../api/types';
import { annotationTerm, quote, serviceTerm, urlTerm, userTerm } from '../lib/filter';
import { annotationLiteral, annotationText, serviceLabel } from '../lib/format';

export type Dimension = 'status' | 'rootcause' | 'annotation' | 'user' | 'url' | 'method' | 'httpstatus' | 'service';

export const dimensionLabels: Record<Dimension, string> = {
  status: 'Status',
  rootcause: 'Root cause',
  annotation: 'Annotation',
  user: 'User',
  url: 'URL',
  method: 'HTTP method',
  httpstatus: 'HTTP status',
  service: 'Service',
};

export interface SideCount {
  count: number; // traces with the value (an upper bound when `atMost`)
  share: number; // count / the set's TraceCount
  // The value is not in this set's (truncated) top list: it has at most
  // `count` traces; the share used for the difference is the one in [0,
  // count] nearest the other set's, so the difference is never overstated.
  atMost: boolean;
}

export interface DiffRow {
  dimension: Dimension;
  key: string; // unique across all rows
  label: string;
  detail?: string; // shown after the label, muted (a service type)
  group?: string; // annotation key, root-cause kind
  term?: string; // a filter term selecting traces with the value
  a: SideCount;
  b: SideCount;
  delta: number; // share A − share B (−1…1), after the atMost rule
  score: number;
}

const z95 = 1.959964;

// Lower end of the 95% interval for |pA − pB| (Agresti–Caffo), or 0.
export function differenceScore(xA: number, nA: number, xB: number, nB: number): number {
  if (nA <= 0 || nB <= 0) return 0;
  const pA = (xA + 1) / (nA + 2);
  const pB = (xB + 1) / (nB + 2);
  const se = Math.sqrt((pA * (1 - pA)) / (nA + 2) + (pB * (1 - pB)) / (nB + 2));
  return Math.max(0, Math.abs(pA - pB) - z95 * se);
}

interface Counted {
  key: string;
  label: string;
  detail?: string;
  group?: string;
  term?: string;
  count: number;
}

// Values of one dimension on both sides, and whether each side's list may
// have left values out (then a missing value has at most the smallest count
// listed, else it has none).
function rowsOf(
  dimension: Dimension,
  a: Counted[],
  b: Counted[],
  nA: number,
  nB: number,
  boundA: number | null,
  boundB: number | null,
): DiffRow[] {
  const byKey = new Map<string, { a?: Counted; b?: Counted }>();
  for (const v of a) byKey.set(v.key, { a: v });
  for (const v of b) {
    const e = byKey.get(v.key);
    if (e) e.b = v;
    else byKey.set(v.key, { b: v });
  }
  const rows: DiffRow[] = [];
  for (const [key, { a: va, b: vb }] of byKey) {
    const base = (va ?? vb)!;
    const shareOf = (n: number, c: number) => (n > 0 ? c / n : 0);
    let ca = va?.count ?? 0;
    let cb = vb?.count ?? 0;
    const atMostA = !va && boundA !== null;
    const atMostB = !vb && boundB !== null;
    // An unknown count is taken as close to the other side's share as it can be.
    if (atMostA) ca = Math.min(boundA!, Math.round(shareOf(nB, cb) * nA));
    if (atMostB) cb = Math.min(boundB!, Math.round(shareOf(nA, ca) * nB));
    const row: DiffRow = {
      dimension,
      key: `${dimension}\u0000${key}`,
      label: base.label,
      a: { count: atMostA ? boundA! : ca, share: shareOf(nA, atMostA ? boundA! : ca), atMost: atMostA },
      b: { count: atMostB ? boundB! : cb, share: shareOf(nB, atMostB ? boundB! : cb), atMost: atMostB },
      delta: shareOf(nA, ca) - shareOf(nB, cb),
      score: differenceScore(ca, nA, cb, nB),
    };
    if (base.group !== undefined) row.group = base.group;
    if (base.detail !== undefined) row.detail = base.detail;
    if (base.term !== undefined) row.term = base.term;
    rows.push(row);
  }
  return rankRows(rows);
}

export function rankRows(rows: DiffRow[]): DiffRow[] {
  return rows.sort(
    (x, y) =>
      y.score - x.score ||
      Math.abs(y.delta) - Math.abs(x.delta) ||
      y.a.count + y.b.count - (x.a.count + x.b.count) ||
      (x.key < y.key ? -1 : 1),
  );
}

// What a value missing from a list may have: null when the list is known to
// be complete, else at most the smallest listed count (and at most the
// list's Other… figure, the traces of unlisted values, when the server sends
// one; without it a list as long as the limit may have been cut).
export function truncatedBound<T extends { TraceCount: number }>(list: T[], limit: number, other?: number): number | null {
  if (other !== undefined ? other <= 0 : list.length < limit) return null;
  const min = list.reduce((m, v) => Math.min(m, v.TraceCount), Infinity);
  const bound = Math.min(min, other ?? Infinity);
  return Number.isFinite(bound) ? bound : null;
}

// The server's Other… figures (not in the typed shape; absent from older
// servers and from the console's own aggregation).
function other(x: TraceAnalyticsResponse, field: string): number | undefined {
  const v = (x as unknown as Record<string, unknown>)[field];
  return typeof v === 'number' ? v : undefined;
}

const plain = <V>(list: ValueCount<V>[], label: (v: V) => string, term: (v: V) => string): Counted[] =>
  list.map((v) => ({ key: String(v.Value), label: label(v.Value), term: term(v.Value), count: v.TraceCount }));

export type RootCauseKind = 'Fault' | 'Error' | 'ResponseTime';
const rootCauseKinds: RootCauseKind[] = ['Fault', 'Error', 'ResponseTime'];
const kindLabel = (k: RootCauseKind) => (k === 'ResponseTime' ? 'Response time' : k);

// The server names a root cause by the last service of its path, that
// service's entity path joined with " > ", and the first exception on the way.
export const entitySeparator = ' > ';

export function rootCauseLabel(r: RootCauseCount): string {
  const service = r.Service ?? '(unknown service)';
  const path = r.Entity?.split(entitySeparator) ?? [];
  // The path starts at the service's own segment: no need to say it twice.
  if (path[0] === r.Service) path.shift();
  return [service, ...path].join(' › ') + (r.Exception ? `: ${r.Exception}` : '');
}

// A filter term for traces with this root cause: the service, the last
// entity of its path and the exception (or that there is none).
export function rootCauseTerm(kind: RootCauseKind, r: RootCauseCount): string {
  const k = kind.toLowerCase();
  const terms: string[] = [];
  if (r.Service) terms.push(`rootcause.${k}.service { name = ${quote(r.Service)} }`);
  const entity = r.Entity?.split(entitySeparator).pop();
  if (entity) terms.push(`rootcause.${k}.entity { last AND name = ${quote(entity)} }`);
  // A cause named without an exception is one that has none.
  if (kind !== 'ResponseTime') terms.push(r.Exception ? `rootcause.${k}.exception { name = ${quote(r.Exception)} }` : `!rootcause.${k}.exception`);
  return terms.length ? terms.join(' AND ') : `rootcause.${k}.service`;
}

function rootCauses(x: TraceAnalyticsResponse): Counted[] {
  const out: Counted[] = [];
  for (const kind of rootCauseKinds) {
    for (const r of x.RootCauses?.[kind] ?? []) {
      out.push({
        key: [kind, r.Service ?? '', r.Type ?? '', r.Entity ?? '', r.Exception ?? ''].join('\u0000'),
        label: rootCauseLabel(r),
        ...(r.Type ? { detail: r.Type } : {}),
        group: kindLabel(kind),
        term: rootCauseTerm(kind, r),
        count: r.TraceCount,
      });
    }
  }
  return out;
}

const annotationKey = (key: string, v: AnnotationValue) => `${key}\u0000${JSON.stringify(v)}`;

function annotations(x: TraceAnalyticsResponse): Counted[] {
  return (x.Annotations ?? []).flatMap((k) =>
    k.Values.map((v) => ({
      key: annotationKey(k.Key, v.Value),
      label: `${k.Key} = ${annotationText(v.Value)}`,
      group: k.Key,
      term: annotationTerm(k.Key, annotationLiteral(v.Value)),
      count: v.TraceCount,
    })),
  );
}

function statuses(x: TraceAnalyticsResponse): Counted[] {
  const s = x.Status ?? { Ok: 0, Error: 0, Throttle: 0, Fault: 0, Partial: 0 };
  return [
    { key: 'ok', label: 'OK', term: 'ok', count: s.Ok },
    { key: 'error', label: 'Error', term: 'error', count: s.Error },
    { key: 'throttle', label: 'Throttle', term: 'throttle', count: s.Throttle },
    { key: 'fault', label: 'Fault', term: 'fault', count: s.Fault },
    { key: 'partial', label: 'Partial', term: 'partial', count: s.Partial },
  ];
}

export interface SetDiff {
  nA: number;
  nB: number;
  byDimension: Record<Dimension, DiffRow[]>;
  // Per annotation key, its values' rows (the annotation table groups them).
  annotationKeys: string[];
  biggest: DiffRow[];
}

// `limit`: how many values per dimension the server was asked for (lists of
// that length may have left values out).
export function compareSets(A: TraceAnalyticsResponse, B: TraceAnalyticsResponse, limit: number): SetDiff {
  const nA = A.TraceCount;
  const nB = B.TraceCount;
  const rows = (d: Dimension, fa: Counted[], fb: Counted[], ba: number | null, bb: number | null) =>
    rowsOf(d, fa, fb, nA, nB, ba, bb);
  const list = <T extends { TraceCount: number }>(x: T[] | undefined) => x ?? [];

  // Annotations: a key listed with OtherValues (or a full list of values)
  // may hide values; a key not listed at all may be hidden only when the
  // list of keys is full.
  const annotationBound = (x: TraceAnalyticsResponse) => (key: string) => {
    const stats = list(x.Annotations);
    const k = stats.find((s) => s.Key === key);
    if (k) return truncatedBound(k.Values, limit, k.OtherValues ?? (other(x, 'OtherAnnotations') === undefined ? undefined : 0));
    return truncatedBound(stats, limit, other(x, 'OtherAnnotations'));
  };
  const rootCauseBound = (x: TraceAnalyticsResponse) => (group: string) => {
    const kind = rootCauseKinds.find((k) => kindLabel(k) === group)!;
    const others = (x.RootCauses as unknown as Record<string, unknown> | undefined)?.[`Other${kind}`];
    return truncatedBound(x.RootCauses?.[kind] ?? [], limit, typeof others === 'number' ? others : undefined);
  };
  const annotationRows = groupedRows('annotation', annotations(A), annotations(B), nA, nB, annotationBound(A), annotationBound(B));
  const annotationKeys = [...new Set(annotationRows.map((r) => r.group!))];

  type Listed = 'Users' | 'Urls' | 'HttpMethods' | 'HttpStatuses';
  const listed = (d: Dimension, field: Listed, term: (v: string) => string) => {
    const of = (x: TraceAnalyticsResponse) => list<ValueCount<string | number>>(x[field]);
    const values = (x: TraceAnalyticsResponse) => plain(of(x), String, (v) => term(String(v)));
    const bound = (x: TraceAnalyticsResponse) => truncatedBound(of(x), limit, other(x, `Other${field}`));
    return rows(d, values(A), values(B), bound(A), bound(B));
  };
  const byDimension: Record<Dimension, DiffRow[]> = {
    status: rows('status', statuses(A), statuses(B), null, null),
    rootcause: groupedRows('rootcause', rootCauses(A), rootCauses(B), nA, nB, rootCauseBound(A), rootCauseBound(B)),
    annotation: annotationRows,
    user: listed('user', 'Users', userTerm),
    url: listed('url', 'Urls', urlTerm),
    method: listed('method', 'HttpMethods', methodTerm),
    httpstatus: listed('httpstatus', 'HttpStatuses', httpStatusTerm),
    service: rows('service', services(A), services(B), truncatedBound(list(A.Services), limit, other(A, 'OtherServices')), truncatedBound(list(B.Services), limit, other(B, 'OtherServices'))),
  };
  const all = Object.values(byDimension).flat();
  return { nA, nB, byDimension, annotationKeys, biggest: biggestDifferences(all) };
}

const methodTerm = (m: string) => `http.method = ${quote(m)}`;
const httpStatusTerm = (s: string) => `http.status = ${Number(s)}`;

function services(x: TraceAnalyticsResponse): Counted[] {
  return (x.Services ?? []).map((s) => ({
    key: `${s.Name ?? ''}\u0000${s.Type ?? ''}`,
    label: serviceLabel(s),
    ...(s.Type && s.Name ? { detail: s.Type } : {}),
    term: serviceTerm(s.Name ?? '', s.Type),
    count: s.TraceCount,
  }));
}

// Rows of a dimension whose values come in groups (annotation keys,
// root-cause kinds), each group with its own truncation bound, ranked together.
function groupedRows(
  dimension: Dimension,
  a: Counted[],
  b: Counted[],
  nA: number,
  nB: number,
  boundA: (group: string) => number | null,
  boundB: (group: string) => number | null,
): DiffRow[] {
  const groups = [...new Set([...a, ...b].map((c) => c.group ?? ''))];
  return rankRows(
    groups.flatMap((g) =>
      rowsOf(
        dimension,
        a.filter((c) => (c.group ?? '') === g),
        b.filter((c) => (c.group ?? '') === g),
        nA,
        nB,
        boundA(g),
        boundB(g),
      ),
    ),
  );
}

// The combined list: every dimension's rows whose difference is clear
// (score > 0), best first; when none is, the largest raw differences, marked
// by their score of 0.
export function biggestDifferences(rows: DiffRow[], count = 10): DiffRow[] {
  const ranked = rankRows([...rows]);
  const clear = ranked.filter((r) => r.score > 0);
  return (clear.length ? clear : ranked.filter((r) => r.delta !== 0)).slice(0, count);
}
