// Finding spans in a trace by what they say: name, id, origin, namespace, the
// AWS operation, the HTTP URL and status, the user, annotations (key=value),
// exceptions and SQL. Every word of the query must appear (case-insensitive).
import type { Span, SpanTree } from './spans';

const haystacks = new WeakMap<SpanTree, string[]>();

function text(span: Span): string {
  const d = span.doc;
  const parts: unknown[] = [span.name, span.id, d.origin, d.namespace, d.user, d.resource_arn, span.status];
  if (span.inProgress) parts.push('in progress');
  if (span.orphan) parts.push('orphan');
  parts.push(d.aws?.operation, d.aws?.table_name, d.http?.request?.method, d.http?.request?.url, d.http?.response?.status);
  if (d.annotations && typeof d.annotations === 'object') {
    for (const [k, v] of Object.entries(d.annotations)) parts.push(`${k}=${String(v)}`);
  }
  const cause = d.cause;
  if (cause && typeof cause === 'object' && Array.isArray(cause.exceptions)) {
    for (const e of cause.exceptions) parts.push(e?.type, e?.message);
  }
  parts.push(d.sql?.sanitized_query, d.sql?.url);
  return parts
    .filter((p) => p !== undefined && p !== null && p !== '')
    .map(String)
    .join('\n')
    .toLowerCase();
}

// The spans matching `query`, in waterfall order (empty for an empty query).
export function findSpans(tree: SpanTree, query: string): number[] {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return [];
  let hay = haystacks.get(tree);
  if (!hay) haystacks.set(tree, (hay = tree.spans.map(text)));
  return tree.order.filter((i) => words.every((w) => hay![i]!.includes(w)));
}
