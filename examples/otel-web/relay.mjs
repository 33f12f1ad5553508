// The page's OTLP/HTTP exports, relayed by the application's backend to
// Roentgen with a SigV4 signature. With --keys, Roentgen wants every
// /v1/traces request signed (action xray:PutSpans), and SigV4 signs the
// body's SHA-256: the OpenTelemetry exporter's `headers` option cannot do
// that (it sees no body), and a key in the page would be anyone's. So the
// page exports to its own origin (no CORS, no keys in the browser) and the
// backend, which holds a key allowed only xray:PutSpans, signs and forwards.
//
//   import { createOtlpRelay } from './relay.mjs';
//   const relay = createOtlpRelay({ endpoint: 'http://127.0.0.1:2000',
//     credentials: { accessKeyId: process.env.ROENTGEN_KEY_ID, secretAccessKey: process.env.ROENTGEN_SECRET } });
//   // in the HTTP server: if (req.method === 'POST' && req.url === '/v1/traces') return relay(req, res);
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';

const TYPES = new Set(['application/json', 'application/x-protobuf']);

export function createOtlpRelay({ endpoint, credentials, region = 'us-east-1', maxBytes = 1024 * 1024 }) {
  const target = new URL('/v1/traces', endpoint);
  const signer = new SignatureV4({ service: 'xray', region, sha256: Sha256, credentials });
  return async function relay(req, res) {
    const type = String(req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    if (req.method !== 'POST' || !TYPES.has(type)) {
      res.writeHead(415).end();
      return;
    }
    const chunks = [];
    let size = 0;
    for await (const chunk of req) {
      size += chunk.length;
      if (size > maxBytes) {
        res.writeHead(413).end();
        req.destroy();
        return;
      }
      chunks.push(chunk);
    }
    const body = Buffer.concat(chunks);
    const headers = { host: target.host, 'content-type': type };
    if (req.headers['content-encoding']) headers['content-encoding'] = req.headers['content-encoding'];
    try {
      const signed = await signer.sign({
        method: 'POST', protocol: target.protocol, hostname: target.hostname,
        port: target.port ? Number(target.port) : undefined, path: target.pathname, headers, body,
      });
      const answer = await fetch(target, { method: 'POST', headers: signed.headers, body });
      // The exporter retries 429, 502, 503 and 504: pass the status through.
      res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' });
      res.end(Buffer.from(await answer.arrayBuffer()));
    } catch {
      res.writeHead(503).end(); // Roentgen unreachable: the exporter retries
    }
  };
}
