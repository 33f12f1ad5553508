// Segments and subsegments as X-Ray's segment documents describe them.
import { newSegmentId, newTraceId, nowSeconds } from './ids';

export type AnnotationValue = string | number | boolean;

export interface StackFrame {
  path?: string;
  line?: number;
  label?: string;
}

export interface ExceptionDoc {
  id: string;
  type?: string;
  message?: string;
  remote?: boolean;
  stack?: StackFrame[];
  truncated?: number;
}

export interface HttpBlock {
  request?: { method?: string; url?: string; user_agent?: string; client_ip?: string; traced?: boolean };
  response?: { status?: number; content_length?: number };
}

/** X-Ray's rules for annotation keys: letters, digits and `_`, at most 500 characters. */
export const ANNOTATION_KEY = /^[A-Za-z0-9_]{1,500}$/;
/** X-Ray's limit on an annotation's string value, in characters. */
export const MAX_ANNOTATION_VALUE = 1000;
const MAX_FRAMES = 50;

/** Why an annotation is refused, or '' when it is fine. */
export function checkAnnotation(key: string, value: unknown): string {
  if (typeof key !== 'string' || !ANNOTATION_KEY.test(key)) {
    return `annotation key ${JSON.stringify(key)}: X-Ray takes 1-500 letters, digits and '_'`;
  }
  if (typeof value === 'string') {
    if ([...value].length > MAX_ANNOTATION_VALUE) return `annotation ${key}: over ${MAX_ANNOTATION_VALUE} characters`;
  } else if (typeof value === 'number') {
    if (!Number.isFinite(value)) return `annotation ${key}: not a finite number`;
  } else if (typeof value !== 'boolean') {
    return `annotation ${key}: a string, number or boolean is needed, not ${value === null ? 'null' : typeof value}`;
  }
  return '';
}

// One line of a stack trace: Chromium's "    at label (url:line:col)" or
// "    at url:line:col", Firefox's and Safari's "label@url:line:col".
const V8_FRAME = /^\s*at (?:(.+?) \()?(.+?):(\d+):\d+\)?\s*$/;
const GECKO_FRAME = /^\s*(.*?)@(.+?):(\d+):\d+\s*$/;

/** The frames of a JS stack trace, innermost first (at most 50). */
export function parseStack(stack: string | undefined): { frames: StackFrame[]; truncated: number } {
  const frames: StackFrame[] = [];
  let total = 0;
  for (const line of (stack ?? '').split('\n')) {
    const m = V8_FRAME.exec(line) ?? GECKO_FRAME.exec(line);
    if (!m) continue;
    total++;
    if (frames.length < MAX_FRAMES) {
      const f: StackFrame = { path: m[2], line: Number(m[3]) };
      if (m[1]) f.label = m[1];
      frames.push(f);
    }
  }
  return { frames, truncated: total - frames.length };
}

/** An X-Ray exception from whatever was thrown. */
export function exceptionOf(err: unknown, remote = false): ExceptionDoc {
  const e: ExceptionDoc = { id: newSegmentId() };
  if (err instanceof Error) {
    e.type = err.name || 'Error';
    e.message = err.message;
    const { frames, truncated } = parseStack(err.stack);
    if (frames.length) e.stack = frames;
    if (truncated) e.truncated = truncated;
  } else {
    e.type = typeof err;
    e.message = String(err);
  }
  if (remote) e.remote = true;
  return e;
}

export interface EntityOptions {
  annotations?: Record<string, AnnotationValue>;
  metadata?: Record<string, unknown>;
  /** `remote` for calls to other services, `aws` for AWS calls. */
  namespace?: 'remote' | 'aws';
  http?: HttpBlock;
}

/** What segments and subsegments have in common. */
export abstract class Entity {
  readonly id = newSegmentId();
  name: string;
  readonly start_time: number;
  end_time?: number;
  namespace?: string;
  annotations?: Record<string, AnnotationValue>;
  metadata?: Record<string, Record<string, unknown>>;
  http?: HttpBlock;
  error?: boolean;
  fault?: boolean;
  throttle?: boolean;
  cause?: { exceptions: ExceptionDoc[] };
  readonly subsegments: Subsegment[] = [];
  /** Set once the entity went out in a complete document (so it is never sent twice). */
  sent = false;

  constructor(name: string) {
    this.name = name;
    this.start_time = nowSeconds();
  }

  // Called by the subclasses once `segment` works.
  protected apply(opts: EntityOptions = {}): void {
    if (opts.namespace) this.namespace = opts.namespace;
    if (opts.http) this.http = opts.http;
    for (const [k, v] of Object.entries(opts.annotations ?? {})) this.addAnnotation(k, v);
    for (const [k, v] of Object.entries(opts.metadata ?? {})) this.addMetadata(k, v);
  }

  /** The segment this entity belongs to. */
  abstract get segment(): Segment;

  get closed(): boolean {
    return this.end_time !== undefined;
  }

  /** Adds an annotation (indexed, filterable); a bad key or value is reported to onError and skipped. */
  addAnnotation(key: string, value: AnnotationValue): this {
    const bad = checkAnnotation(key, value);
    if (bad) this.segment.report(new Error(bad));
    else (this.annotations ??= {})[key] = value;
    return this;
  }

  /** Adds metadata (any JSON, not indexed) under `namespace` (default `default`). */
  addMetadata(key: string, value: unknown, namespace = 'default'): this {
    ((this.metadata ??= {})[namespace] ??= {})[key] = value;
    return this;
  }

  /**
   * Records a thrown value: `fault` (a failure of this code or a 5xx) unless
   * `kind` says `error` (a client error, 4xx) or `throttle`.
   */
  addError(err: unknown, kind: 'fault' | 'error' | 'throttle' = 'fault', remote = false): this {
    this.flag(kind);
    (this.cause ??= { exceptions: [] }).exceptions.push(exceptionOf(err, remote));
    return this;
  }

  flag(kind: 'fault' | 'error' | 'throttle'): void {
    if (kind === 'throttle') this.throttle = this.error = true;
    else this[kind] = true;
  }

  /** Records an HTTP status on this entity: 429 throttle, 4xx error, 5xx fault. */
  setResponse(status: number, contentLength?: number): void {
    const http = (this.http ??= {});
    http.response = { status };
    if (contentLength !== undefined && contentLength >= 0) http.response.content_length = contentLength;
    if (status === 429) this.flag('throttle');
    else if (status >= 500) this.flag('fault');
    else if (status >= 400) this.flag('error');
  }

  /** Opens a subsegment under this entity. */
  beginSubsegment(name: string, opts?: EntityOptions): Subsegment {
    const sub = new Subsegment(name, this, opts);
    this.subsegments.push(sub);
    return sub;
  }

  /** Closes the entity; a thrown value given is recorded as a fault first. */
  close(err?: unknown): void {
    if (this.closed) return;
    if (err !== undefined) this.addError(err);
    this.end_time = nowSeconds();
    this.segment.closed_(this);
  }

  /** Marks this entity and the closed subsegments its complete document carries as sent. */
  markSent(): void {
    this.sent = true;
    for (const s of this.subsegments) if (s.closed && !s.sent) s.markSent();
  }

  /** The `X-Amzn-Trace-Id` header naming this entity as the parent of the callee. */
  traceHeader(): string {
    const s = this.segment;
    return `Root=${s.trace_id};Parent=${this.id};Sampled=${s.sampled ? 1 : 0}`;
  }

  // The document's fields; `inProgress` marks an open entity as X-Ray does.
  protected fields(inProgress: boolean): Record<string, unknown> {
    const d: Record<string, unknown> = { id: this.id, name: this.name, start_time: this.start_time };
    if (this.end_time !== undefined) d.end_time = this.end_time;
    else if (inProgress) d.in_progress = true;
    for (const k of ['namespace', 'annotations', 'metadata', 'http', 'error', 'fault', 'throttle', 'cause'] as const) {
      if (this[k] !== undefined) d[k] = this[k];
    }
    const subs = this.subsegments.filter((s) => !s.sent && (s.closed || inProgress)).map((s) => s.toDocument(inProgress));
    if (subs.length) d.subsegments = subs;
    return d;
  }
}

export class Subsegment extends Entity {
  readonly parent: Entity;

  constructor(name: string, parent: Entity, opts?: EntityOptions) {
    super(name);
    this.parent = parent;
    this.apply(opts);
  }

  get segment(): Segment {
    return this.parent.segment;
  }

  /** The subsegment as an embedded document (or, with `independent`, one of its own). */
  toDocument(inProgress = false, independent = false): Record<string, unknown> {
    const d = this.fields(inProgress);
    if (independent) {
      d.type = 'subsegment';
      d.trace_id = this.segment.trace_id;
      d.parent_id = this.parent.id;
    }
    return d;
  }
}

export interface SegmentOptions extends EntityOptions {
  /** The signed-in user, X-Ray's `user` field (indexed: filter with `user = "…"`). */
  user?: string;
  /** X-Ray's `origin` (the type of resource), e.g. `AWS::AppSync::GraphQLAPI`; none by default. */
  origin?: string;
  /** Continue a trace: its id and the parent segment's or subsegment's id. */
  traceId?: string;
  parentId?: string;
}

export class Segment extends Entity {
  readonly trace_id: string;
  parent_id?: string;
  user?: string;
  origin?: string;
  /** Whether this trace is recorded (the sampling decision). */
  sampled: boolean;
  /** Where the segment reports a misuse (a bad annotation key); set by the recorder. */
  report: (e: Error) => void = () => {};
  /** Called when the segment or one of its subsegments closes; set by the recorder. */
  closed_: (e: Entity) => void = () => {};

  constructor(name: string, opts: SegmentOptions = {}, sampled = true, report?: (e: Error) => void) {
    super(name);
    this.sampled = sampled;
    if (report) this.report = report;
    this.trace_id = opts.traceId ?? newTraceId(this.start_time * 1000);
    if (opts.parentId) this.parent_id = opts.parentId;
    if (opts.user) this.user = opts.user;
    if (opts.origin) this.origin = opts.origin;
    this.apply(opts);
  }

  get segment(): Segment {
    return this;
  }

  toDocument(inProgress = false): Record<string, unknown> {
    const d = this.fields(inProgress);
    d.trace_id = this.trace_id;
    if (this.parent_id) d.parent_id = this.parent_id;
    if (this.user) d.user = this.user;
    if (this.origin) d.origin = this.origin;
    return d;
  }
}
