// The traces view: find traces with a filter expression in a time range (and
// group), see their response-time distribution (drag across it to narrow the
// list), and page through the list, live if asked. Everything on screen is in
// the URL: #/traces?q=…&range=…&group=…&trt=…&rt=lo-hi&sort=…&live=1
import { useEffect, useMemo, useState } from 'preact/hooks';
import type { TimeRangeType } from '../api/types';
import { ApiError, errorColumn } from '../api/xray';
import { addTerm, composeFilter, quote, responseTimeTerm } from '../lib/filter';
import { formatCount, formatDuration, formatPercent } from '../lib/format';
import { histogramOf, quantile } from '../lib/histogram';
import { formatHash, navigate, type Route } from '../lib/router';
import { parseRange, resolveRange } from '../lib/time';
import { ErrorBanner, Loading } from '../ui/common';
import { Histogram } from '../ui/histogram';
import { GroupSelect, TimeRangeTypeSelect } from '../ui/scope';
import { TimeRangePicker } from '../ui/time-range';
import { useAnalytics, vocabularyOf, vocabularyOfRows } from './analytics';
import { FilterInput } from './filter-input';
import { recentFilters, rememberFilter } from './recent';
import { parseSelection, formatSelection, parseSort } from './selection';
import { TraceList } from './trace-list';
import { loadAllCap, useTraceRows } from './trace-query';

export function TracesView({ route }: { route: Route }) {
  const p = route.params;
  const q = p.get('q') ?? '';
  const rangeText = p.get('range') ?? '';
  const group = p.get('group') ?? '';
  const trt: TimeRangeType = p.get('trt') === 'Event' ? 'Event' : 'TraceId';
  const selection = parseSelection(p.get('rt'));
  const sort = parseSort(p.get('sort'));
  const live = p.get('live') === '1';

  const [draft, setDraft] = useState(q);
  useEffect(() => setDraft(q), [q]);
  const [runs, setRuns] = useState(0); // re-resolves a relative range on Run
  const [picked, setPicked] = useState<string[]>([]);

  const params = (changes: Record<string, string | undefined>) => {
    const current: Record<string, string | undefined> = {
      q,
      range: rangeText || undefined,
      group: group || undefined,
      trt: trt === 'Event' ? 'Event' : undefined,
      rt: formatSelection(selection),
      sort: sort.key === 'start' && sort.descending ? undefined : `${sort.key}-${sort.descending ? 'desc' : 'asc'}`,
      live: live ? '1' : undefined,
    };
    return formatHash('traces', [], { ...current, ...changes });
  };
  const update = (changes: Record<string, string | undefined>, replace = false) => navigate(params(changes), { replace });

  const range = parseRange(rangeText);
  const timeWindow = useMemo(() => resolveRange(range), [rangeText, runs]);
  const groupTerm = group ? `group.name = ${quote(group)}` : '';
  const rtTerm = selection ? (Number.isFinite(selection[1]) ? responseTimeTerm(selection[0], selection[1]) : `responsetime >= ${selection[0]}`) : '';
  // The distribution shows the whole set; the list is narrowed to the selection.
  const setFilter = composeFilter(q, [groupTerm]);
  const listFilter = composeFilter(q, [groupTerm, rtTerm]);

  const analytics = useAnalytics(
    { expression: setFilter.expression, start: timeWindow.start, end: timeWindow.end, timeRangeType: trt },
    live,
  );
  const list = useTraceRows({ expression: listFilter.expression, start: timeWindow.start, end: timeWindow.end, timeRangeType: trt }, live);
  // Completion offers what the time range holds, whatever the filter says:
  // with a filter, the vocabulary comes from its own (bounded) query.
  const rangeFilter = composeFilter('', [groupTerm]).expression;
  const rangeAnalytics = useAnalytics(
    { expression: rangeFilter, start: timeWindow.start, end: timeWindow.end, timeRangeType: trt },
    false,
    { enabled: setFilter.expression !== rangeFilter && !analytics.unsupported, maxTraces: 20_000 },
  );
  const vocabularySource = setFilter.expression === rangeFilter ? analytics.data : rangeAnalytics.data;
  const vocabulary = useMemo(
    () => ({ ...(analytics.unsupported ? vocabularyOfRows(list.rows) : vocabularyOf(vocabularySource)), recent: recentFilters() }),
    [vocabularySource, analytics.unsupported, analytics.unsupported ? list.rows : null, runs],
  );

  // A filter error from the server, placed at its column in what was typed.
  const failure = [list.error, analytics.error].find((e) => e instanceof ApiError && e.status === 400 && /FilterExpression/.test(e.message)) as ApiError | undefined;
  const filterError = failure
    ? (() => {
        const message = failure.message.replace(/^FilterExpression:\s*/, '');
        const column = errorColumn(message);
        const userColumn = column !== undefined ? setFilter.userColumn(column) ?? listFilter.userColumn(column) : undefined;
        return { message: userColumn !== undefined && column !== undefined ? message.replace(`column ${column}`, `column ${userColumn}`) : message, ...(userColumn !== undefined ? { column: userColumn } : {}) };
      })()
    : null;
  const otherError = [list.error, analytics.error].find((e) => e && e !== failure && !(e instanceof ApiError && e.status === 404 && analytics.unsupported));

  // Without the analytics extension (another X-Ray API), the distribution is
  // drawn from the traces loaded so far.
  const histogram = useMemo(
    () =>
      analytics.data?.ResponseTimeHistogram ??
      (analytics.unsupported ? histogramOf(list.rows.flatMap((r) => (r.ResponseTime !== undefined ? [r.ResponseTime] : []))) : []),
    [analytics.data, analytics.unsupported, analytics.unsupported ? list.rows : null],
  );
  const histogramSeries = useMemo(() => [{ label: 'Traces', entries: histogram }], [histogram]);
  const status = analytics.data?.Status;
  const total = analytics.data?.TraceCount;
  const p50 = quantile(histogram, 0.5);
  const p90 = quantile(histogram, 0.9);
  const p99 = quantile(histogram, 0.99);

  const run = (text: string) => {
    // A pasted trace id opens that trace.
    if (/^\s*1-[0-9a-f]{8}-[0-9a-f]{24}\s*$/i.test(text)) {
      navigate(formatHash('trace', [text.trim().toLowerCase()]));
      return;
    }
    rememberFilter(text);
    setRuns((r) => r + 1);
    update({ q: text.trim() ? text : undefined });
  };

  return (
    <div class="page traces-view">
      <div class="toolbar" role="search" aria-label="Find traces">
        <GroupSelect value={group} onChange={(g) => update({ group: g || undefined })} />
        <TimeRangePicker value={rangeText} onChange={(r) => update({ range: r })} />
        <TimeRangeTypeSelect value={trt} onChange={(t) => update({ trt: t === 'Event' ? 'Event' : undefined })} />
        <label class="switch live-switch" title="Keep the list updating as traces arrive">
          <input type="checkbox" role="switch" aria-label="Live tail" checked={live} onChange={(e) => update({ live: e.currentTarget.checked ? '1' : undefined }, true)} />
          Live tail
          {live ? <span class="live-dot" aria-hidden="true" /> : null}
        </label>
        <div class="filter-row">
          <FilterInput value={draft} onChange={setDraft} onRun={run} vocabulary={vocabulary} error={filterError} />
          <button type="button" class="primary" onClick={() => run(draft)}>
            Run
          </button>
        </div>
      </div>
      <div class="page-scroll traces-body">
        <ErrorBanner error={otherError} />
        <section class="panel distribution" aria-label="Response time distribution">
          <div class="panel-head">
            <h2 style={{ margin: 0, fontSize: '13px' }}>Response time distribution</h2>
            <span class="muted small" data-testid="trace-count">
              {analytics.loading && !analytics.data ? (
                <Loading label="Counting" />
              ) : total !== undefined ? (
                <>
                  {formatCount(total)} traces
                  {analytics.data && !analytics.data.Complete ? ` (the most recent ${formatCount(analytics.data.TracesProcessedCount)} scanned)` : ''}
                </>
              ) : analytics.unsupported ? (
                `${formatCount(list.rows.length)} traces loaded`
              ) : null}
            </span>
            {status && total ? (
              <span class="status-shares small" aria-label="Status shares">
                <span class="status ok">{formatPercent(status.Ok / total)} ok</span>
                <span class="status error">{formatPercent(status.Error / total)} error</span>
                <span class="status throttle">{formatPercent(status.Throttle / total)} throttle</span>
                <span class="status fault">{formatPercent(status.Fault / total)} fault</span>
                {status.Partial ? <span class="status partial">{formatCount(status.Partial)} partial</span> : null}
              </span>
            ) : null}
            <span class="spacer" />
            {p50 !== undefined ? (
              <span class="muted small">
                p50 {formatDuration(p50)} · p90 {formatDuration(p90)} · p99 {formatDuration(p99)}
              </span>
            ) : null}
          </div>
          <div class="panel-body">
            <Histogram
              label="Response time distribution of the matching traces; drag across it to narrow the list"
              series={histogramSeries}
              selection={selection}
              onSelect={(s) => update({ rt: formatSelection(s) })}
            />
            <SelectionControls selection={selection} onChange={(s) => update({ rt: formatSelection(s) })} />
          </div>
        </section>
        <section class="panel list-panel" aria-label="Trace list">
          <div class="panel-head">
            <h2 style={{ margin: 0, fontSize: '13px' }}>Traces</h2>
            <span class="muted small" data-testid="loaded-count">
              {formatCount(list.rows.length)} loaded{list.done ? '' : ', more on scroll'}
              {sort.key !== 'start' || !sort.descending ? ` · sorted among the loaded traces` : ''}
            </span>
            {list.loading ? <Loading /> : null}
            <span class="spacer" />
            {!list.done ? (
              <button type="button" onClick={() => void list.loadAll()} title={`Follow NextToken to the end (at most ${formatCount(loadAllCap)} traces)`}>
                Load all
              </button>
            ) : null}
            <button type="button" disabled={picked.length !== 2} onClick={() => navigate(formatHash('diff', picked))} title="Tick two traces to diff them span by span">
              Diff selected ({picked.length}/2)
            </button>
            <a class="button-link" href={formatHash('compare', [], { a: q || undefined, range: rangeText || undefined, group: group || undefined })}>
              Compare this set…
            </a>
          </div>
          {list.rows.length === 0 && !list.loading && !list.error ? (
            <div class="empty">
              No traces match{q ? ` ${q}` : ''} in this time range.
              {live ? ' Waiting for new ones (live tail is on).' : ''}
            </div>
          ) : (
            <TraceList
              rows={list.rows}
              sort={sort}
              onSort={(s) => update({ sort: s.key === 'start' && s.descending ? undefined : `${s.key}-${s.descending ? 'desc' : 'asc'}` }, true)}
              fresh={list.fresh}
              done={list.done}
              loading={list.loading}
              onLoadMore={list.loadMore}
              onAddTerm={(term) => run(addTerm(q, term))}
              onOpen={(id) => navigate(formatHash('trace', [id]))}
              picked={picked}
              onPick={setPicked}
            />
          )}
        </section>
      </div>
    </div>
  );
}

// Keyboard-friendly twin of the histogram's drag: response time bounds.
function SelectionControls({ selection, onChange }: { selection: [number, number] | null; onChange: (s: [number, number] | null) => void }) {
  const [lo, setLo] = useState('');
  const [hi, setHi] = useState('');
  useEffect(() => {
    setLo(selection ? String(selection[0]) : '');
    setHi(selection && Number.isFinite(selection[1]) ? String(selection[1]) : '');
  }, [selection?.[0], selection?.[1]]);
  const apply = (e: Event) => {
    e.preventDefault();
    const a = lo.trim() === '' ? 0 : Number(lo);
    const b = hi.trim() === '' ? Infinity : Number(hi);
    if (Number.isFinite(a) && b > a) onChange([a, b]);
  };
  return (
    <form class="row small selection-controls" onSubmit={apply}>
      <span class="muted">Response time</span>
      <label class="inline">
        from
        <input type="text" inputMode="decimal" size={6} aria-label="Response time from (seconds)" value={lo} onInput={(e) => setLo(e.currentTarget.value)} />
      </label>
      <label class="inline">
        to
        <input type="text" inputMode="decimal" size={6} aria-label="Response time to (seconds)" placeholder="∞" value={hi} onInput={(e) => setHi(e.currentTarget.value)} />
      </label>
      <span class="muted">s</span>
      <button type="submit">Narrow</button>
      {selection ? (
        <button type="button" data-testid="clear-selection" onClick={() => onChange(null)}>
          Clear selection ({formatDuration(selection[0])} – {Number.isFinite(selection[1]) ? formatDuration(selection[1]) : '∞'})
        </button>
      ) : (
        <span class="muted">or drag across the chart</span>
      )}
    </form>
  );
}
