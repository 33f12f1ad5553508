// Builds the SDK into dist/: xray.js (one minified ES module, its only
// dependency, the SHA-256 of @aws-crypto/sha256-js, bundled in), its source
// map and type declarations (xray.d.ts and the modules' .d.ts). Prints the
// bundle's size and fails when gzip makes it more than 10 KB.
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import * as esbuild from 'esbuild';

export const LIMIT_GZIP_BYTES = 10 * 1024;
const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, 'dist');

rmSync(dist, { recursive: true, force: true });
await esbuild.build({
  entryPoints: [join(here, 'src/index.ts')],
  outfile: join(dist, 'xray.js'),
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['es2020'],
  minify: true,
  sourcemap: true,
  legalComments: 'none',
  logLevel: 'warning',
});
execFileSync(process.execPath, [join(here, 'node_modules/typescript/bin/tsc'), '-p', here], { stdio: 'inherit' });
writeFileSync(join(dist, 'xray.d.ts'), "export * from './index';\n");

const code = readFileSync(join(dist, 'xray.js'));
const gz = gzipSync(code, { level: 9 }).length;
console.log(`sdk/browser/dist/xray.js: ${code.length} bytes, ${gz} bytes gzipped (limit ${LIMIT_GZIP_BYTES})`);
if (gz > LIMIT_GZIP_BYTES) {
  console.error(`the bundle is over ${LIMIT_GZIP_BYTES} bytes gzipped`);
  process.exit(1);
}
