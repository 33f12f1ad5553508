// Bundles src/tracing.js and its OpenTelemetry packages into one minified ES
// module, dist/otel-web.js, and prints its size, raw and gzipped (compared
// with the X-Ray browser SDK's in docs/browser-tracing.md).
import { readFileSync, rmSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import * as esbuild from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, 'dist');

rmSync(dist, { recursive: true, force: true });
await esbuild.build({
  entryPoints: [join(here, 'src/tracing.js')],
  outfile: join(dist, 'otel-web.js'),
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['es2020'],
  minify: true,
  sourcemap: true,
  legalComments: 'none',
  logLevel: 'warning',
});
const code = readFileSync(join(dist, 'otel-web.js'));
console.log(`examples/otel-web/dist/otel-web.js: ${code.length} bytes, ${gzipSync(code, { level: 9 }).length} bytes gzipped`);
