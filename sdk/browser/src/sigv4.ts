// AWS Signature Version 4 for JSON POSTs, computed synchronously so that a
// page being hidden or unloaded can sign its last batch inside the event
// handler: WebCrypto answers with promises, which an unloading page never
// sees resolved. SHA-256 is @aws-crypto/sha256-js's (AWS's implementation for
// browsers); its RawSha256 alone keeps the bundle small, with HMAC (RFC 2104)
// on top.
import { RawSha256 } from '@aws-crypto/sha256-js/build/module/RawSha256.js';

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  /** When the keys stop working (a Date, epoch ms, or an ISO 8601 string). */
  expiration?: Date | number | string;
}

/** Keys as CreateSessionKeys (or STS) answers them. */
export interface AwsCredentials {
  AccessKeyId: string;
  SecretAccessKey: string;
  SessionToken?: string;
  Expiration?: string | number | Date;
}

export type CredentialsProvider = () => Credentials | AwsCredentials | Promise<Credentials | AwsCredentials>;

export interface SignInput {
  method: string;
  url: URL;
  /** Headers to sign besides host and x-amz-date (lower- or mixed-case names). */
  headers: Record<string, string>;
  body: string;
}

const enc = new TextEncoder();

function hex(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += (b[i] < 16 ? '0' : '') + b[i].toString(16);
  return s;
}

function sha256(...parts: Uint8Array[]): Uint8Array {
  const h = new RawSha256();
  for (const p of parts) h.update(p);
  return h.digest();
}

/** SHA-256 of `data`, or HMAC-SHA-256 of it with `key`. */
export function hash(data: string | Uint8Array, key?: Uint8Array): Uint8Array {
  const msg = typeof data === 'string' ? enc.encode(data) : data;
  if (!key) return sha256(msg);
  const block = new Uint8Array(64);
  block.set(key.length > 64 ? sha256(key) : key);
  const inner = block.map((b) => b ^ 0x36);
  const outer = block.map((b) => b ^ 0x5c);
  return sha256(outer, sha256(inner, msg));
}

// RFC 3986 encoding as SigV4 wants it: everything but A-Z a-z 0-9 - _ . ~.
function uriEncode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}

/** `20150830T123600Z` */
export function amzDate(d: Date): string {
  return d.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

/**
 * The headers to send: `input.headers` plus `x-amz-date`, `x-amz-security-token`
 * (with a session token) and `authorization`. `host` is signed as the URL's
 * host (what the browser sends) and is not returned: browsers set it themselves.
 */
export function signRequest(
  input: SignInput,
  creds: Credentials,
  region: string,
  service: string,
  now: Date = new Date(),
): Record<string, string> {
  const date = amzDate(now);
  const day = date.slice(0, 8);
  const out: Record<string, string> = { ...input.headers, 'x-amz-date': date };
  if (creds.sessionToken) out['x-amz-security-token'] = creds.sessionToken;

  const canon: Record<string, string[]> = { host: [input.url.host] };
  for (const [k, v] of Object.entries(out)) {
    const name = k.toLowerCase();
    (canon[name] ??= []).push(v.trim().replace(/\s+/g, ' '));
  }
  const names = Object.keys(canon).sort();
  const signedHeaders = names.join(';');
  const path = input.url.pathname.split('/').map((p) => uriEncode(decodeURIComponent(p))).join('/') || '/';
  const query = [...input.url.searchParams]
    .map(([k, v]) => [uriEncode(k), uriEncode(v)])
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const canonicalRequest = [
    input.method.toUpperCase(),
    path,
    query,
    names.map((n) => `${n}:${canon[n].join(',')}\n`).join(''),
    signedHeaders,
    hex(hash(input.body)),
  ].join('\n');
  const scope = `${day}/${region}/${service}/aws4_request`;
  const stringToSign = `AWS4-HMAC-SHA256\n${date}\n${scope}\n${hex(hash(canonicalRequest))}`;
  let key = hash(day, enc.encode('AWS4' + creds.secretAccessKey));
  key = hash(region, key);
  key = hash(service, key);
  key = hash('aws4_request', key);
  const signature = hex(hash(stringToSign, key));
  out.authorization =
    `AWS4-HMAC-SHA256 Credential=${creds.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
  return out;
}
