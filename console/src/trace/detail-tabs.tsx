// The detail panel's data tabs: annotations, metadata, HTTP, AWS, SQL,
// exceptions (with stack frames) and the raw document.
import { useState } from 'preact/hooks';
import { annotationTerm } from '../lib/filter';
import { copyText, formatInt, tracesLink, valueText } from './fmt';
import { findException, type CauseDoc, type ExceptionDoc, type Span, type SpanTree } from './spans';

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function None({ what }: { what: string }) {
  return <p class="muted tv-none">None: no {what} recorded on this span.</p>;
}

// Keys and values of a flat-ish object; nested values as JSON.
export function KeyValues({ data, label }: { data: Record<string, unknown>; label: string }) {
  const entries = Object.entries(data);
  if (entries.length === 0) return <p class="muted">none</p>;
  return (
    <dl class="kv" aria-label={label}>
      {entries.map(([k, v]) => (
        <>
          <dt>{k}</dt>
          <dd class={isObject(v) || Array.isArray(v) ? 'mono' : ''}>{isObject(v) || Array.isArray(v) ? JSON.stringify(v, null, 1) : valueText(v)}</dd>
        </>
      ))}
    </dl>
  );
}

export function annotationCount(span: Span): number {
  return isObject(span.doc.annotations) ? Object.keys(span.doc.annotations).length : 0;
}
export function metadataCount(span: Span): number {
  return isObject(span.doc.metadata) ? Object.keys(span.doc.metadata).length : 0;
}
export function exceptionCount(span: Span): number {
  const c = span.doc.cause;
  if (typeof c === 'string') return 1;
  return isObject(c) && Array.isArray(c.exceptions) ? c.exceptions.length : 0;
}
export const hasBlock = (v: unknown) => isObject(v) && Object.keys(v).length > 0;

export function AnnotationsTab({ span }: { span: Span }) {
  const a = span.doc.annotations;
  if (!isObject(a) || Object.keys(a).length === 0) return <None what="annotations" />;
  return (
    <table class="data" aria-label="Annotations">
      <thead>
        <tr>
          <th>Key</th>
          <th>Value</th>
          <th>Type</th>
        </tr>
      </thead>
      <tbody>
        {Object.entries(a).map(([k, v]) => (
          <tr>
            <td class="mono">{k}</td>
            <td>
              {typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? (
                <a href={tracesLink(annotationTerm(k, v))} title={`Traces where annotation ${k} is ${String(v)}`}>
                  {String(v)}
                </a>
              ) : (
                valueText(v)
              )}
            </td>
            <td class="muted">{typeof v}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function MetadataTab({ span }: { span: Span }) {
  const m = span.doc.metadata;
  if (!isObject(m) || Object.keys(m).length === 0) return <None what="metadata" />;
  return (
    <div class="tv-stack">
      {Object.entries(m).map(([ns, v]) => (
        <section aria-label={`Metadata namespace ${ns}`}>
          <h4 class="tv-h4">{ns}</h4>
          <pre class="json">{JSON.stringify(v, null, 2)}</pre>
        </section>
      ))}
    </div>
  );
}

export function HttpTab({ span }: { span: Span }) {
  const h = span.doc.http;
  if (!isObject(h) || (!isObject(h.request) && !isObject(h.response))) return <None what="HTTP data" />;
  return (
    <div class="tv-stack">
      {isObject(h.request) ? (
        <section>
          <h4 class="tv-h4">Request</h4>
          <KeyValues data={h.request} label="HTTP request" />
        </section>
      ) : null}
      {isObject(h.response) ? (
        <section>
          <h4 class="tv-h4">Response</h4>
          <KeyValues data={h.response} label="HTTP response" />
        </section>
      ) : null}
    </div>
  );
}

export function BlockTab({ data, what }: { data: unknown; what: string }) {
  if (!isObject(data) || Object.keys(data).length === 0) return <None what={what} />;
  return <KeyValues data={data} label={what} />;
}

export function SqlTab({ span }: { span: Span }) {
  const sql = span.doc.sql;
  if (!isObject(sql) || Object.keys(sql).length === 0) return <None what="SQL data" />;
  const { sanitized_query: query, ...rest } = sql;
  return (
    <div class="tv-stack">
      {typeof query === 'string' ? (
        <section>
          <h4 class="tv-h4">Query</h4>
          <pre class="json">{query}</pre>
        </section>
      ) : null}
      <KeyValues data={rest} label="SQL" />
    </div>
  );
}

function ExceptionCard({ e, others }: { e: ExceptionDoc; others: ExceptionDoc[] }) {
  const causeOf = e.cause ? others.find((o) => o.id === e.cause) : undefined;
  return (
    <article class="tv-exc" aria-label={`Exception ${e.type ?? ''}`}>
      <div class="row" style={{ flexWrap: 'wrap' }}>
        <strong class="tv-exc-type">{e.type ?? '(no type)'}</strong>
        {e.remote ? (
          <span class="tag" title="Raised by a downstream service">
            remote
          </span>
        ) : null}
        {e.id ? <span class="mono small muted">{e.id}</span> : null}
      </div>
      {e.message ? <p class="tv-exc-msg">{e.message}</p> : null}
      {e.cause ? (
        <p class="small muted">
          Caused by {causeOf ? <strong>{causeOf.type ?? causeOf.id}</strong> : <span class="mono">{e.cause}</span>}
        </p>
      ) : null}
      {Array.isArray(e.stack) && e.stack.length ? (
        <table class="data tv-stack-frames" aria-label="Stack frames">
          <thead>
            <tr>
              <th>Function</th>
              <th>Location</th>
            </tr>
          </thead>
          <tbody>
            {e.stack.map((f) => (
              <tr>
                <td class="mono">{f.label ?? '—'}</td>
                <td class="mono">
                  {f.path ?? '?'}
                  {f.line !== undefined ? `:${f.line}` : ''}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p class="small muted">No stack frames recorded.</p>
      )}
      {e.truncated ? <p class="small muted">{e.truncated} frames truncated.</p> : null}
      {e.skipped ? <p class="small muted">{e.skipped} exceptions skipped.</p> : null}
    </article>
  );
}

export function ExceptionsTab({ span, tree, onSelectSpan }: { span: Span; tree: SpanTree; onSelectSpan: (i: number) => void }) {
  const cause = span.doc.cause;
  if (typeof cause === 'string') {
    // The exception was recorded once, on another span; this one names it.
    const found = findException(tree, cause);
    return (
      <div class="tv-stack">
        <p>
          Caused by exception <span class="mono">{cause}</span>
          {found ? (
            <>
              {', recorded on '}
              <button type="button" class="link" onClick={() => onSelectSpan(found.span)}>
                {tree.spans[found.span]!.name}
              </button>
              :
            </>
          ) : ', which is not in this trace.'}
        </p>
        {found ? <ExceptionCard e={found.exception} others={[]} /> : null}
      </div>
    );
  }
  const c = cause as CauseDoc | undefined;
  const list = c && Array.isArray(c.exceptions) ? c.exceptions : [];
  if (!c || list.length === 0) return <None what="exceptions" />;
  return (
    <div class="tv-stack">
      {c.working_directory ? (
        <p class="small muted">
          Working directory <span class="mono">{c.working_directory}</span>
        </p>
      ) : null}
      {list.map((e) => (
        <ExceptionCard e={e} others={list} />
      ))}
    </div>
  );
}

export function RawTab({ span }: { span: Span }) {
  const text = JSON.stringify(span.doc, null, 2);
  const [copied, setCopied] = useState(false);
  return (
    <div class="tv-stack">
      <div class="row">
        <span class="small muted">
          The {span.kind === 'segment' ? 'segment document, with its subsegments' : 'subsegment'} as stored ({formatInt(text.length)} characters)
        </span>
        <span class="grow" />
        <button type="button" onClick={() => copyText(text).then(setCopied)}>
          {copied ? 'Copied' : 'Copy JSON'}
        </button>
      </div>
      <pre class="json tv-raw" tabIndex={0} aria-label="Raw JSON document">
        {text}
      </pre>
    </div>
  );
}
