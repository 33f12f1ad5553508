// Roentgen's X-Ray SDK for the browser: the recorder, traced fetch,
// XMLHttpRequest and GraphQL calls. See docs/sdk-browser.md.
import { Emitter, MAX_DOCUMENT_BYTES, XRayError, byteLength } from './emitter';
import { newClientId } from './ids';
import { SampleRequest, Sampler } from './sampling';
import { Entity, Segment, SegmentOptions, Subsegment } from './segment';
import type { CredentialsProvider } from './sigv4';

export { XRayError } from './emitter';
export { newSegmentId, newTraceId } from './ids';
export { LOCAL_DEFAULT, RuleState, Sampler, usableRule, wildcardMatch } from './sampling';
export type { SampleRequest, SamplingRule } from './sampling';
export { Entity, Segment, Subsegment, checkAnnotation, exceptionOf, parseStack } from './segment';
export type { AnnotationValue, EntityOptions, ExceptionDoc, HttpBlock, SegmentOptions, StackFrame } from './segment';
export { amzDate, hash, signRequest } from './sigv4';
export type { AwsCredentials, Credentials, CredentialsProvider } from './sigv4';

export interface XRayOptions {
  /** The default name of segments: the application as the service map shows it. */
  name: string;
  /** The region in the signature's scope and in the default endpoint (default `us-east-1`). */
  region?: string;
  /** Where segments go: Roentgen's address, or (default) `https://xray.<region>.amazonaws.com`. */
  endpoint?: string;
  /**
   * Keys that may call `xray:PutTraceSegments` (and `xray:GetSamplingRules`,
   * `xray:GetSamplingTargets` for sampling): short-lived, write-only keys from
   * the application's backend. Called again a minute before `expiration`.
   * `{accessKeyId, secretAccessKey, sessionToken, expiration}`, or the
   * answer of Roentgen's CreateSessionKeys (or STS) as it is.
   */
  credentials: CredentialsProvider;
  /**
   * Other origins that get the `X-Amzn-Trace-Id` header: exact origins
   * (`https://api.example.com`) or regular expressions tested on the whole URL.
   * The page's own origin always gets it. A header on a cross-origin request
   * makes the browser send a CORS preflight, so the API must allow it.
   */
  propagateTo?: (string | RegExp)[];
  /**
   * `true` (default): follow the server's sampling rules (GetSamplingRules,
   * GetSamplingTargets); `false`: record every trace.
   */
  sampling?: boolean;
  /** X-Ray's `origin` for segments (matched by rules' ServiceType); none by default. */
  origin?: string;
  /** Documents per PutTraceSegments (default 50). */
  batchSize?: number;
  /** The longest a finished segment waits to be sent (default 1000 ms). */
  flushIntervalMs?: number;
  /** Documents kept while sending fails; the oldest are dropped beyond (default 1000). */
  maxQueue?: number;
  /** Failures of the SDK's own work (sending, sampling, bad annotations); never thrown. */
  onError?: (e: XRayError) => void;
  /** The fetch used to send (default: the global fetch when the recorder is made). */
  fetch?: typeof fetch;
}

export interface BeginOptions extends SegmentOptions {
  /** Force the sampling decision instead of asking the rules. */
  sampled?: boolean;
}

export interface TraceOptions {
  /** The segment or subsegment the call belongs to (default: the current segment). */
  parent?: Entity;
  /** The subsegment's name (default: the URL's host name). */
  name?: string;
}

export interface GraphQLRequest {
  query: string;
  variables?: Record<string, unknown>;
  operationName?: string;
}

const loc = (): Location | undefined => (globalThis as any).location;

/** `query Notes {…}` → Notes; an anonymous operation → its type (query, mutation). */
export function graphqlOperationName(req: GraphQLRequest): string {
  if (req.operationName) return req.operationName;
  const m = /^\s*(?:#[^\n]*\n\s*)*(query|mutation|subscription)\b\s*([_A-Za-z][_0-9A-Za-z]*)?/.exec(req.query);
  return m ? m[2] ?? m[1] : 'query';
}

export class XRay {
  private readonly emitter: Emitter;
  private readonly sampler?: Sampler;
  private readonly opts: XRayOptions;
  private readonly fetchImpl: typeof fetch;
  private readonly endpoint: string;
  private readonly unhook: (() => void)[] = [];
  /** The segment begun last and not yet ended: where traced calls go by default. */
  current?: Segment;
  private readonly open = new Set<Segment>();

  constructor(opts: XRayOptions) {
    this.opts = opts;
    const region = opts.region ?? 'us-east-1';
    this.endpoint = (opts.endpoint ?? `https://xray.${region}.amazonaws.com`).replace(/\/+$/, '');
    this.fetchImpl = opts.fetch ?? globalThis.fetch;
    this.emitter = new Emitter({
      endpoint: this.endpoint,
      region,
      credentials: opts.credentials,
      batchSize: opts.batchSize ?? 50,
      flushIntervalMs: opts.flushIntervalMs ?? 1000,
      maxQueue: opts.maxQueue ?? 1000,
      onError: (e) => this.report(e),
      fetch: this.fetchImpl,
    });
    if (opts.sampling !== false) {
      this.sampler = new Sampler((path, body) => this.emitter.call(path, body), newClientId(),
        (e) => this.report(e instanceof XRayError ? e : new XRayError(`sampling: ${e.message}`, 'sampling')));
      this.sampler.start();
    }
    const doc = (globalThis as any).document as Document | undefined;
    if (doc && typeof addEventListener === 'function') {
      const onHide = () => {
        // Segments still open go as in progress: a page that does not come
        // back would lose them; one that does sends them complete later.
        for (const seg of this.open) {
          const text = JSON.stringify(seg.toDocument(true));
          if (seg.sampled && byteLength(text) <= MAX_DOCUMENT_BYTES) this.emitter.add(text, false);
        }
        this.emitter.flushOnHide();
      };
      const onVisibility = () => doc.visibilityState === 'hidden' && onHide();
      doc.addEventListener('visibilitychange', onVisibility);
      addEventListener('pagehide', onHide);
      this.unhook.push(() => {
        doc.removeEventListener('visibilitychange', onVisibility);
        removeEventListener('pagehide', onHide);
      });
    }
    // Keys at hand before the page is hidden, so its last batch can be signed then.
    void this.emitter.credentials().catch((e) =>
      this.report(new XRayError(`credentials: ${(e as Error)?.message ?? e}`, 'credentials')));
  }

  /** Counts of documents sent, dropped and rejected by the server. */
  get stats() {
    return { ...this.emitter.stats, queued: this.emitter.queued };
  }

  /** The sampler, when sampling follows the server's rules. */
  get sampling(): Sampler | undefined {
    return this.sampler;
  }

  private report(e: XRayError | Error): void {
    const err = e instanceof XRayError ? e : new XRayError(e.message, 'usage');
    try {
      this.opts.onError?.(err);
    } catch {
      // The application's hook failing must not break the SDK either.
    }
  }

  /**
   * Starts a trace: a segment named `name` (default: the options' name), the
   * current segment until it ends. The sampling decision is made here.
   */
  beginSegment(name: string = this.opts.name, opts: BeginOptions = {}): Segment {
    let sampled = opts.sampled;
    if (sampled === undefined) {
      const l = loc();
      const req: SampleRequest = { serviceName: name, serviceType: opts.origin ?? this.opts.origin,
        host: l?.hostname, httpMethod: opts.http?.request?.method, urlPath: l?.pathname };
      sampled = this.sampler ? this.sampler.shouldSample(req) : true;
    }
    const seg = new Segment(name, { origin: this.opts.origin, ...opts }, sampled, (e) => this.report(new XRayError(e.message, 'usage')));
    seg.closed_ = (e) => this.closed(e);
    this.current = seg;
    this.open.add(seg);
    return seg;
  }

  /** Ends a segment (default: the current one), recording `err` as a fault if given. */
  endSegment(segment: Segment | undefined = this.current, err?: unknown): void {
    segment?.close(err);
  }

  // Sends what closed: a segment with its closed subsegments; a subsegment
  // that closes after its segment went out goes as a document of its own.
  private closed(e: Entity): void {
    const seg = e.segment;
    if (e === seg) {
      this.open.delete(seg);
      if (this.current === seg) this.current = undefined;
    }
    if (!seg.sampled) return;
    if (e === seg) this.emit(seg, false);
    else if (seg.sent && !e.sent) this.emit(e as Subsegment, true);
  }

  private emit(e: Entity, independent: boolean): void {
    const doc = () => JSON.stringify(e instanceof Segment ? e.toDocument() : (e as Subsegment).toDocument(false, independent));
    let text = doc();
    if (byteLength(text) > MAX_DOCUMENT_BYTES) {
      // Too big for one document: the closed subsegments go on their own, as the X-Ray SDKs stream them.
      for (const s of e.subsegments) if (s.closed && !s.sent) this.emit(s, true);
      text = doc();
    }
    e.markSent();
    if (byteLength(text) > MAX_DOCUMENT_BYTES) {
      this.report(new XRayError(`segment ${e.id} (${e.name}) is over X-Ray's 64 KB document limit`, 'dropped', { dropped: 1 }));
      return;
    }
    this.emitter.add(text);
  }

  /** Whether a call to `url` carries the trace header (same origin, or listed in propagateTo). */
  propagatesTo(url: URL): boolean {
    if (url.origin === loc()?.origin) return true;
    return (this.opts.propagateTo ?? []).some((p) => (typeof p === 'string' ? p.replace(/\/+$/, '') === url.origin : p.test(url.href)));
  }

  private isOwnCall(url: URL): boolean {
    return url.href.startsWith(this.endpoint + '/');
  }

  // Opens the subsegment of an outgoing HTTP call; undefined when there is nothing to trace it under.
  private startCall(method: string, url: URL, o: TraceOptions, namespace: 'remote' = 'remote'): { sub?: Subsegment; header?: string } {
    const parent = o.parent ?? this.current;
    if (!parent || parent.closed || this.isOwnCall(url)) return {};
    const propagate = this.propagatesTo(url);
    const sub = parent.beginSubsegment(o.name ?? url.hostname, {
      namespace,
      http: { request: { method: method.toUpperCase(), url: url.origin + url.pathname, ...(propagate ? { traced: true } : {}) } },
    });
    return { sub, header: propagate ? sub.traceHeader() : undefined };
  }

  /**
   * `fetch` with a subsegment for the call: the request and response (status,
   * length), a 4xx as error, 429 as throttle, 5xx or a network failure as
   * fault; the trace header goes where `propagateTo` allows.
   */
  async fetch(input: RequestInfo | URL, init: RequestInit = {}, o: TraceOptions = {}): Promise<Response> {
    const { res, sub } = await this.traced(input, init, o);
    sub?.close();
    return res;
  }

  // The call with its subsegment, which the caller closes.
  private async traced(input: RequestInfo | URL, init: RequestInit, o: TraceOptions): Promise<{ res: Response; sub?: Subsegment }> {
    const req = typeof Request !== 'undefined' && input instanceof Request ? input : undefined;
    const url = new URL(req ? req.url : String(input), loc()?.href);
    const { sub, header } = this.startCall(init.method ?? req?.method ?? 'GET', url, o);
    if (!sub) return { res: await this.fetchImpl.call(globalThis, input, init) };
    if (header) {
      const headers = new Headers(init.headers ?? req?.headers);
      headers.set('X-Amzn-Trace-Id', header);
      init = { ...init, headers };
    }
    try {
      const res = await this.fetchImpl.call(globalThis, input, init);
      const length = res.headers.get('content-length');
      sub.setResponse(res.status, length === null ? undefined : Number(length));
      return { res, sub };
    } catch (err) {
      sub.addError(err, (err as Error)?.name === 'AbortError' ? 'error' : 'fault', true);
      sub.close();
      throw err;
    }
  }

  /**
   * A GraphQL call (POST of `{query, variables, operationName}` as JSON) in a
   * subsegment named after the operation; GraphQL `errors` in the answer mark
   * it as an error. Resolves to the parsed answer (`{data, errors}`); an
   * answer that is not JSON rejects.
   */
  async graphql<T = any>(url: string | URL, request: GraphQLRequest, init: RequestInit = {}, o: TraceOptions = {}): Promise<{ data?: T; errors?: { message: string }[] }> {
    const headers = new Headers(init.headers);
    if (!headers.has('content-type')) headers.set('content-type', 'application/json');
    const { res, sub } = await this.traced(url, { ...init, method: 'POST', headers, body: JSON.stringify(request) },
      { ...o, name: o.name ?? graphqlOperationName(request) });
    try {
      const body = await res.json();
      if (sub && Array.isArray(body?.errors)) {
        for (const e of body.errors) {
          const ex = new Error(String(e?.message ?? e));
          ex.name = 'GraphQLError';
          ex.stack = '';
          sub.addError(ex, 'error', true);
        }
      }
      sub?.close();
      return body;
    } catch (err) {
      sub?.close(err);
      throw err;
    }
  }

  /** Traces every `fetch` of the page under the current segment; returns a function that undoes it. */
  instrumentFetch(): () => void {
    const original = globalThis.fetch;
    const traced = (input: RequestInfo | URL, init?: RequestInit) => this.fetch(input, init);
    globalThis.fetch = traced as typeof fetch;
    const undo = () => {
      if (globalThis.fetch === traced) globalThis.fetch = original;
    };
    this.unhook.push(undo);
    return undo;
  }

  /** Traces every `XMLHttpRequest` under the current segment; returns a function that undoes it. */
  instrumentXHR(): () => void {
    const XHR = (globalThis as any).XMLHttpRequest as typeof XMLHttpRequest | undefined;
    if (!XHR) return () => {};
    const proto = XHR.prototype;
    const { open, send } = proto;
    const self = this;
    const call = new WeakMap<XMLHttpRequest, { method: string; url: URL }>();
    proto.open = function (this: XMLHttpRequest, method: string, url: string | URL, ...rest: any[]) {
      try {
        call.set(this, { method, url: new URL(String(url), loc()?.href) });
      } catch {
        call.delete(this);
      }
      return (open as any).call(this, method, url, ...rest);
    } as typeof proto.open;
    proto.send = function (this: XMLHttpRequest, body?: Document | XMLHttpRequestBodyInit | null) {
      const c = call.get(this);
      const { sub, header } = c ? self.startCall(c.method, c.url, {}) : {};
      if (sub) {
        if (header) this.setRequestHeader('X-Amzn-Trace-Id', header);
        this.addEventListener('loadend', () => {
          if (this.status) {
            const length = this.getResponseHeader('content-length');
            sub.setResponse(this.status, length === null ? undefined : Number(length));
          } else {
            sub.addError(new Error('the request failed or was aborted'), 'fault', true);
          }
          sub.close();
        });
      }
      return send.call(this, body);
    };
    const undo = () => {
      proto.open = open;
      proto.send = send;
    };
    this.unhook.push(undo);
    return undo;
  }

  /** Sends every finished segment now. */
  flush(): Promise<void> {
    return this.emitter.flush();
  }

  /** Stops the timers and listeners, undoes the instrumentation, and sends what is left. */
  async shutdown(): Promise<void> {
    this.sampler?.stop();
    for (const u of this.unhook.splice(0)) u();
    await this.emitter.flush();
    this.emitter.stop();
  }
}
