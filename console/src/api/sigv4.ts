// SigV4 signing with the AWS SDK's own signer (@smithy/signature-v4) and a
// pure-JS SHA-256, which also works where Web Crypto does not (pages served
// over plain http from a non-loopback address). Loaded on demand (keys.ts).
import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { Keys } from './keys';

export async function sign(
  keys: Keys,
  method: string,
  protocol: string,
  host: string,
  path: string,
  headers: Record<string, string>,
  body: string,
): Promise<Record<string, string>> {
  const signer = new SignatureV4({
    service: 'xray',
    region: keys.region,
    sha256: Sha256,
    credentials: {
      accessKeyId: keys.accessKeyId,
      secretAccessKey: keys.secretAccessKey,
      ...(keys.sessionToken ? { sessionToken: keys.sessionToken } : {}),
    },
  });
  const [hostname, port] = host.split(':');
  const request = new HttpRequest({
    method,
    protocol,
    hostname: hostname ?? host,
    ...(port ? { port: Number(port) } : {}),
    path,
    headers: { ...headers, host },
    body,
  });
  const signed = await signer.sign(request);
  const out: Record<string, string> = {};
  // The browser sets Host itself (and refuses to be told).
  for (const [name, value] of Object.entries(signed.headers)) if (name.toLowerCase() !== 'host') out[name] = value;
  return out;
}
