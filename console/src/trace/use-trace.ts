// Loads one trace (BatchGetTraces) and, beside it, its map (GetTraceGraph).
// The waterfall needs only the first; the map arrives when it arrives.
import { useEffect, useState } from 'preact/hooks';
import type { GetTraceGraphResponse, Trace } from '../api/types';
import { call, xray } from '../api/xray';
import { buildTree, type SpanTree } from './spans';

export type TraceState =
  | { status: 'idle' }
  | { status: 'loading' }
  | { status: 'notfound' }
  | { status: 'error'; error: unknown }
  | { status: 'ready'; trace: Trace; tree: SpanTree };

export type GraphState =
  | { status: 'loading' }
  | { status: 'error'; error: unknown }
  | { status: 'ready'; graph: GetTraceGraphResponse };

// Performance marks the benchmark and the tests read: the request leaves,
// the tree is built, the rows are on screen (marked by the waterfall).
export const marks = { open: 'roentgen:trace:open', tree: 'roentgen:trace:tree', rows: 'roentgen:trace:rows' };

function mark(name: string): void {
  try {
    performance.mark(name);
  } catch {
    // marks are a measurement aid only
  }
}

export function useTrace(id: string, reload: number): TraceState {
  const [state, setState] = useState<TraceState>({ status: id ? 'loading' : 'idle' });
  useEffect(() => {
    if (!id) {
      setState({ status: 'idle' });
      return;
    }
    const abort = new AbortController();
    setState({ status: 'loading' });
    mark(marks.open);
    xray
      .batchGetTraces([id], abort.signal)
      .then((r) => {
        const trace = r.Traces?.find((t) => t.Id === id) ?? r.Traces?.[0];
        if (!trace || r.UnprocessedTraceIds?.includes(id) || trace.Segments.length === 0) {
          setState({ status: 'notfound' });
          return;
        }
        const tree = buildTree(trace.Segments.map((s) => s.Document));
        mark(marks.tree);
        setState({ status: 'ready', trace, tree });
      })
      .catch((error: unknown) => {
        if (!abort.signal.aborted) setState({ status: 'error', error });
      });
    return () => abort.abort();
  }, [id, reload]);
  return state;
}

// `ready`: asked only once the trace itself is on screen, so the two do not
// compete for the server (or the network) while the waterfall is awaited.
export function useTraceGraph(id: string, reload: number, ready: boolean): GraphState {
  const [state, setState] = useState<GraphState>({ status: 'loading' });
  useEffect(() => {
    if (!id || !ready) return;
    const abort = new AbortController();
    setState({ status: 'loading' });
    allTraceGraph(id, abort.signal)
      .then((graph) => setState({ status: 'ready', graph }))
      .catch((error: unknown) => {
        if (!abort.signal.aborted) setState({ status: 'error', error });
      });
    return () => abort.abort();
  }, [id, reload, ready]);
  return state;
}

// Every page of the trace's graph (X-Ray pages it; a trace's map is small).
async function allTraceGraph(id: string, signal: AbortSignal): Promise<GetTraceGraphResponse> {
  const first = await xray.getTraceGraph([id], signal);
  const services = [...(first.Services ?? [])];
  let token = first.NextToken;
  for (let page = 0; token && page < 20; page++) {
    const next = await call<GetTraceGraphResponse>('/TraceGraph', { TraceIds: [id], NextToken: token }, signal);
    services.push(...(next.Services ?? []));
    token = next.NextToken;
  }
  return { Services: services };
}
