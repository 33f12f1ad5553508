// The trace list: a windowed table (only rows in view are in the DOM), sortable
// by each column, loading the next page as the end comes into view. Clicking
// an annotation, a user, a URL or a service adds it to the filter; clicking a
// row (or Enter on it) opens the trace; two ticked rows can be diffed.
import { Component, type JSX } from 'preact';
import { useMemo, useRef, useState } from 'preact/hooks';
import type { TraceSummary } from '../api/types';
import { annotationLiteral, annotationText, formatDuration, serviceLabel, traceStatus } from '../lib/format';
import { type Sort, type SortKey, sortRows } from './sort';
import { annotationTerm, serviceTerm, urlTerm, userTerm } from '../lib/filter';
import { formatTimestamp } from '../lib/time';
import { StatusBadge } from '../ui/common';
import { useLoadMore, useVirtual } from '../ui/virtual';

const columns: { key: SortKey | null; label: string; width: string }[] = [
  { key: null, label: 'Select', width: '28px' },
  { key: null, label: 'Trace ID', width: '290px' },
  { key: 'start', label: 'Start', width: '110px' },
  { key: 'response', label: 'Response', width: '86px' },
  { key: 'duration', label: 'Duration', width: '86px' },
  { key: 'method', label: 'Method', width: '64px' },
  { key: 'url', label: 'URL', width: 'minmax(180px, 2fr)' },
  { key: 'http', label: 'HTTP', width: '52px' },
  { key: 'status', label: 'Status', width: '130px' },
  { key: null, label: 'Annotations, users, services', width: 'minmax(240px, 3fr)' },
];
const template = columns.map((c) => c.width).join(' ');
const rowHeight = 34;
// More would be cut off by the column anyway; the trace view lists them all.
const maxChips = 6;

interface Props {
  rows: TraceSummary[];
  sort: Sort;
  onSort: (sort: Sort) => void;
  fresh: Set<string>;
  done: boolean;
  loading: boolean;
  onLoadMore: () => void;
  onAddTerm: (term: string) => void;
  onOpen: (id: string) => void;
  picked: string[];
  onPick: (ids: string[]) => void;
}

export function TraceList({ rows, sort, onSort, fresh, done, loading, onLoadMore, onAddTerm, onOpen, picked, onPick }: Props) {
  const sorted = useMemo(() => sortRows(rows, sort), [rows, sort]);
  const { ref, win, scrollToRow } = useVirtual(sorted.length, rowHeight, 10);
  useLoadMore(win, sorted.length, !done && !loading, onLoadMore, 60);
  const [active, setActive] = useState(0);
  // One object for every row, so a row that did not change skips rendering.
  const actions = useRef<RowActions>({ onAddTerm, onOpen, onPick: () => {} });
  actions.current.onAddTerm = onAddTerm;
  actions.current.onOpen = onOpen;
  actions.current.onPick = (id, on) => onPick(on ? [...picked.filter((p) => p !== id), id].slice(-2) : picked.filter((p) => p !== id));

  const onKeyDown = (e: KeyboardEvent) => {
    if (!sorted.length) return;
    let next = active;
    if (e.key === 'ArrowDown') next = Math.min(sorted.length - 1, active + 1);
    else if (e.key === 'ArrowUp') next = Math.max(0, active - 1);
    else if (e.key === 'PageDown') next = Math.min(sorted.length - 1, active + 15);
    else if (e.key === 'PageUp') next = Math.max(0, active - 15);
    else if (e.key === 'Home') next = 0;
    else if (e.key === 'End') next = sorted.length - 1;
    else if (e.key === 'Enter') {
      const row = sorted[active];
      if (row) onOpen(row.Id);
      return;
    } else return;
    e.preventDefault();
    setActive(next);
    scrollToRow(next);
  };

  const header = (
    <div class="trace-row head" role="row" style={{ gridTemplateColumns: template }}>
      {columns.map((c) =>
        c.key ? (
          <div role="columnheader" aria-sort={sort.key === c.key ? (sort.descending ? 'descending' : 'ascending') : 'none'}>
            <button
              type="button"
              class="sort"
              onClick={() => onSort({ key: c.key!, descending: sort.key === c.key ? !sort.descending : c.key !== 'method' && c.key !== 'url' })}
            >
              {c.label}
              <span aria-hidden="true">{sort.key === c.key ? (sort.descending ? ' ▼' : ' ▲') : ''}</span>
            </button>
          </div>
        ) : (
          <div role="columnheader">
            <span class={c.label === 'Select' ? 'sr-only' : ''}>{c.label}</span>
          </div>
        ),
      )}
    </div>
  );

  const visible = sorted.slice(win.first, win.last);
  return (
    <div
      class="trace-table"
      role="table"
      aria-label="Traces"
      aria-rowcount={sorted.length + 1}
      data-testid="trace-list"
      data-rows={sorted.length}
    >
      {header}
      <div class="trace-scroll" ref={ref} tabIndex={0} onKeyDown={onKeyDown} aria-label="Trace rows">
        <div style={{ height: `${win.total}px`, position: 'relative' }}>
          <div style={{ transform: `translateY(${win.offset}px)` }}>
            {visible.map((s, i) => (
              <Row
                key={s.Id}
                s={s}
                index={win.first + i}
                active={win.first + i === active}
                fresh={fresh.has(s.Id)}
                picked={picked.includes(s.Id)}
                actions={actions.current}
              />
            ))}
          </div>
        </div>
        {!done && sorted.length > 0 ? (
          <div class="muted small list-foot">{loading ? 'Loading more…' : 'Scroll for more'}</div>
        ) : null}
      </div>
    </div>
  );
}

interface RowActions {
  onAddTerm: (term: string) => void;
  onOpen: (id: string) => void;
  onPick: (id: string, on: boolean) => void;
}

interface RowProps {
  s: TraceSummary;
  index: number;
  active: boolean;
  fresh: boolean;
  picked: boolean;
  actions: RowActions;
}

// Scrolling moves the window by a few rows a frame: rows that stay in view
// keep their DOM and skip rendering.
class Row extends Component<RowProps> {
  override shouldComponentUpdate(next: RowProps): boolean {
    const p = this.props;
    return next.s !== p.s || next.index !== p.index || next.active !== p.active || next.fresh !== p.fresh || next.picked !== p.picked;
  }
  override render() {
    return renderRow(this.props);
  }
}

function renderRow({ s, index, active, fresh, picked, actions }: RowProps) {
  const status = traceStatus(s);
  const chips: JSX.Element[] = [];
  for (const [key, values] of Object.entries(s.Annotations ?? {})) {
    for (const v of values) {
      const text = annotationText(v.AnnotationValue);
      chips.push(
        <button type="button" class="chip" title={`Add annotation.${key} = ${text} to the filter`} onClick={(e) => {
          e.stopPropagation();
          actions.onAddTerm(annotationTerm(key, annotationLiteral(v.AnnotationValue)));
        }}>
          <span class="k">{key}</span> {text}
        </button>,
      );
    }
  }
  for (const u of s.Users ?? []) {
    chips.push(
      <button type="button" class="chip user" title={`Add user = ${u.UserName} to the filter`} onClick={(e) => {
        e.stopPropagation();
        actions.onAddTerm(userTerm(u.UserName));
      }}>
        <span class="k">user</span> {u.UserName}
      </button>,
    );
  }
  for (const svc of s.ServiceIds ?? []) {
    if (!svc.Name) continue;
    chips.push(
      <button type="button" class="chip service" title={`Add service("${svc.Name}") to the filter`} onClick={(e) => {
        e.stopPropagation();
        actions.onAddTerm(serviceTerm(svc.Name!));
      }}>
        <span class="k">service</span> {serviceLabel(svc)}
      </button>,
    );
  }
  const url = s.Http?.HttpURL;
  return (
    <div
      class={`trace-row ${active ? 'active' : ''} ${fresh ? 'fresh' : ''} ${status}`}
      role="row"
      aria-rowindex={index + 2}
      style={{ gridTemplateColumns: template, height: `${rowHeight}px` }}
      onClick={() => actions.onOpen(s.Id)}
      data-trace-id={s.Id}
    >
      <div role="cell" onClick={(e) => e.stopPropagation()}>
        <input type="checkbox" aria-label={`Select ${s.Id} to compare`} checked={picked} onChange={(e) => actions.onPick(s.Id, e.currentTarget.checked)} />
      </div>
      <div role="cell" class="mono ellipsis">
        <a href={`#/trace/${s.Id}`} onClick={(e) => e.stopPropagation()}>
          {s.Id}
        </a>
      </div>
      <div role="cell" class="num">{s.StartTime !== undefined ? formatTimestamp(s.StartTime) : '—'}</div>
      <div role="cell" class="num">{formatDuration(s.ResponseTime)}</div>
      <div role="cell" class="num">{formatDuration(s.Duration)}</div>
      <div role="cell">{s.Http?.HttpMethod ?? ''}</div>
      <div role="cell" class="ellipsis">
        {url ? (
          <button type="button" class="link ellipsis url" title={`Add http.url = ${url} to the filter`} onClick={(e) => {
            e.stopPropagation();
            actions.onAddTerm(urlTerm(url));
          }}>
            {url}
          </button>
        ) : (
          <span class="muted">—</span>
        )}
      </div>
      <div role="cell" class="num">{s.Http?.HttpStatus ?? ''}</div>
      <div role="cell">
        <StatusBadge status={status} partial={s.IsPartial} />
      </div>
      <div role="cell" class="chips">
        {chips.slice(0, maxChips)}
        {chips.length > maxChips ? <span class="muted small">+{chips.length - maxChips}</span> : null}
      </div>
    </div>
  );
}
