// Test certificates made with Debian's openssl.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

// A self-signed certificate for 127.0.0.1 and localhost, written into `dir`
// as NAME-cert.pem and NAME-key.pem (CA:TRUE, as `openssl req -x509` makes
// it, so a client may trust it as its own root): { cert, key } paths and
// `ca`, the certificate's PEM.
export function makeCertificate(dir, name) {
  const cert = join(dir, `${name}-cert.pem`);
  const key = join(dir, `${name}-key.pem`);
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', key, '-out', cert, '-days', '1', '-subj', `/CN=${name}`,
    '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
  ], { stdio: 'ignore' });
  return { cert, key, ca: readFileSync(cert) };
}
