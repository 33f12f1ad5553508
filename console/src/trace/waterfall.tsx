// The waterfall: every segment and subsegment as a row of a tree grid, on a
// shared, zoomable time scale. Only the rows in view are rendered
// (ui/virtual.ts), so a trace of thousands of spans costs a screenful.
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import { useElementWidth } from '../ui/size';
import { useVirtual } from '../ui/virtual';
import { formatInt } from './fmt';
import { findSpans } from './find';
import { Minimap } from './minimap';
import type { Row } from './rows';
import type { SpanTree } from './spans';
import { TimeAxis } from './time-axis';
import { isFull, makeScale, ticks as makeTicks, type ViewWindow } from './timescale';
import { marks } from './use-trace';
import type { WaterfallState } from './waterfall-state';
import { WaterfallRow, rowHeight, rowId } from './waterfall-row';

const legend = [
  ['s-ok', 'OK'],
  ['s-error', 'Error'],
  ['s-throttle', 'Throttle'],
  ['s-fault', 'Fault'],
  ['progress', 'In progress'],
] as const;

interface Props {
  tree: SpanTree;
  state: WaterfallState;
  critical: Map<number, { start: number; end: number }[]> | null;
  showCritical: boolean;
  onShowCritical: (on: boolean) => void;
  onOpenDetails: () => void;
  gridRef: { current: HTMLDivElement | null };
}

export function Waterfall({ tree, state, critical, showCritical, onShowCritical, onOpenDetails, gridRef }: Props) {
  const { rows, rowIndex, selected } = state;
  const { ref, win, scrollToRow, viewport } = useVirtual(rows.length, rowHeight, 10);
  const [window, setWindow] = useState<ViewWindow>({ from: 0, to: 1 });
  // The names column: a share of the width until the user sets it.
  const [chosenName, setNameWidth] = useState<number | null>(null);
  const box = useRef<HTMLDivElement>(null);
  const width = useElementWidth(box, 1000);
  const nameWidth = chosenName ?? Math.round(Math.max(250, Math.min(440, width * 0.38)));
  const axisWidth = Math.max(100, width - nameWidth - 78 - 16);
  const scale = useMemo(() => makeScale(tree.start, tree.end, window), [tree, window]);
  const tickList = useMemo(() => makeTicks(scale, Math.max(2, Math.floor(axisWidth / 80))), [scale, axisWidth]);
  const selectedIndex = selected ? rowIndex.get(selected.key) ?? -1 : -1;
  useEffect(() => {
    gridRef.current = ref.current;
  });

  // Rows on screen for this trace: the mark the open-time measurement ends on.
  const marked = useRef<SpanTree | null>(null);
  useLayoutEffect(() => {
    if (marked.current === tree || rows.length === 0) return;
    marked.current = tree;
    try {
      performance.mark(marks.rows);
    } catch {
      // a measurement aid only
    }
  }, [tree, rows]);

  // A selection that came from the URL (or a click elsewhere) is scrolled
  // to the middle of the view; so is one the details panel's opening or a
  // resize pushed out of view.
  useEffect(() => {
    const el = ref.current;
    if (!el || selectedIndex < 0) return;
    const top = selectedIndex * rowHeight;
    if (top < el.scrollTop || top + rowHeight > el.scrollTop + el.clientHeight) {
      el.scrollTop = Math.max(0, top - el.clientHeight / 2);
    }
  }, [state.revealed, viewport]);

  const moveTo = (i: number) => {
    const r = rows[Math.max(0, Math.min(rows.length - 1, i))];
    if (!r) return;
    state.select(r.node.key);
    scrollToRow(rows.indexOf(r));
  };
  const toggleRow = (r: Row) => state.toggle(r.node, !r.open);
  const onKey = (e: KeyboardEvent) => {
    const i = selectedIndex;
    const r = i >= 0 ? rows[i] : undefined;
    const page = Math.max(1, Math.floor(viewport / rowHeight) - 1);
    switch (e.key) {
      case 'ArrowDown':
        moveTo(i + 1);
        break;
      case 'ArrowUp':
        moveTo(i < 0 ? 0 : i - 1);
        break;
      case 'PageDown':
        moveTo(i + page);
        break;
      case 'PageUp':
        moveTo(i - page);
        break;
      case 'Home':
        moveTo(0);
        break;
      case 'End':
        moveTo(rows.length - 1);
        break;
      case 'ArrowRight':
        if (!r) moveTo(0);
        else if (r.hasChildren && !r.open) toggleRow(r);
        else if (r.hasChildren) moveTo(i + 1);
        break;
      case 'ArrowLeft':
        if (!r) break;
        if (r.hasChildren && r.open) toggleRow(r);
        else if (r.node.parent) moveTo(rowIndex.get(r.node.parent.key) ?? i);
        break;
      case 'Enter':
        if (r) onOpenDetails();
        break;
      default:
        return;
    }
    e.preventDefault();
  };

  // Find: matching rows are marked; Enter and the arrows step through them.
  const [query, setQuery] = useState('');
  const matches = useMemo(() => findSpans(tree, query), [tree, query]);
  const matchSet = useMemo(() => new Set(matches), [matches]);
  const at = selected ? matches.indexOf(selected.span) : -1;
  const step = (dir: 1 | -1) => {
    if (!matches.length) return;
    const k = at < 0 ? (dir > 0 ? 0 : matches.length - 1) : (at + dir + matches.length) % matches.length;
    state.selectSpan(matches[k]!);
  };

  const zoomed = !isFull(window);
  const onCriticalCount = critical?.size ?? 0;
  return (
    <div ref={box} class="tv-waterfall" style={{ '--tv-name-w': `${nameWidth}px` }}>
      <div class="tv-tools" role="toolbar" aria-label="Waterfall">
        <span class="tv-find" role="search">
          <input
            type="search"
            aria-label="Find spans"
            placeholder="Find spans…"
            title="Name, id, operation, URL, status, annotation key=value, exception, SQL; Enter: next, Shift+Enter: previous"
            value={query}
            onInput={(e) => setQuery((e.target as HTMLInputElement).value)}
            onKeyDown={(e) => {
              if (e.key === 'Enter') {
                e.preventDefault();
                step(e.shiftKey ? -1 : 1);
              }
            }}
          />
          {query ? (
            <>
              <span class="small muted tv-find-count" role="status">
                {matches.length ? `${at >= 0 ? `${at + 1} of ` : ''}${formatInt(matches.length)} ${matches.length === 1 ? 'match' : 'matches'}` : 'no match'}
              </span>
              <button type="button" class="icon" aria-label="Previous match" disabled={!matches.length} onClick={() => step(-1)}>
                ↑
              </button>
              <button type="button" class="icon" aria-label="Next match" disabled={!matches.length} onClick={() => step(1)}>
                ↓
              </button>
            </>
          ) : null}
        </span>
        <button type="button" onClick={state.expandAll} title="Open every span and every group of repeated calls">
          Expand all
        </button>
        <button type="button" onClick={state.collapseAll} title="Show only the top-level segments">
          Collapse all
        </button>
        <label class="switch" title="Fold runs of consecutive sibling calls with the same name into one row">
          <input type="checkbox" checked={state.grouping} onChange={(e) => state.setGrouping((e.target as HTMLInputElement).checked)} />
          Group repeated calls
        </label>
        <label class="switch" title="The chain of work the trace's end waited on (Jaeger's definition)">
          <input type="checkbox" checked={showCritical} onChange={(e) => onShowCritical((e.target as HTMLInputElement).checked)} />
          Critical path
        </label>
        <button type="button" disabled={!zoomed} onClick={() => setWindow({ from: 0, to: 1 })}>
          Reset zoom
        </button>
      </div>
      <div class="tv-cols tv-overview">
        <div class="tv-overview-text small muted">
          <div>
            {formatInt(rows.length)} rows · {formatInt(tree.spans.length)} spans
            {zoomed ? ' · zoomed' : ''}
          </div>
          <div class="tv-legend" aria-hidden="true">
            {legend.map(([cls, text]) => (
              <span class="tv-lg">
                <span class={`tv-sw ${cls}`} />
                {text}
              </span>
            ))}
            {showCritical && onCriticalCount ? (
              <span class="tv-lg">
                <span class="tv-sw crit" />
                Critical path
              </span>
            ) : null}
          </div>
        </div>
        <Minimap tree={tree} window={window} onWindow={setWindow} />
      </div>
      <TimeAxis
        ticks={tickList}
        window={window}
        onWindow={setWindow}
        nameWidth={nameWidth}
        axisWidth={axisWidth}
        onNameWidth={(w) => setNameWidth(Math.max(160, Math.min(width - 260, w)))}
      />
      <div
        ref={ref}
        class="tv-scroll"
        role="treegrid"
        aria-label="Trace timeline: segments and subsegments"
        aria-rowcount={rows.length}
        aria-multiselectable="false"
        aria-activedescendant={selected && selectedIndex >= win.first && selectedIndex < win.last ? rowId(selected.key) : undefined}
        tabIndex={0}
        onKeyDown={onKey}
      >
        <div role="presentation" style={{ height: `${win.total}px`, position: 'relative' }}>
          <div role="rowgroup" class="tv-rows" style={{ transform: `translateY(${win.offset}px)` }}>
            <div class="tv-grid-lines" aria-hidden="true">
              {tickList.map((t) => (
                <span style={{ left: `${t.percent}%` }} />
              ))}
            </div>
            {rows.slice(win.first, win.last).map((r, k) => (
              <WaterfallRow
                key={r.node.key}
                row={r}
                index={win.first + k}
                tree={tree}
                scale={scale}
                axisWidth={axisWidth}
                selected={selected === r.node}
                match={matchSet.size > 0 && (r.node.group ? r.node.group.members.some((m) => matchSet.has(m)) : matchSet.has(r.node.span))}
                critical={showCritical ? critical : null}
                onSelect={(key) => {
                  state.select(key);
                  ref.current?.focus({ preventScroll: true });
                }}
                onToggle={toggleRow}
              />
            ))}
          </div>
        </div>
      </div>
    </div>
  );
}
