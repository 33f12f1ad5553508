// The selected row's details beside the waterfall: a span's overview and data
// tabs, or a group of repeated calls' summary with its members.
import { useState } from 'preact/hooks';
import { formatDuration, type Status } from '../lib/format';
import { StatusBadge } from '../ui/common';
import {
  AnnotationsTab,
  BlockTab,
  ExceptionsTab,
  HttpTab,
  MetadataTab,
  RawTab,
  SqlTab,
  annotationCount,
  exceptionCount,
  hasBlock,
  metadataCount,
} from './detail-tabs';
import { copyText, formatInt, formatTime, traceLink, valueText } from './fmt';
import type { DisplayNode, GroupInfo } from './rows';
import type { Span, SpanTree } from './spans';

interface Props {
  tree: SpanTree;
  node: DisplayNode;
  critical: Map<number, { start: number; end: number }[]> | null;
  onSelectSpan: (span: number) => void;
  onClose: () => void;
  panelRef: { current: HTMLElement | null };
  width: number;
}

export function DetailPanel({ tree, node, critical, onSelectSpan, onClose, panelRef, width }: Props) {
  const [tab, setTab] = useState('overview');
  const span = tree.spans[node.span]!;
  const onKey = (e: KeyboardEvent) => {
    if (e.key === 'Escape') {
      e.preventDefault();
      onClose();
    }
  };
  const title = node.group ? `${node.group.count} × ${node.group.name}` : span.name;
  return (
    <aside class="tv-detail panel" style={{ width: `${width}px` }} aria-label={`Details of ${title}`} ref={(el) => {
        panelRef.current = el;
      }} onKeyDown={onKey}>
      <div class="panel-head">
        <h2 class="tv-detail-title ellipsis" title={title}>
          {title}
        </h2>
        <span class="spacer" />
        <button type="button" class="icon" aria-label="Close details (Escape)" title="Close details (Escape)" onClick={onClose}>
          ✕
        </button>
      </div>
      {node.group ? (
        <GroupSummary tree={tree} group={node.group} onSelectSpan={onSelectSpan} />
      ) : (
        <SpanDetails tree={tree} span={span} tab={tab} onTab={setTab} critical={critical} onSelectSpan={onSelectSpan} />
      )}
    </aside>
  );
}

// Where the span sits: its ancestors from the root, each one a step back up.
function Breadcrumb({ tree, span, onSelectSpan }: { tree: SpanTree; span: Span; onSelectSpan: (i: number) => void }) {
  const path: Span[] = [];
  for (let i = span.parent, guard = 0; i >= 0 && guard < 1000; guard++) {
    const s = tree.spans[i]!;
    path.unshift(s);
    i = s.parent;
  }
  if (path.length === 0) return null;
  return (
    <nav class="tv-breadcrumb small" aria-label="Path from the root">
      {path.map((s) => (
        <>
          <button type="button" class={`link ${s.kind === 'segment' ? 'tv-crumb-segment' : ''}`} onClick={() => onSelectSpan(s.index)}>
            {s.name}
          </button>
          <span class="muted" aria-hidden="true">
            {' › '}
          </span>
        </>
      ))}
      <span aria-current="location">{span.name}</span>
    </nav>
  );
}

function SpanDetails({
  tree,
  span,
  tab,
  onTab,
  critical,
  onSelectSpan,
}: {
  tree: SpanTree;
  span: Span;
  tab: string;
  onTab: (t: string) => void;
  critical: Map<number, { start: number; end: number }[]> | null;
  onSelectSpan: (i: number) => void;
}) {
  const tabs = [
    { id: 'overview', label: 'Overview', count: -1 },
    { id: 'annotations', label: 'Annotations', count: annotationCount(span) },
    { id: 'metadata', label: 'Metadata', count: metadataCount(span) },
    { id: 'http', label: 'HTTP', count: hasBlock(span.doc.http) ? -1 : 0 },
    { id: 'aws', label: 'AWS', count: hasBlock(span.doc.aws) ? -1 : 0 },
    { id: 'sql', label: 'SQL', count: hasBlock(span.doc.sql) ? -1 : 0 },
    { id: 'exceptions', label: 'Exceptions', count: exceptionCount(span) },
    { id: 'raw', label: 'Raw JSON', count: -1 },
  ];
  const current = tabs.some((t) => t.id === tab) ? tab : 'overview';
  let body;
  switch (current) {
    case 'annotations':
      body = <AnnotationsTab span={span} />;
      break;
    case 'metadata':
      body = <MetadataTab span={span} />;
      break;
    case 'http':
      body = <HttpTab span={span} />;
      break;
    case 'aws':
      body = <BlockTab data={span.doc.aws} what="AWS data" />;
      break;
    case 'sql':
      body = <SqlTab span={span} />;
      break;
    case 'exceptions':
      body = <ExceptionsTab span={span} tree={tree} onSelectSpan={onSelectSpan} />;
      break;
    case 'raw':
      body = <RawTab span={span} />;
      break;
    default:
      body = <Overview tree={tree} span={span} critical={critical} onSelectSpan={onSelectSpan} />;
  }
  return (
    <>
      <Breadcrumb tree={tree} span={span} onSelectSpan={onSelectSpan} />
      <TabBar tabs={tabs} current={current} onChange={onTab} />
      <div class="tv-detail-body" role="tabpanel" id="tv-tabpanel" aria-labelledby={`tv-tab-${current}`} tabIndex={0}>
        {body}
      </div>
    </>
  );
}

interface TabDef {
  id: string;
  label: string;
  count: number; // 0: no data (shown muted), > 0: shown beside the label, -1: neither
}

// WAI-ARIA tabs (arrow keys, Home, End); tabs without data stay selectable
// (they say "none") but read as empty.
function TabBar({ tabs, current, onChange }: { tabs: TabDef[]; current: string; onChange: (id: string) => void }) {
  const onKey = (e: KeyboardEvent) => {
    const i = tabs.findIndex((t) => t.id === current);
    const next =
      e.key === 'ArrowRight' ? (i + 1) % tabs.length : e.key === 'ArrowLeft' ? (i - 1 + tabs.length) % tabs.length : e.key === 'Home' ? 0 : e.key === 'End' ? tabs.length - 1 : -1;
    if (next < 0) return;
    e.preventDefault();
    onChange(tabs[next]!.id);
    (e.currentTarget as HTMLElement).querySelectorAll<HTMLElement>('[role="tab"]')[next]?.focus();
  };
  return (
    <div class="tabs tv-tabs" role="tablist" aria-label="Span details" onKeyDown={onKey}>
      {tabs.map((t) => (
        <button
          type="button"
          role="tab"
          id={`tv-tab-${t.id}`}
          aria-controls="tv-tabpanel"
          aria-selected={t.id === current}
          tabIndex={t.id === current ? 0 : -1}
          class={t.count === 0 ? 'empty-tab' : ''}
          title={t.count === 0 ? `${t.label}: none on this span` : undefined}
          onClick={() => onChange(t.id)}
        >
          {t.label}
          {t.count > 0 ? <span class="tv-tab-count">{t.count}</span> : null}
          {t.count === 0 ? <span class="sr-only"> (none)</span> : null}
        </button>
      ))}
    </div>
  );
}

function Overview({
  tree,
  span,
  critical,
  onSelectSpan,
}: {
  tree: SpanTree;
  span: Span;
  critical: Map<number, { start: number; end: number }[]> | null;
  onSelectSpan: (i: number) => void;
}) {
  const d = span.doc;
  const parent = span.parent >= 0 ? tree.spans[span.parent]! : undefined;
  const segment = tree.spans[span.segment]!;
  const req = d.http?.request;
  const res = d.http?.response;
  const onPath = critical?.get(span.index);
  const pathTime = onPath?.reduce((s, c) => s + c.end - c.start, 0) ?? 0;
  const [copied, setCopied] = useState(false);
  return (
    <dl class="kv tv-overview-kv">
      <dt>Name</dt>
      <dd>{span.name}</dd>
      <dt>Kind</dt>
      <dd>
        {span.kind === 'segment' ? 'Service segment' : `Subsegment of ${segment.name}`}
        {span.doc.inferred === true ? ' (inferred)' : ''}
      </dd>
      <dt>ID</dt>
      <dd class="row">
        <span class="mono">{span.id}</span>
        <button type="button" class="link small" onClick={() => copyText(span.id).then(setCopied)}>
          {copied ? 'copied' : 'copy'}
        </button>
      </dd>
      <dt>Parent</dt>
      <dd>
        {parent ? (
          <button type="button" class="link" onClick={() => onSelectSpan(parent.index)}>
            {parent.name} <span class="mono small">{parent.id}</span>
          </button>
        ) : span.orphan ? (
          <span>
            <span class="mono">{d.parent_id}</span> <span class="tag tv-orphan">not in this trace</span>
          </span>
        ) : (
          <span class="muted">none (a root)</span>
        )}
      </dd>
      {d.origin ? (
        <>
          <dt>Origin</dt>
          <dd>{d.origin}</dd>
        </>
      ) : null}
      {d.namespace ? (
        <>
          <dt>Namespace</dt>
          <dd>{d.namespace}</dd>
        </>
      ) : null}
      <dt>Start</dt>
      <dd>
        {formatTime(span.start)} <span class="muted">(+{formatDuration(span.start - tree.start)})</span>
      </dd>
      <dt>Duration</dt>
      <dd>{span.inProgress ? <>in progress, at least {formatDuration(span.end - span.start)}</> : formatDuration(span.end - span.start)}</dd>
      <dt>Status</dt>
      <dd>
        <StatusBadge status={span.status} partial={span.inProgress} />
        <span class="small muted" style={{ marginLeft: '6px' }}>
          {flags(span)}
        </span>
      </dd>
      {onPath && pathTime > 0 ? (
        <>
          <dt>Critical path</dt>
          <dd>{formatDuration(pathTime)} of its time is on the critical path</dd>
        </>
      ) : null}
      {req || res ? (
        <>
          <dt>HTTP</dt>
          <dd class="tv-break">
            {[req?.method, req?.url].filter(Boolean).join(' ')}
            {res?.status !== undefined ? ` → ${res.status}` : ''}
          </dd>
        </>
      ) : null}
      {d.user ? (
        <>
          <dt>User</dt>
          <dd>{d.user}</dd>
        </>
      ) : null}
      {d.resource_arn ? (
        <>
          <dt>Resource ARN</dt>
          <dd class="mono tv-break">{d.resource_arn}</dd>
        </>
      ) : null}
      {Array.isArray(d.links) && d.links.length ? (
        <>
          <dt>Links</dt>
          <dd>
            <ul class="tv-links">
              {d.links.map((l) => (
                <li>
                  {typeof l.trace_id === 'string' ? (
                    <a href={traceLink(l.trace_id, l.id ?? l.span_id)} class="mono">
                      {l.trace_id}
                    </a>
                  ) : (
                    <span class="muted">(no trace id)</span>
                  )}
                  {l.attributes && Object.keys(l.attributes).length ? (
                    <span class="small muted">
                      {' '}
                      {Object.entries(l.attributes)
                        .map(([k, v]) => `${k}=${valueText(v)}`)
                        .join(', ')}
                    </span>
                  ) : null}
                </li>
              ))}
            </ul>
          </dd>
        </>
      ) : null}
      {span.children.length ? (
        <>
          <dt>Children</dt>
          <dd>{formatInt(span.children.length)}</dd>
        </>
      ) : null}
    </dl>
  );
}

function flags(span: Span): string {
  const out: string[] = [];
  for (const f of ['fault', 'error', 'throttle'] as const) if (span.doc[f] === true) out.push(f);
  const code = span.doc.http?.response?.status;
  if (code !== undefined) out.push(`HTTP ${code}`);
  return out.length ? `(${out.join(', ')})` : '';
}

function GroupSummary({ tree, group, onSelectSpan }: { tree: SpanTree; group: GroupInfo; onSelectSpan: (i: number) => void }) {
  const durations = group.members.map((m) => tree.spans[m]!.end - tree.spans[m]!.start);
  const counts = (Object.keys(group.statusCounts) as Status[]).filter((s) => group.statusCounts[s] > 0);
  const shown = group.members.slice(0, 500);
  return (
    <div class="tv-detail-body">
      <dl class="kv">
        <dt>Calls</dt>
        <dd>
          {group.count} consecutive <strong>{group.name}</strong> calls
        </dd>
        <dt>Total time</dt>
        <dd>{formatDuration(group.total)} (sum of the calls)</dd>
        <dt>Wall time</dt>
        <dd>
          {formatDuration(group.wall)} (time at least one call was running; {formatDuration(group.end - group.start)} from first start to last end)
        </dd>
        <dt>Per call</dt>
        <dd>
          min {formatDuration(Math.min(...durations))} · avg {formatDuration(group.total / group.count)} · max {formatDuration(Math.max(...durations))}
        </dd>
        <dt>Status</dt>
        <dd>{counts.map((s) => `${group.statusCounts[s]} ${s}`).join(', ')}</dd>
      </dl>
      <table class="data tv-members" aria-label={`The ${group.count} calls`}>
        <thead>
          <tr>
            <th class="num">#</th>
            <th>Start</th>
            <th class="num">Duration</th>
            <th>Status</th>
          </tr>
        </thead>
        <tbody>
          {shown.map((m, i) => {
            const s = tree.spans[m]!;
            return (
              <tr>
                <td class="num">{i + 1}</td>
                <td>
                  <button type="button" class="link" onClick={() => onSelectSpan(m)}>
                    +{formatDuration(s.start - tree.start)}
                  </button>
                </td>
                <td class="num">{formatDuration(s.end - s.start)}</td>
                <td>
                  <span class={`status ${s.status}`}>{s.status}</span>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      {group.members.length > shown.length ? <p class="small muted">First {shown.length} of {group.members.length} shown.</p> : null}
    </div>
  );
}
