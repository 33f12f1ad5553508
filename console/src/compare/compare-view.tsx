// Compare: two sets of traces side by side (A, the selection, against B, the
// baseline): counts, response time, status, and every root cause,
// annotation value, user, URL, HTTP status and service ranked by how much
// more (or less) of each set has it; then single traces of each to diff.
import { useEffect, useMemo, useState } from 'preact/hooks';
import { ApiError, errorColumn } from '../api/xray';
import { addTerm, responseTimeTerm } from '../lib/filter';
import type { ComposedFilter } from '../lib/filter';
import { quantile } from '../lib/histogram';
import { navigate, type Route } from '../lib/router';
import { parseRange, resolveRange } from '../lib/time';
import { ErrorBanner, Loading } from '../ui/common';
import { GroupSelect, TimeRangeTypeSelect } from '../ui/scope';
import { TimeRangePicker } from '../ui/time-range';
import { vocabularyOf } from '../traces/analytics';
import { FilterInput } from '../traces/filter-input';
import { type CompareParams, compareHash, fixedPresets, groupTerm, parseCompare, setFilters, slowFast, swap, userVsEveryone } from './compare-params';
import { loadSetAnalytics, type SetQuery, useSetAnalytics, valueLimit } from './data';
import { DiffTable, rankingNote } from './diff-table';
import { compareSets, type Dimension } from './set-diff';
import { coverageNote } from './coverage';
import { SetSummary } from './set-summary';
import { TracePicker } from './trace-picker';
import { quantiles } from './typical';

const tables: { dimension: Dimension; title: string }[] = [
  { dimension: 'rootcause', title: 'Root causes' },
  { dimension: 'annotation', title: 'Annotations' },
  { dimension: 'user', title: 'Users' },
  { dimension: 'url', title: 'URLs' },
  { dimension: 'httpstatus', title: 'HTTP status' },
  { dimension: 'method', title: 'HTTP method' },
  { dimension: 'service', title: 'Services' },
];

// A server error about a filter, placed at its column in what was typed.
function filterError(error: unknown, filter: ComposedFilter): { message: string; column?: number } | null {
  if (!(error instanceof ApiError) || error.status !== 400 || !/FilterExpression/.test(error.message)) return null;
  const message = error.message.replace(/^FilterExpression:\s*/, '');
  const column = errorColumn(message);
  const user = column !== undefined ? filter.userColumn(column) : undefined;
  if (user === undefined || column === undefined) return { message };
  return { message: message.replace(`column ${column}`, `column ${user}`), column: user };
}

export default function CompareView({ route }: { route: Route }) {
  const p = parseCompare(route.params);
  const [draftA, setDraftA] = useState(p.a);
  const [draftB, setDraftB] = useState(p.b);
  useEffect(() => setDraftA(p.a), [p.a]);
  useEffect(() => setDraftB(p.b), [p.b]);
  const [runs, setRuns] = useState(0); // a run re-resolves a relative range

  const go = (next: Partial<CompareParams>) => {
    setRuns((r) => r + 1);
    navigate(compareHash({ ...p, ...next }));
  };
  const run = () => go({ a: draftA, b: draftB });

  const span = useMemo(() => resolveRange(parseRange(p.range)), [p.range, runs]);
  const filters = setFilters(p);
  const active = Boolean(p.a.trim() || p.b.trim());
  const query = (expression: string): SetQuery => ({ expression, start: span.start, end: span.end, trt: p.trt });
  const qa = active ? query(filters.a.expression) : null;
  const qb = active ? query(filters.b.expression) : null;
  const A = useSetAnalytics(qa);
  const B = useSetAnalytics(qb);
  const diff = useMemo(() => (A.data && B.data ? compareSets(A.data.analytics, B.data.analytics, valueLimit) : null), [A.data, B.data]);

  const errorA = filterError(A.error, filters.a);
  const errorB = filters.bIsRest ? null : filterError(B.error, filters.b);
  const otherErrors = [A.error && !errorA ? A.error : null, B.error && !errorB && !(filters.bIsRest && errorA) ? B.error : null].filter(Boolean);
  const onAdd = (term: string) => go({ a: addTerm(p.a, term) });
  const vocabulary = useMemo(() => vocabularyOf(B.data?.analytics ?? A.data?.analytics ?? null), [A.data, B.data]);

  const sideA = A.data && { name: 'A' as const, title: 'Selection', filter: p.a.trim() || 'every trace', data: A.data.analytics, computed: A.data.computed };
  const sideB = B.data && {
    name: 'B' as const,
    title: 'Baseline',
    filter: filters.bIsRest ? `every trace not in A: !(${p.a.trim()})` : p.b.trim() || 'every trace',
    data: B.data.analytics,
    computed: B.data.computed,
  };
  const notes = [sideA, sideB].map((s) => (s ? coverageNote(s) : null)).filter(Boolean);

  return (
    <div class="page compare-view">
      <CompareToolbar
        p={p}
        draftA={draftA}
        draftB={draftB}
        setDraftA={setDraftA}
        setDraftB={setDraftB}
        errorA={errorA}
        errorB={errorB}
        vocabulary={vocabulary}
        run={run}
        go={go}
        span={span}
      />
      <div class="page-scroll compare-body">
        {otherErrors.map((e) => (
          <ErrorBanner error={e} />
        ))}
        {notes.map((n) => (
          <div class="banner warn" role="status" data-testid="coverage-note">
            {n}
          </div>
        ))}
        {!active ? (
          <div class="empty intro">
            <p>
              Compare a <strong>selection</strong> (A) of traces with a <strong>baseline</strong> (B): type a filter for each, or start from a
              preset above. An empty baseline means every other trace in the range.
            </p>
          </div>
        ) : (A.loading || B.loading) && !diff ? (
          <div class="empty">
            <Loading label="Comparing" />
          </div>
        ) : diff && sideA && sideB ? (
          <>
            <SetSummary
              A={sideA}
              B={sideB}
              params={p}
              statusRows={diff.byDimension.status}
              onAdd={onAdd}
              onSelectRange={([lo, hi]) => onAdd(Number.isFinite(hi) ? responseTimeTerm(lo, hi) : `responsetime >= ${lo}`)}
            />
            <section class="panel biggest-panel" aria-label="Biggest differences">
              <div class="panel-head">
                <h2>Biggest differences</h2>
                <span class="muted small ranking-note">{rankingNote}</span>
              </div>
              <DiffTable rows={diff.biggest} label="Biggest differences across all dimensions" params={p} onAdd={onAdd} showDimension initial={10} testId="biggest-table" />
            </section>
            <div class="dimension-grid">
              {tables.map((t) => (
                <section class="panel" aria-label={t.title}>
                  <div class="panel-head">
                    <h2>{t.title}</h2>
                    <span class="muted small">ranked by difference; click a value to add it to A</span>
                  </div>
                  <DiffTable rows={diff.byDimension[t.dimension]} label={`${t.title}: A against B`} params={p} onAdd={onAdd} testId={`table-${t.dimension}`} />
                </section>
              ))}
            </div>
            <TracePicker
              key={`${qa && qa.expression}|${qb && qb.expression}|${span.start}`}
              params={p}
              a={qa}
              b={qb}
              aTarget={quantiles(sideA.data.ResponseTimeHistogram).p90}
              bTarget={quantiles(sideB.data.ResponseTimeHistogram).p50}
            />
          </>
        ) : null}
      </div>
    </div>
  );
}

interface ToolbarProps {
  p: CompareParams;
  draftA: string;
  draftB: string;
  setDraftA: (s: string) => void;
  setDraftB: (s: string) => void;
  errorA: { message: string; column?: number } | null;
  errorB: { message: string; column?: number } | null;
  vocabulary: ReturnType<typeof vocabularyOf>;
  run: () => void;
  go: (next: Partial<CompareParams>) => void;
  span: { start: number; end: number };
}

function CompareToolbar({ p, draftA, draftB, setDraftA, setDraftB, errorA, errorB, vocabulary, run, go, span }: ToolbarProps) {
  const [presetBusy, setPresetBusy] = useState(false);
  const [presetError, setPresetError] = useState<unknown>(null);
  const [users, setUsers] = useState<string[] | null>(null);
  // The whole range (in the group): its p90 splits slow from fast, its users
  // are offered for "this user vs everyone".
  const rangeFigures = async () => {
    setPresetBusy(true);
    setPresetError(null);
    try {
      const r = await loadSetAnalytics({ expression: p.group ? groupTerm(p.group) : '', start: span.start, end: span.end, trt: p.trt });
      return r.analytics;
    } catch (e) {
      setPresetError(e);
      return null;
    } finally {
      setPresetBusy(false);
    }
  };
  const slow = async () => {
    const r = await rangeFigures();
    if (!r) return;
    const split = quantile(r.ResponseTimeHistogram, 0.9);
    if (split === undefined) setPresetError(new Error('No traces with a response time in this range'));
    else go({ ...slowFast(split) });
  };
  const pickUser = async () => {
    if (users) return setUsers(null);
    const r = await rangeFigures();
    if (r) setUsers(r.Users.map((u) => u.Value));
  };

  return (
    <div class="toolbar compare-toolbar" role="search" aria-label="Choose the sets to compare">
      <GroupSelect value={p.group} onChange={(group) => go({ group })} />
      <TimeRangePicker id="compare-range" value={p.range} onChange={(range) => go({ range })} />
      <TimeRangeTypeSelect value={p.trt} onChange={(trt) => go({ trt })} />
      <div class="presets row" role="group" aria-label="Presets">
        <span class="muted small">Presets:</span>
        <button type="button" onClick={slow} disabled={presetBusy} title="A: traces at or above the range’s p90 response time; B: the faster ones">
          Slow vs fast
        </button>
        {fixedPresets.map((x) => (
          <button type="button" onClick={() => go({ a: x.a, b: x.b })}>
            {x.label}
          </button>
        ))}
        <button type="button" aria-expanded={users !== null} onClick={pickUser} disabled={presetBusy}>
          A user vs everyone…
        </button>
        {presetBusy ? <Loading label="Reading the range" /> : null}
      </div>
      {users ? (
        <div class="user-choices row" role="group" aria-label="Users of the range">
          {users.length ? (
            users.map((u) => (
              <button type="button" class="chip" onClick={() => (setUsers(null), go({ ...userVsEveryone(u) }))}>
                {u}
              </button>
            ))
          ) : (
            <span class="muted small">No users in this range.</span>
          )}
        </div>
      ) : null}
      <ErrorBanner error={presetError} context="Preset" />
      <div class="set-inputs">
        <div class="set-input">
          <span class="side-badge side-a" aria-hidden="true">A</span>
          <span class="set-label" aria-hidden="true">Selection</span>
          <FilterInput id="compare-a" label="A · Selection filter" value={draftA} onChange={setDraftA} onRun={run} vocabulary={vocabulary} error={errorA} placeholder='e.g. fault, responsetime >= 1, annotation.email = "…"' />
        </div>
        <div class="set-input">
          <span class="side-badge side-b" aria-hidden="true">B</span>
          <span class="set-label" aria-hidden="true">Baseline</span>
          <FilterInput id="compare-b" label="B · Baseline filter" value={draftB} onChange={setDraftB} onRun={run} vocabulary={vocabulary} error={errorB} placeholder="empty: every trace in the range not in A" />
        </div>
        <div class="set-actions row">
          <button type="button" class="primary" onClick={run}>
            Compare
          </button>
          <button type="button" onClick={() => go(swap({ ...p, a: draftA, b: draftB }))} title="Swap A and B">
            Swap A ⇄ B
          </button>
        </div>
      </div>
    </div>
  );
}
