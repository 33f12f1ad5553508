// The trace's header: its id (text, copyable), when it started, how long it
// took, its status, segments and services, the traces it links to, and the
// ways on (the traces list around it, comparing it with another trace).
import { useState } from 'preact/hooks';
import type { Trace } from '../api/types';
import { serviceTerm } from '../lib/filter';
import { formatDuration } from '../lib/format';
import { formatHash } from '../lib/router';
import { StatusBadge } from '../ui/common';
import { copyText, formatAgo, formatInt, formatTime, traceLink, tracesLink, valueText } from './fmt';
import { services, traceLinks, traceStatusOf, type SpanTree } from './spans';

// BatchGetTraces' own shape, so the file can be read back by any X-Ray tool.
function downloadJson(trace: Trace): void {
  const blob = new Blob([JSON.stringify({ Traces: [trace] }, null, 2)], { type: 'application/json' });
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = `${trace.Id}.json`;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

export function TraceHeader({ trace, tree, onSelectSpan }: { trace: Trace; tree: SpanTree; onSelectSpan: (i: number) => void }) {
  const [copied, setCopied] = useState(false);
  const [allServices, setAllServices] = useState(false);
  const root = tree.spans[tree.root];
  const links = traceLinks(tree);
  const names = services(tree);
  const duration = trace.Duration ?? tree.end - tree.start;
  return (
    <header class="tv-header">
      <div class="row tv-title-row">
        <h1 class="tv-title">
          Trace <span class="mono tv-id">{trace.Id}</span>
        </h1>
        <button type="button" class="small" onClick={() => copyText(trace.Id).then(setCopied)} aria-label="Copy the trace id">
          {copied ? 'Copied' : 'Copy id'}
        </button>
        <StatusBadge status={traceStatusOf(tree)} partial={tree.partial} />
        <span class="grow" />
        <a class="tv-btn" href={tracesLink(undefined, { start: tree.start, end: tree.end })} title="The traces list, around the time of this trace">
          View in traces list
        </a>
        <a class="tv-btn" href={formatHash('diff', [trace.Id])} title="Diff this trace span by span against another one">
          Compare with…
        </a>
        <button type="button" class="tv-btn" onClick={() => downloadJson(trace)} title="The trace as BatchGetTraces returns it">
          Download JSON
        </button>
      </div>
      <dl class="tv-facts">
        <div>
          <dt>Started</dt>
          <dd title={new Date(tree.start * 1000).toISOString()}>
            {formatTime(tree.start)} <span class="muted">({formatAgo(tree.start)})</span>
          </dd>
        </div>
        <div>
          <dt>Duration</dt>
          <dd>{formatDuration(duration)}</dd>
        </div>
        <div>
          <dt>Response time</dt>
          <dd>{root ? (root.inProgress ? 'in progress' : formatDuration(root.end - root.start)) : '—'}</dd>
        </div>
        <div>
          <dt>Segments</dt>
          <dd>
            {formatInt(tree.segmentCount)} <span class="muted">({formatInt(tree.spans.length)} spans)</span>
          </dd>
        </div>
        {root?.doc.http?.request?.url ? (
          <div class="tv-fact-url">
            <dt>Request</dt>
            <dd class="ellipsis" title={String(root.doc.http.request.url)}>
              {[root.doc.http.request.method, root.doc.http.request.url].filter(Boolean).join(' ')}
              {root.doc.http.response?.status !== undefined ? ` → ${root.doc.http.response.status}` : ''}
            </dd>
          </div>
        ) : null}
      </dl>
      <div class="row tv-services" aria-label="Services in this trace">
        <span class="small muted">Services ({names.length})</span>
        {(allServices ? names : names.slice(0, 12)).map((n) => (
          <a class="chip" href={tracesLink(serviceTerm(n))} title={`Traces through ${n}`}>
            {n}
          </a>
        ))}
        {names.length > 12 ? (
          <button type="button" class="link small" aria-expanded={allServices} onClick={() => setAllServices(!allServices)}>
            {allServices ? 'fewer' : `and ${names.length - 12} more`}
          </button>
        ) : null}
      </div>
      {links.length ? (
        <div class="row tv-linked" aria-label="Linked traces">
          <span class="small muted">Linked traces</span>
          {links.slice(0, 20).map((l) => (
            <span class="chip">
              <a href={traceLink(l.traceId, l.spanId)} class="mono">
                {l.traceId}
              </a>
              <button type="button" class="link small" onClick={() => onSelectSpan(l.from)} title="The span that declares this link">
                from {tree.spans[l.from]!.name}
              </button>
              {l.attributes
                ? Object.entries(l.attributes)
                    .slice(0, 2)
                    .map(([k, v]) => <span class="k">{`${k}=${valueText(v)}`}</span>)
                : null}
            </span>
          ))}
          {links.length > 20 ? <span class="small muted">and {links.length - 20} more</span> : null}
        </div>
      ) : null}
    </header>
  );
}
