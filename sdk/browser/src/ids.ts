// X-Ray ids from the browser's CSPRNG, every byte as two hex digits (the
// seed's hand-written code dropped leading zeros, making short, invalid ids).

function randomHex(bytes: number): string {
  const b = crypto.getRandomValues(new Uint8Array(bytes));
  let s = '';
  for (let i = 0; i < b.length; i++) s += (b[i] < 16 ? '0' : '') + b[i].toString(16);
  return s;
}

/** `1-<8 hex digits of epoch seconds>-<24 hex digits>`. */
export function newTraceId(nowMs: number = Date.now()): string {
  return `1-${Math.floor(nowMs / 1000).toString(16).padStart(8, '0')}-${randomHex(12)}`;
}

/** 16 hex digits: a segment's or subsegment's id. */
export function newSegmentId(): string {
  return randomHex(8);
}

/** 24 hex digits: the client id of sampling statistics. */
export function newClientId(): string {
  return randomHex(12);
}

/** Seconds since the epoch with microseconds, as X-Ray's documents carry them. */
export function nowSeconds(): number {
  const p = globalThis.performance;
  const ms = p && p.timeOrigin ? p.timeOrigin + p.now() : Date.now();
  return Math.round(ms * 1000) / 1e6;
}
