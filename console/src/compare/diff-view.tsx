// Two traces diffed span by span (#/diff/<A>/<B>): their segments and
// subsegments aligned into one tree, with each span's duration in A and B,
// the difference, the status on each side, and the spans only one of them has.
import { useEffect, useMemo, useState } from 'preact/hooks';
import { formatCount, formatDuration } from '../lib/format';
import { formatHash, navigate, type Route } from '../lib/router';
import { ErrorBanner, Loading } from '../ui/common';
import { compareHash, diffHash, parseDiff } from './compare-params';
import { loadTraces, useAsync } from './data';
import { DiffPicker } from './diff-picker';
import { DiffRows, formatDelta, formatDeltaPct } from './diff-rows';
import { ancestors, biggestSelfDifferences, diffTraces, minDelta, minDeltaShare, type Order, visibleRows } from './span-diff';
import { buildSpanTree } from './span-tree';

export default function DiffView({ route }: { route: Route }) {
  const { a, b, from } = parseDiff(route.parts, route.params);
  if (!a || !b)
    return (
      <div class="page diff-view">
        <div class="page-scroll compare-body">
          <DiffPicker {...(a ? { a } : {})} {...(b ? { b } : {})} {...(from ? { from } : {})} />
        </div>
      </div>
    );
  return <TraceDiffView key={`${a}|${b}`} a={a} b={b} from={from} />;
}

function TraceDiffView({ a, b, from }: { a: string; b: string; from: ReturnType<typeof parseDiff>['from'] }) {
  const traces = useAsync(`${a}|${b}`, (signal) => loadTraces(a, b, signal));
  const diff = useMemo(() => {
    const t = traces.data;
    if (!t?.a || !t.b) return null;
    return diffTraces(buildSpanTree(t.a), buildSpanTree(t.b));
  }, [traces.data]);
  const [collapsed, setCollapsed] = useState<ReadonlySet<number>>(new Set());
  const [hideUnchanged, setHideUnchanged] = useState(false);
  const [order, setOrder] = useState<Order>('tree');
  const [focused, setFocused] = useState(0);
  const [scrollTo, setScrollTo] = useState<{ row: number; seq: number } | null>(null);
  const [pendingJump, setPendingJump] = useState<number | null>(null);

  const rows = useMemo(() => (diff ? visibleRows(diff, collapsed, hideUnchanged, order) : []), [diff, collapsed, hideUnchanged, order]);
  const maxImpact = useMemo(() => (diff ? Math.max(0, ...diff.roots.map((r) => diff.nodes[r]!.impact)) : 0), [diff]);
  const biggest = useMemo(() => (diff ? biggestSelfDifferences(diff, 5) : []), [diff]);
  useEffect(() => {
    if (focused >= rows.length && rows.length) setFocused(rows.length - 1);
  }, [rows.length]);
  // A jump lands once the rows it expanded are drawn.
  useEffect(() => {
    if (pendingJump === null) return;
    const row = rows.indexOf(pendingJump);
    if (row >= 0) {
      setFocused(row);
      setScrollTo({ row, seq: Date.now() });
    }
    setPendingJump(null);
  }, [rows, pendingJump]);

  const toggle = (node: number) => {
    const next = new Set(collapsed);
    if (next.has(node)) next.delete(node);
    else next.add(node);
    setCollapsed(next);
  };
  const jump = (node: number) => {
    if (!diff) return;
    const next = new Set(collapsed);
    for (const p of ancestors(diff, node)) next.delete(p);
    setCollapsed(next);
    if (hideUnchanged && !diff.nodes[node]!.changedBelow) setHideUnchanged(false);
    setPendingJump(node);
  };
  const collapseAll = () => {
    if (!diff) return;
    setCollapsed(new Set(diff.nodes.flatMap((n, i) => (n.children.length && n.depth >= 1 ? [i] : []))));
  };

  const t = diff?.totals;
  const missing = traces.data?.missing ?? [];
  return (
    <div class="page diff-view">
      <div class="toolbar diff-toolbar" aria-label="Trace diff">
        <h1 class="diff-title">Trace diff</h1>
        <div class="trace-ids">
          <div>
            <span class="side-badge side-a">A</span> <a class="mono" href={formatHash('trace', [a])} data-testid="trace-a">{a}</a>
            <a class="small change" href={diffHash(undefined, b, from)}>change</a>
          </div>
          <div>
            <span class="side-badge side-b">B</span> <a class="mono" href={formatHash('trace', [b])} data-testid="trace-b">{b}</a>
            <a class="small change" href={diffHash(a, undefined, from)}>change</a>
          </div>
        </div>
        <button type="button" onClick={() => navigate(diffHash(b, a, from))} title="Swap A and B">
          Swap A ⇄ B
        </button>
        {from ? (
          <a class="button-link" href={compareHash(from)}>
            Back to the sets
          </a>
        ) : (
          <a class="button-link" href={formatHash('compare')}>
            Compare sets
          </a>
        )}
      </div>
      <div class="diff-body">
        <ErrorBanner error={traces.error} context="Could not load the traces" />
        {missing.length ? (
          <div class="banner error" role="alert">
            The server has no trace {missing.join(' or ')}.{' '}
            <a href={diffHash(missing.includes(a) ? undefined : a, missing.includes(b) ? undefined : b, from)}>Choose another</a>
          </div>
        ) : null}
        {traces.loading ? (
          <div class="empty">
            <Loading label="Loading both traces" />
          </div>
        ) : null}
        {diff && t ? (
          <>
            <section class="panel diff-summary" aria-label="Totals">
              <dl class="totals">
                <div>
                  <dt>Duration A</dt>
                  <dd data-testid="total-a">{formatDuration(t.aDuration)}</dd>
                </div>
                <div>
                  <dt>Duration B</dt>
                  <dd data-testid="total-b">{formatDuration(t.bDuration)}</dd>
                </div>
                <div>
                  <dt>Δ (A − B)</dt>
                  <dd class={t.aDuration > t.bDuration ? 'slower' : t.aDuration < t.bDuration ? 'faster' : ''}>
                    {formatDelta(t.aDuration - t.bDuration)} <span class="muted small">{formatDeltaPct(t.bDuration > 0 ? (t.aDuration - t.bDuration) / t.bDuration : undefined)}</span>
                  </dd>
                </div>
                <div>
                  <dt>Spans</dt>
                  <dd>
                    {formatCount(t.aSpans)} in A, {formatCount(t.bSpans)} in B
                  </dd>
                </div>
                <div>
                  <dt>Matched</dt>
                  <dd data-testid="matched">{formatCount(t.matched)}</dd>
                </div>
                <div>
                  <dt>Only in A</dt>
                  <dd data-testid="only-a" class={t.onlyA ? 'onlyA-text' : ''}>{formatCount(t.onlyA)}</dd>
                </div>
                <div>
                  <dt>Only in B</dt>
                  <dd data-testid="only-b" class={t.onlyB ? 'onlyB-text' : ''}>{formatCount(t.onlyB)}</dd>
                </div>
                <div>
                  <dt>Status changed</dt>
                  <dd data-testid="status-changed">{formatCount(t.statusChanged)}</dd>
                </div>
                <div>
                  <dt>Duration changed</dt>
                  <dd>{formatCount(t.durationChanged)}</dd>
                </div>
              </dl>
              {biggest.length ? (
                <div class="where-time small">
                  <span class="muted">Where the time differs most (own time, less children):</span>
                  {biggest.map((i) => {
                    const n = diff.nodes[i]!;
                    const self = n.side === 'both' ? (n.aSelf ?? 0) - (n.bSelf ?? 0) : n.side === 'onlyA' ? n.aSelf ?? 0 : -(n.bSelf ?? 0);
                    return (
                      <button type="button" class="chip" onClick={() => jump(i)} title="Show this span">
                        {n.name} <span class="k">{n.side === 'both' ? formatDelta(self) : `${formatDelta(self)}, only in ${n.side === 'onlyA' ? 'A' : 'B'}`}</span>
                      </button>
                    );
                  })}
                </div>
              ) : null}
            </section>
            <div class="row diff-controls" role="group" aria-label="Diff display">
              <label class="switch">
                <input type="checkbox" role="switch" checked={hideUnchanged} onChange={(e) => setHideUnchanged(e.currentTarget.checked)} />
                Hide unchanged spans
              </label>
              <span class="muted small" title="">
                unchanged: same status, and durations within {minDeltaShare * 100}% or {minDelta * 1000} ms
              </span>
              <label class="inline small">
                Order
                <select value={order} onChange={(e) => setOrder(e.currentTarget.value as Order)}>
                  <option value="tree">as in the traces</option>
                  <option value="impact">biggest difference first</option>
                </select>
              </label>
              <button type="button" onClick={() => setCollapsed(new Set())}>
                Expand all
              </button>
              <button type="button" onClick={collapseAll}>
                Collapse all
              </button>
              <span class="spacer grow" />
              <span class="legend small">
                <span class="tag side-tag onlyA">only in A</span> <span class="tag side-tag onlyB">only in B</span>{' '}
                <span class="delta slower">A slower</span> · <span class="delta faster">A faster</span>
              </span>
            </div>
            {rows.length ? (
              <DiffRows
                diff={diff}
                rows={rows}
                collapsed={collapsed}
                onToggle={toggle}
                focused={Math.min(focused, rows.length - 1)}
                onFocus={setFocused}
                scrollTo={scrollTo}
                maxImpact={maxImpact}
              />
            ) : (
              <p class="empty">No span differs: the two traces have the same spans, statuses and (within the margin) durations.</p>
            )}
          </>
        ) : null}
      </div>
    </div>
  );
}
