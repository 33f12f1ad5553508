// Batches finished segment documents and sends them with PutTraceSegments,
// signed with the short-lived keys the credentials provider hands out.
// Nothing here throws into the application: failures go to onError.
import { Credentials, CredentialsProvider, signRequest } from './sigv4';

/** A failure of the SDK's own work, given to `onError`. */
export class XRayError extends Error {
  constructor(
    message: string,
    /** `http`, `network`, `unprocessed`, `dropped`, `credentials`, `usage` or `sampling`. */
    readonly kind: string,
    readonly details: { status?: number; errorType?: string; unprocessed?: unknown[]; dropped?: number } = {},
  ) {
    super(message);
    this.name = 'XRayError';
  }
}

export interface EmitterOptions {
  endpoint: string;
  region: string;
  credentials: CredentialsProvider;
  /** Documents per request (default 50, as X-Ray's daemon sends). */
  batchSize: number;
  /** How long a finished segment may wait for others (default 1000 ms). */
  flushIntervalMs: number;
  /** Documents kept while the endpoint cannot be reached; beyond, the oldest are dropped (default 1000). */
  maxQueue: number;
  onError: (e: XRayError) => void;
  fetch: typeof fetch;
}

/** X-Ray's limit per segment document. */
export const MAX_DOCUMENT_BYTES = 64 * 1024;
// A browser lets a page have at most 64 KiB of keepalive bodies in flight.
const KEEPALIVE_BYTES = 64 * 1024 - 1;
const MAX_BODY_BYTES = 1024 * 1024;
const MAX_ATTEMPTS = 6;
const enc = new TextEncoder();

export const byteLength = (s: string) => enc.encode(s).length;

export class Emitter {
  private queue: { doc: string; bytes: number }[] = [];
  private timer?: ReturnType<typeof setTimeout>;
  private sending?: Promise<void>;
  private attempts = 0;
  private creds?: Credentials;
  private credsPromise?: Promise<Credentials>;
  /** Counts for the curious (and the tests). */
  readonly stats = { sent: 0, dropped: 0, rejected: 0 };

  constructor(private o: EmitterOptions) {}

  get queued(): number {
    return this.queue.length;
  }

  /**
   * Queues one serialized document; sends when a batch is full, else within
   * flushIntervalMs (`send` false: leaves the sending to the caller).
   */
  add(doc: string, send = true): void {
    this.queue.push({ doc, bytes: byteLength(doc) });
    if (this.queue.length > this.o.maxQueue) this.drop(this.queue.length - this.o.maxQueue, 'the queue is full');
    if (!send) return;
    if (this.queue.length >= this.o.batchSize) void this.flush();
    else this.schedule(this.o.flushIntervalMs);
  }

  private drop(n: number, why: string): void {
    this.queue.splice(0, n);
    this.stats.dropped += n;
    this.o.onError(new XRayError(`dropped ${n} segment document(s): ${why}`, 'dropped', { dropped: n }));
  }

  private schedule(ms: number): void {
    if (this.timer === undefined) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        void this.flush();
      }, ms);
    }
  }

  /** Cached credentials still good for a minute, if any. */
  private freshCredentials(): Credentials | undefined {
    const c = this.creds;
    if (!c) return undefined;
    if (c.expiration === undefined) return c;
    return new Date(c.expiration).getTime() - 60_000 > Date.now() ? c : undefined;
  }

  async credentials(): Promise<Credentials> {
    const c = this.freshCredentials();
    if (c) return c;
    this.credsPromise ??= Promise.resolve()
      .then(() => this.o.credentials())
      .then(normalize)
      .finally(() => (this.credsPromise = undefined));
    this.creds = await this.credsPromise;
    return this.creds;
  }

  /** A signed POST of `body` (JSON) to `path`; answers the parsed JSON or throws an XRayError. */
  async call(path: string, body: unknown): Promise<any> {
    const text = JSON.stringify(body);
    const res = await this.post(path, text, await this.credentials(), false);
    const answer = await res.text();
    if (!res.ok) throw httpError(path, res, answer);
    return answer ? JSON.parse(answer) : {};
  }

  private post(path: string, body: string, creds: Credentials, keepalive: boolean): Promise<Response> {
    const url = new URL(this.o.endpoint.replace(/\/+$/, '') + path);
    const headers = signRequest({ method: 'POST', url, headers: { 'content-type': 'application/json' }, body }, creds,
      this.o.region, 'xray');
    return this.o.fetch.call(globalThis, url.toString(), { method: 'POST', headers, body, keepalive, credentials: 'omit' });
  }

  // The next batch: up to batchSize documents in at most `limit` bytes of body.
  private take(limit: number): { doc: string; bytes: number }[] {
    let size = 28; // {"TraceSegmentDocuments":[]}
    let n = 0;
    while (n < this.queue.length && n < this.o.batchSize) {
      const add = JSON.stringify(this.queue[n].doc).length - this.queue[n].doc.length + this.queue[n].bytes + 1;
      if (size + add > limit) break;
      size += add;
      n++;
    }
    return this.queue.splice(0, n);
  }

  /** Sends what is queued now; resolves when done (errors go to onError). */
  flush(): Promise<void> {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.sending ??= this.sendAll().finally(() => (this.sending = undefined));
    return this.sending;
  }

  private async sendAll(): Promise<void> {
    while (this.queue.length) {
      const batch = this.take(MAX_BODY_BYTES);
      if (!(await this.send(batch))) return;
    }
  }

  // One batch; false when it went back to the queue for a retry later.
  private async send(batch: { doc: string; bytes: number }[]): Promise<boolean> {
    const body = JSON.stringify({ TraceSegmentDocuments: batch.map((b) => b.doc) });
    let res: Response;
    let answer = '';
    try {
      res = await this.post('/TraceSegments', body, await this.credentials(), false);
      answer = await res.text();
    } catch (e) {
      return this.retry(batch, new XRayError(`PutTraceSegments: ${(e as Error).message}`, 'network'));
    }
    if (res.ok) {
      this.attempts = 0;
      let unprocessed: { Id?: string; ErrorCode?: string; Message?: string }[] = [];
      try {
        unprocessed = JSON.parse(answer).UnprocessedTraceSegments ?? [];
      } catch {
        // An answer without a body: everything was taken.
      }
      this.stats.sent += batch.length - unprocessed.length;
      if (unprocessed.length) {
        this.stats.rejected += unprocessed.length;
        this.o.onError(new XRayError(`PutTraceSegments: ${unprocessed.length} document(s) not processed: ` +
          unprocessed.map((u) => `${u.Id}: ${u.ErrorCode} ${u.Message ?? ''}`).join('; '), 'unprocessed', { unprocessed }));
      }
      return true;
    }
    const err = httpError('/TraceSegments', res, answer);
    const type = err.details.errorType ?? '';
    // Keys that expired, were revoked or signed with a skewed clock: get new ones and try again.
    const renew = res.status === 403 && /Expired|Unrecognized|InvalidSignature/.test(type);
    if (renew) this.creds = undefined;
    if (renew || res.status === 429 || res.status === 408 || res.status >= 500) return this.retry(batch, err);
    this.stats.dropped += batch.length;
    this.o.onError(err);
    return true;
  }

  private retry(batch: { doc: string; bytes: number }[], err: XRayError): boolean {
    this.o.onError(err);
    if (++this.attempts >= MAX_ATTEMPTS) {
      this.attempts = 0;
      this.stats.dropped += batch.length;
      this.o.onError(new XRayError(`dropped ${batch.length} segment document(s) after ${MAX_ATTEMPTS} attempts`,
        'dropped', { dropped: batch.length }));
      return true;
    }
    this.queue.unshift(...batch);
    if (this.queue.length > this.o.maxQueue) {
      const n = this.queue.length - this.o.maxQueue;
      this.queue.splice(this.o.maxQueue, n); // the newest go: the retried batch keeps its place
      this.stats.dropped += n;
      this.o.onError(new XRayError(`dropped ${n} segment document(s): the queue is full`, 'dropped', { dropped: n }));
    }
    // Exponential backoff with jitter: 1 s, 2 s, 4 s … up to 30 s.
    this.schedule(Math.min(30_000, 1000 * 2 ** (this.attempts - 1)) * (0.5 + Math.random() / 2));
    return false;
  }

  /**
   * The page is being hidden or unloaded: send what fits in one keepalive
   * request now, synchronously signed with the cached keys (an unloading page
   * runs no more promise callbacks). Without cached keys there is nothing to
   * sign with; the documents stay queued for when the page comes back.
   */
  flushOnHide(): void {
    const creds = this.freshCredentials();
    if (!creds || !this.queue.length) return;
    const batch = this.take(KEEPALIVE_BYTES);
    if (!batch.length) return;
    const body = JSON.stringify({ TraceSegmentDocuments: batch.map((b) => b.doc) });
    try {
      this.post('/TraceSegments', body, creds, true).then(
        (res) => {
          if (res.ok) this.stats.sent += batch.length;
          else this.retry(batch, new XRayError(`PutTraceSegments (page hidden): HTTP ${res.status}`, 'http', { status: res.status }));
        },
        () => this.retry(batch, new XRayError('PutTraceSegments (page hidden): network error', 'network')),
      );
    } catch (e) {
      this.queue.unshift(...batch);
    }
  }

  stop(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }
}

function httpError(path: string, res: Response, answer: string): XRayError {
  let type = res.headers.get('x-amzn-errortype')?.split(':')[0] ?? undefined;
  let message = answer.slice(0, 300);
  try {
    const j = JSON.parse(answer);
    type ??= j.__type;
    message = j.message ?? j.Message ?? message;
  } catch {
    // Not JSON: keep the text.
  }
  return new XRayError(`${path}: HTTP ${res.status} ${type ?? ''} ${message}`.trim(), 'http', {
    status: res.status,
    errorType: type,
  });
}

// Keys as the SDKs name them, or as CreateSessionKeys and STS answer them.
function normalize(c: any): Credentials {
  const out: Credentials = {
    accessKeyId: c?.accessKeyId ?? c?.AccessKeyId,
    secretAccessKey: c?.secretAccessKey ?? c?.SecretAccessKey,
    sessionToken: c?.sessionToken ?? c?.SessionToken,
    expiration: c?.expiration ?? c?.Expiration,
  };
  if (!out.accessKeyId || !out.secretAccessKey) throw new XRayError('credentials: no accessKeyId and secretAccessKey', 'credentials');
  return out;
}
