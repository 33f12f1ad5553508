// The span-by-span diff as one tree (a WAI-ARIA treegrid): name, A and B
// durations, Δ (A − B) absolute and relative with a bar scaled to the largest
// difference, and the status on each side. Only the rows in view are drawn.
// Keys: ↑/↓ move, → expands (or steps into), ← collapses (or steps out),
// Home/End, Enter toggles.
import { useEffect, useRef } from 'preact/hooks';
import { formatDuration, type Status } from '../lib/format';
import { StatusBadge } from '../ui/common';
import { useVirtual } from '../ui/virtual';
import type { DiffNode, TraceDiff } from './span-diff';

export const rowHeight = 26;

export function formatDelta(d: number | undefined): string {
  if (d === undefined) return '—';
  if (d === 0) return '0';
  return `${d > 0 ? '+' : '−'}${formatDuration(Math.abs(d))}`;
}

export function formatDeltaPct(p: number | undefined): string {
  if (p === undefined || !Number.isFinite(p)) return '';
  const v = p * 100;
  if (Math.abs(v) < 0.5) return '0%';
  return `${v > 0 ? '+' : '−'}${Math.abs(v) < 10 ? Math.abs(v).toFixed(1) : Math.round(Math.abs(v))}%`;
}

function StatusCell({ status, inProgress, changed }: { status?: Status; inProgress: boolean; changed: boolean }) {
  if (!status) return <span class="muted">—</span>;
  return (
    <span class={changed ? 'status-changed' : ''}>
      <StatusBadge status={status} partial={inProgress} />
    </span>
  );
}

function sideText(n: DiffNode): string {
  if (n.side === 'onlyA') return 'only in A';
  if (n.side === 'onlyB') return 'only in B';
  return '';
}

interface Props {
  diff: TraceDiff;
  rows: number[]; // visible diff nodes, in order
  collapsed: ReadonlySet<number>;
  onToggle: (node: number) => void;
  focused: number; // index into rows
  onFocus: (row: number) => void;
  scrollTo: { row: number; seq: number } | null; // a request to bring a row into view
  maxImpact: number;
}

export function DiffRows({ diff, rows, collapsed, onToggle, focused, onFocus, scrollTo, maxImpact }: Props) {
  const { ref, win, scrollToRow } = useVirtual(rows.length, rowHeight);
  const wantFocus = useRef(false);

  useEffect(() => {
    if (scrollTo) {
      scrollToRow(scrollTo.row);
      wantFocus.current = true;
    }
  }, [scrollTo?.seq]);
  // Moves DOM focus to the focused row once it is drawn.
  useEffect(() => {
    if (!wantFocus.current) return;
    const el = ref.current?.querySelector<HTMLElement>(`[data-row="${focused}"]`);
    if (el) {
      el.focus({ preventScroll: true });
      wantFocus.current = false;
    }
  });

  const move = (row: number) => {
    const r = Math.max(0, Math.min(rows.length - 1, row));
    onFocus(r);
    scrollToRow(r);
    wantFocus.current = true;
  };
  const onKeyDown = (e: KeyboardEvent) => {
    const node = rows[focused];
    if (node === undefined) return;
    const n = diff.nodes[node]!;
    const open = n.children.length > 0 && !collapsed.has(node);
    let handled = true;
    if (e.key === 'ArrowDown') move(focused + 1);
    else if (e.key === 'ArrowUp') move(focused - 1);
    else if (e.key === 'Home') move(0);
    else if (e.key === 'End') move(rows.length - 1);
    else if (e.key === 'PageDown') move(focused + 20);
    else if (e.key === 'PageUp') move(focused - 20);
    else if (e.key === 'ArrowRight') {
      if (n.children.length && !open) onToggle(node);
      else if (open) move(focused + 1);
    } else if (e.key === 'ArrowLeft') {
      if (open) onToggle(node);
      else if (n.parent >= 0) {
        const p = rows.indexOf(n.parent);
        if (p >= 0) move(p);
      }
    } else if (e.key === 'Enter' || e.key === ' ') {
      if (n.children.length) onToggle(node);
    } else handled = false;
    if (handled) e.preventDefault();
  };

  const slice = rows.slice(win.first, win.last);
  return (
    <div class="diff-grid" role="treegrid" aria-label="Spans of A and B, aligned" aria-rowcount={rows.length + 1} onKeyDown={onKeyDown}>
      <div class="diff-row head" role="row" aria-rowindex={1}>
        <div role="columnheader">Span</div>
        <div role="columnheader" class="num">A</div>
        <div role="columnheader" class="num">B</div>
        <div role="columnheader" class="num">Δ (A − B)</div>
        <div role="columnheader" class="num">Δ %</div>
        <div role="columnheader">
          <span class="sr-only">Difference bar</span>
        </div>
        <div role="columnheader">Status A</div>
        <div role="columnheader">Status B</div>
      </div>
      <div class="diff-scroll" ref={ref} data-testid="diff-scroll" role="rowgroup">
        <div style={{ height: `${win.total}px`, position: 'relative' }} role="none">
          <div style={{ transform: `translateY(${win.offset}px)` }} role="none">
            {slice.map((node, k) => {
              const row = win.first + k;
              const n = diff.nodes[node]!;
              const hasKids = n.children.length > 0;
              const open = hasKids && !collapsed.has(node);
              const barWidth = maxImpact > 0 && n.delta !== undefined ? Math.min(50, (Math.abs(n.delta) / maxImpact) * 50) : 0;
              const oneSided = maxImpact > 0 && n.side !== 'both' ? Math.min(50, (((n.aDuration ?? n.bDuration) ?? 0) / maxImpact) * 50) : 0;
              return (
                <div
                  key={node}
                  role="row"
                  aria-level={n.depth + 1}
                  aria-expanded={hasKids ? open : undefined}
                  aria-rowindex={row + 2}
                  aria-selected={row === focused}
                  tabIndex={row === focused ? 0 : -1}
                  data-row={row}
                  data-side={n.side}
                  data-name={n.name}
                  class={`diff-row ${n.side} ${n.changed ? 'changed' : 'same'} ${row === focused ? 'focused' : ''}`}
                  style={{ height: `${rowHeight}px` }}
                  onClick={() => onFocus(row)}
                >
                  <div role="gridcell" class="name-cell" style={{ paddingLeft: `${4 + n.depth * 14}px` }}>
                    <span
                      class={`toggle ${hasKids ? '' : 'leaf'}`}
                      aria-hidden="true"
                      onClick={(e) => {
                        e.stopPropagation();
                        if (hasKids) onToggle(node);
                        onFocus(row);
                      }}
                    >
                      {hasKids ? (open ? '▾' : '▸') : ''}
                    </span>
                    <span class={`span-name ellipsis ${n.segment ? 'segment' : ''}`} title={n.name}>
                      {n.name}
                    </span>
                    {n.bName !== undefined ? (
                      <span class="tag renamed-tag" title={`B names this span ${n.bName}`}>
                        in B: {n.bName}
                      </span>
                    ) : null}
                    {n.detail ? <span class="tag detail">{n.detail}</span> : null}
                    {n.side !== 'both' ? <span class={`tag side-tag ${n.side}`}>{sideText(n)}</span> : null}
                    {n.statusChanged ? <span class="tag status-tag">status changed</span> : null}
                  </div>
                  <div role="gridcell" class="num">
                    {formatDuration(n.aDuration)}
                    {n.a >= 0 && n.aDuration === undefined ? <span class="muted"> in progress</span> : null}
                  </div>
                  <div role="gridcell" class="num">
                    {formatDuration(n.bDuration)}
                    {n.b >= 0 && n.bDuration === undefined ? <span class="muted"> in progress</span> : null}
                  </div>
                  <div role="gridcell" class={`num delta ${n.durationChanged ? (n.delta! > 0 ? 'slower' : 'faster') : ''}`}>
                    {formatDelta(n.delta)}
                  </div>
                  <div role="gridcell" class="num muted">
                    {formatDeltaPct(n.deltaPct)}
                  </div>
                  <div role="gridcell" class="bar-cell" aria-hidden="true">
                    {n.side === 'both' ? (
                      <span class={`delta-bar ${n.delta! >= 0 ? 'slower' : 'faster'}`} style={{ width: `${barWidth}%`, [n.delta! >= 0 ? 'left' : 'right']: '50%' }} />
                    ) : (
                      <span class={`delta-bar ${n.side}`} style={{ width: `${oneSided}%`, [n.side === 'onlyA' ? 'left' : 'right']: '50%' }} />
                    )}
                  </div>
                  <div role="gridcell">
                    <StatusCell status={n.aStatus} inProgress={n.aInProgress} changed={n.statusChanged} />
                  </div>
                  <div role="gridcell">
                    <StatusCell status={n.bStatus} inProgress={n.bInProgress} changed={n.statusChanged} />
                  </div>
                </div>
              );
            })}
          </div>
        </div>
      </div>
    </div>
  );
}
