// The console's only way to the server: X-Ray's restJson1 API (plus the
// documented Roentgen extensions under /roentgen/), over fetch, on the origin
// the console was loaded from. When keys are set (keys.ts) every request is
// signed with SigV4 exactly as an AWS SDK signs it.
import { currentKeys, signRequest } from './keys';
import type {
  BatchGetTracesResponse,
  GetGroupsResponse,
  GetServiceGraphRequest,
  GetServiceGraphResponse,
  GetTimeSeriesServiceStatisticsRequest,
  GetTimeSeriesServiceStatisticsResponse,
  GetTraceGraphResponse,
  GetTraceSummariesRequest,
  GetTraceSummariesResponse,
} from './types';
import type { TraceAnalyticsRequest, TraceAnalyticsResponse } from './analytics';

// An answer in X-Ray's error shape (or a transport failure, status 0).
export class ApiError extends Error {
  readonly status: number;
  readonly type: string;
  constructor(status: number, type: string, message: string) {
    super(message);
    this.status = status;
    this.type = type;
  }
  // The server wants (other) credentials: ask for keys.
  get isAuth(): boolean {
    return (
      this.status === 401 ||
      (this.status === 403 &&
        /UnrecognizedClient|InvalidSignature|MissingAuthentication|ExpiredToken|IncompleteSignature|InvalidClientTokenId|SignatureDoesNotMatch/.test(
          this.type,
        ))
    );
  }
  get isAccessDenied(): boolean {
    return this.status === 403 && /AccessDenied/.test(this.type);
  }
}

type AuthListener = (error: ApiError) => void;
const authListeners = new Set<AuthListener>();
// Called when a request was refused for its credentials (the shell opens the
// keys dialog).
export function onAuthRequired(listener: AuthListener): () => void {
  authListeners.add(listener);
  return () => authListeners.delete(listener);
}

let requestCount = 0;
// How many API requests this page has made (the benchmarks and tests read it).
export function apiRequestCount(): number {
  return requestCount;
}

export async function call<T>(path: string, body: unknown, signal?: AbortSignal): Promise<T> {
  const text = JSON.stringify(body);
  let headers: Record<string, string> = { 'content-type': 'application/json' };
  const keys = currentKeys();
  if (keys) headers = await signRequest(keys, 'POST', path, headers, text);
  let response: Response;
  requestCount++;
  try {
    response = await fetch(path, { method: 'POST', headers, body: text, signal: signal ?? null });
  } catch (e) {
    if (e instanceof DOMException && e.name === 'AbortError') throw e;
    throw new ApiError(0, 'NetworkError', `the server did not answer (${String(e)})`);
  }
  const raw = await response.text();
  if (!response.ok) {
    let type = response.headers.get('x-amzn-errortype') ?? `HTTP ${response.status}`;
    let message = raw.slice(0, 500);
    try {
      const parsed = JSON.parse(raw) as { __type?: string; message?: string; Message?: string };
      type = parsed.__type ?? type;
      message = parsed.message ?? parsed.Message ?? message;
    } catch {
      // not JSON: keep the text
    }
    type = type.split(':')[0]!.split('#').pop()!;
    const error = new ApiError(response.status, type, message || type);
    if (error.isAuth) for (const l of authListeners) l(error);
    throw error;
  }
  return (raw ? JSON.parse(raw) : {}) as T;
}

export const xray = {
  getTraceSummaries: (r: GetTraceSummariesRequest, signal?: AbortSignal) =>
    call<GetTraceSummariesResponse>('/TraceSummaries', r, signal),
  batchGetTraces: (ids: string[], signal?: AbortSignal) =>
    call<BatchGetTracesResponse>('/Traces', { TraceIds: ids }, signal),
  getServiceGraph: (r: GetServiceGraphRequest, signal?: AbortSignal) =>
    call<GetServiceGraphResponse>('/ServiceGraph', r, signal),
  getTraceGraph: (ids: string[], signal?: AbortSignal) =>
    call<GetTraceGraphResponse>('/TraceGraph', { TraceIds: ids }, signal),
  getTimeSeriesServiceStatistics: (r: GetTimeSeriesServiceStatisticsRequest, signal?: AbortSignal) =>
    call<GetTimeSeriesServiceStatisticsResponse>('/TimeSeriesServiceStatistics', r, signal),
  getGroups: (nextToken?: string, signal?: AbortSignal) =>
    call<GetGroupsResponse>('/Groups', nextToken ? { NextToken: nextToken } : {}, signal),
  // Roentgen extension (docs/api.md, "Roentgen extensions").
  traceAnalytics: (r: TraceAnalyticsRequest, signal?: AbortSignal) =>
    call<TraceAnalyticsResponse>('/roentgen/TraceAnalytics', r, signal),
};

// Every group, following NextToken.
export async function allGroups(signal?: AbortSignal): Promise<GetGroupsResponse['Groups']> {
  const groups: GetGroupsResponse['Groups'] = [];
  let token: string | undefined;
  do {
    const page = await xray.getGroups(token, signal);
    groups.push(...page.Groups);
    token = page.NextToken;
  } while (token);
  return groups;
}

// The column a filter-expression error names ("… column 12: …"), 1-based.
export function errorColumn(message: string): number | undefined {
  const m = /column (\d+)/.exec(message);
  return m ? Number(m[1]) : undefined;
}
