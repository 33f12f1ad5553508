// One waterfall row: the name (indented, with its kind), the duration and the
// bar on the time scale, with the critical path's parts over it.
import { formatDuration, type Status } from '../lib/format';
import type { Row } from './rows';
import type { Span, SpanTree } from './spans';
import { barBox, percent, type Scale } from './timescale';

export const rowHeight = 24;

const statusText: Record<Status, string> = { ok: 'OK', error: 'Error', throttle: 'Throttle', fault: 'Fault' };

export function rowId(key: string): string {
  return `tv-row-${key}`;
}

// What kind of span it is, in a word or two: a segment's origin (its
// service type), a subsegment's namespace.
export function kindLabel(span: Span): string {
  if (span.kind === 'segment') return span.doc.origin ?? (span.doc.inferred === true ? 'inferred' : 'service');
  return span.doc.namespace ?? '';
}

// The call a subsegment made, when its document says (aws.operation, an SQL
// database, an HTTP method).
export function operationLabel(span: Span): string {
  const op = span.doc.aws?.operation;
  if (typeof op === 'string') return op;
  const db = span.doc.sql?.database_type;
  if (span.kind === 'subsegment' && typeof db === 'string') return db;
  return '';
}

interface Props {
  row: Row;
  index: number;
  tree: SpanTree;
  scale: Scale;
  axisWidth: number; // px, for fitting labels
  selected: boolean;
  match: boolean; // found by the search
  critical: Map<number, { start: number; end: number }[]> | null;
  onSelect: (key: string) => void;
  onToggle: (row: Row) => void;
}

function Sections({ scale, list }: { scale: Scale; list: { start: number; end: number }[] }) {
  return (
    <>
      {list.map((c) => {
        const box = barBox(scale, c.start, c.end);
        return box ? <span class="tv-crit" style={{ left: `${box.left}%`, width: `${box.width}%` }} /> : null;
      })}
    </>
  );
}

export function WaterfallRow({ row, index, tree, scale, axisWidth, selected, match, critical, onSelect, onToggle }: Props) {
  const node = row.node;
  const g = node.group;
  const span = tree.spans[node.span]!;
  const status = g ? g.status : span.status;
  const start = g ? g.start : span.start;
  const end = g ? g.end : span.end;
  const inProgress = g ? g.inProgress : span.inProgress;
  const box = barBox(scale, start, end);
  const offset = formatDuration(start - tree.start);
  let sections: { start: number; end: number }[] | undefined;
  if (critical) {
    if (g) {
      sections = [];
      for (const m of g.members) sections.push(...(critical.get(m) ?? []));
    } else sections = critical.get(span.index);
  }
  const onCritical = !!sections && sections.length > 0;
  const durationText = g ? formatDuration(g.total) : inProgress ? `≥ ${formatDuration(end - start)}` : formatDuration(end - start);
  const label = g ? `total ${formatDuration(g.total)} · wall ${formatDuration(g.wall)}` : inProgress ? 'in progress' : '';
  // A label beside the bar: after it when it fits there, else before it;
  // when it fits on neither side the row's tooltip and name carry it.
  const endPct = percent(scale, end);
  const startPct = percent(scale, start);
  const need = ((label.length * 6.2 + 10) / Math.max(1, axisWidth)) * 100;
  const after = 100 - endPct >= need;
  const labelFits = after || startPct >= need;
  const labelStyle = after ? { left: `calc(${Math.max(0, endPct)}% + 6px)` } : { right: `calc(${Math.max(0, 100 - startPct)}% + 6px)` };
  const op = operationLabel(span);
  const kind = g ? '' : kindLabel(span);
  // What a screen reader says for the row: the name first, then the facts.
  const rowLabel = [
    g ? `${g.name} ×${g.count}, a group of ${g.count} repeated calls` : span.name,
    op,
    g ? '' : span.kind === 'segment' ? `service segment${span.doc.origin ? ` ${span.doc.origin}` : ''}` : kind ? `subsegment, ${kind}` : 'subsegment',
    status !== 'ok' ? statusText[status] : '',
    inProgress ? 'in progress' : '',
    span.orphan && !g ? 'orphan' : '',
    g ? `total ${formatDuration(g.total)}, wall ${formatDuration(g.wall)}` : durationText,
    `starts at +${offset}`,
    onCritical ? 'on the critical path' : '',
    match ? 'matches the search' : '',
  ]
    .filter(Boolean)
    .join(', ');
  return (
    <div
      role="row"
      id={rowId(node.key)}
      aria-level={row.depth + 1}
      aria-expanded={row.hasChildren ? row.open : undefined}
      aria-selected={selected}
      aria-rowindex={index + 1}
      aria-label={rowLabel}
      class={`tv-row tv-cols${selected ? ' selected' : ''}${match ? ' match' : ''}${span.kind === 'segment' && !g ? ' seg' : ''}${onCritical ? ' on-crit' : ''}`}
      onClick={() => onSelect(node.key)}
    >
      <div role="gridcell" class="tv-name" style={{ paddingLeft: `${4 + row.depth * 14}px` }}>
        {row.hasChildren ? (
          <button
            type="button"
            class="tv-toggle"
            tabIndex={-1}
            aria-label={`${row.open ? 'Collapse' : 'Expand'} ${g ? `${g.count} ${g.name} calls` : span.name}`}
            onClick={(e) => {
              e.stopPropagation();
              onToggle(row);
            }}
          >
            {row.open ? '▾' : '▸'}
          </button>
        ) : (
          <span class="tv-toggle" aria-hidden="true" />
        )}
        <span class={`tv-label ellipsis${g ? ' group' : ''}`} title={g ? `${g.count} consecutive ${g.name} calls` : span.name}>
          {g ? g.name : span.name}
        </span>
        {g ? <span class="tv-count">×{g.count}</span> : null}
        {op ? <span class="tv-op ellipsis">{op}</span> : null}
        {kind ? (
          <span class={`tv-kind ${span.kind}`} title={span.kind === 'segment' ? `Service segment (${kind})` : `Subsegment, namespace ${kind}`}>
            {span.kind === 'segment' ? kind.replace(/^AWS::/, '') : kind}
          </span>
        ) : null}
        {status !== 'ok' ? <span class={`status ${status} tv-st`}>{g ? `${g.statusCounts[status]} ${statusText[status].toLowerCase()}` : statusText[status]}</span> : null}
        {span.orphan && !g ? (
          <span class="tag tv-orphan" title={`Its parent ${span.doc.parent_id ?? ''} is not in this trace`}>
            orphan
          </span>
        ) : null}
      </div>
      <div role="gridcell" class="tv-dur" title={g ? `total ${formatDuration(g.total)}, wall ${formatDuration(g.wall)}` : undefined}>
        {durationText}
      </div>
      <div role="gridcell" class="tv-bars" title={rowLabel} aria-label={`starts at ${offset}, ${g ? `${g.count} calls, ${formatDuration(g.total)} in total, ${formatDuration(g.wall)} wall time` : inProgress ? `in progress, ${durationText}` : durationText}${onCritical ? ', on the critical path' : ''}`}>
        {box ? (
          g ? (
            <span class={`tv-bar group s-${status}`} style={{ left: `${box.left}%`, width: `${box.width}%` }}>
              {g.intervals.map(([a, b]) => {
                const w = box.width > 0 ? ((percent(scale, b) - percent(scale, a)) / box.width) * 100 : 100;
                const l = box.width > 0 ? ((percent(scale, a) - box.left) / box.width) * 100 : 0;
                return <span class="tv-piece" style={{ left: `${l}%`, width: `${w}%` }} />;
              })}
            </span>
          ) : (
            <span class={`tv-bar s-${status}${inProgress ? ' progress' : ''}`} style={{ left: `${box.left}%`, width: `${box.width}%` }} />
          )
        ) : null}
        {sections && sections.length ? <Sections scale={scale} list={sections} /> : null}
        {label && box && labelFits ? (
          <span class="tv-bar-label" style={labelStyle}>
            {label}
          </span>
        ) : label && box && inProgress && !g ? (
          <span class="tv-bar-label inside" style={{ left: `calc(${Math.max(0, startPct)}% + 4px)` }}>
            {label}
          </span>
        ) : null}
      </div>
    </div>
  );
}
