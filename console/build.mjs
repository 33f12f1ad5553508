// Builds the console into static files with content-hashed names, precompressed
// (gzip and brotli), and optionally writes them as a C++ source that the CMake
// build compiles into the roentgen binary (src/api/console_assets.h).
//
//   node build.mjs [--outdir DIR] [--cpp FILE] [--no-typecheck] [--tests DIR]
//
// --outdir  where the files go (default: dist/)
// --cpp     also write the asset table as C++ (one ConsoleAsset per file)
// --tests   instead of the console, bundle test/*.test.ts into DIR for `node --test`
// The TypeScript type check (tsc, strict) runs first and fails the build.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants as zlib, gzipSync } from 'node:zlib';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const option = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const outdir = resolve(option('--outdir') ?? join(here, 'dist'));
const cppFile = option('--cpp');
const testsDir = option('--tests');

function typecheck(project) {
  const tsc = join(here, 'node_modules', 'typescript', 'bin', 'tsc');
  try {
    execFileSync(process.execPath, [tsc, '--noEmit', '-p', project], { cwd: here, stdio: 'pipe' });
  } catch (e) {
    process.stderr.write(String(e.stdout) + String(e.stderr));
    throw new Error(`console: TypeScript errors in ${project}`);
  }
}

const common = {
  bundle: true,
  format: 'esm',
  target: ['chrome110', 'firefox115', 'safari16'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  logLevel: 'warning',
  legalComments: 'none',
};

async function buildTests() {
  if (!args.includes('--no-typecheck')) typecheck('test');
  const entries = readdirSync(join(here, 'test'))
    .filter((f) => f.endsWith('.test.ts'))
    .map((f) => join(here, 'test', f));
  rmSync(testsDir, { recursive: true, force: true });
  await build({ ...common, entryPoints: entries, outdir: testsDir, platform: 'node', external: ['node:*'], outExtension: { '.js': '.mjs' } });
}

const contentTypes = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.map': 'application/json',
};

function contentType(path) {
  const ext = path.slice(path.lastIndexOf('.'));
  const type = contentTypes[ext];
  if (!type) throw new Error(`console: no content type for ${path}`);
  return type;
}

async function buildConsole() {
  if (!args.includes('--no-typecheck')) typecheck('.');
  rmSync(outdir, { recursive: true, force: true });
  const result = await build({
    ...common,
    entryPoints: { main: join(here, 'src', 'main.tsx') },
    outdir: join(outdir, 'assets'),
    splitting: true,
    minify: true,
    entryNames: '[name]-[hash]',
    chunkNames: '[name]-[hash]',
    assetNames: '[name]-[hash]',
    metafile: true,
    loader: { '.svg': 'file' },
    publicPath: '/assets',
    define: { 'process.env.NODE_ENV': '"production"' },
  });
  const outputs = Object.entries(result.metafile.outputs);
  const [mainJs] = outputs.find(([, o]) => o.entryPoint && o.entryPoint.endsWith('main.tsx')) ?? [];
  const [mainCss] = outputs.find(([path]) => path.endsWith('.css')) ?? [];
  if (!mainJs) throw new Error('console: esbuild produced no main bundle');
  const href = (p) => '/' + relative(outdir, resolve(p)).split('\\').join('/');
  const html = readFileSync(join(here, 'src', 'index.html'), 'utf8')
    .replace('%MAIN_JS%', href(mainJs))
    .replace('%MAIN_CSS%', mainCss ? `<link rel="stylesheet" href="${href(mainCss)}">` : '');
  writeFileSync(join(outdir, 'index.html'), html);
  writeFileSync(join(outdir, 'favicon.svg'), readFileSync(join(here, 'src', 'favicon.svg')));

  const files = [];
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (!/\.(gz|br)$/.test(entry.name)) files.push(full);
    }
  };
  walk(outdir);
  files.sort();

  const assets = [];
  for (const file of files) {
    const body = readFileSync(file);
    const gzip = gzipSync(body, { level: 9 });
    const brotli = brotliCompressSync(body, {
      params: { [zlib.BROTLI_PARAM_QUALITY]: 11, [zlib.BROTLI_PARAM_SIZE_HINT]: body.length },
    });
    writeFileSync(file + '.gz', gzip);
    writeFileSync(file + '.br', brotli);
    const path = href(file);
    assets.push({
      path,
      contentType: contentType(path),
      body,
      gzip: gzip.length < body.length ? gzip : null,
      brotli: brotli.length < body.length ? brotli : null,
      etag: '"' + createHash('sha256').update(body).digest('base64url').slice(0, 22) + '"',
      immutable: path.startsWith('/assets/'),
    });
  }
  const manifest = assets.map((a) => ({
    path: a.path,
    bytes: a.body.length,
    gzip: a.gzip?.length ?? null,
    brotli: a.brotli?.length ?? null,
  }));
  writeFileSync(join(outdir, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
  if (cppFile) writeCpp(cppFile, assets);
  return assets;
}

// Bytes as a C++ string literal: printable ASCII as itself, the rest as
// three-digit octal escapes (which, unlike \x, never swallow the next character).
function cppLiteral(bytes) {
  const lines = [];
  let line = '';
  for (const b of bytes) {
    let c;
    if (b === 0x22) c = '\\"';
    else if (b === 0x5c) c = '\\\\';
    else if (b === 0x3f) c = '\\?'; // no trigraphs
    else if (b >= 0x20 && b < 0x7f) c = String.fromCharCode(b);
    else c = '\\' + b.toString(8).padStart(3, '0');
    line += c;
    if (line.length >= 120) {
      lines.push(`"${line}"`);
      line = '';
    }
  }
  if (line || lines.length === 0) lines.push(`"${line}"`);
  return lines.join('\n    ');
}

function writeCpp(file, assets) {
  const out = [];
  out.push('// Generated by console/build.mjs from the console\'s sources: do not edit.');
  out.push('#include <span>');
  out.push('#include <string_view>');
  out.push('');
  out.push('#include "api/console_assets.h"');
  out.push('');
  out.push('namespace roentgen::api {');
  out.push('namespace {');
  out.push('');
  out.push('using namespace std::string_view_literals;');
  out.push('');
  assets.forEach((a, i) => {
    out.push(`// ${a.path}: ${a.body.length} bytes`);
    out.push(`constexpr std::string_view kBody${i} =\n    ${cppLiteral(a.body)}sv;`);
    out.push(`constexpr std::string_view kGzip${i} =\n    ${a.gzip ? cppLiteral(a.gzip) : '""'}sv;`);
    out.push(`constexpr std::string_view kBrotli${i} =\n    ${a.brotli ? cppLiteral(a.brotli) : '""'}sv;`);
  });
  out.push('');
  out.push('constexpr ConsoleAsset kAssets[] = {');
  assets.forEach((a, i) => {
    out.push(
      `    {"${a.path}"sv, "${a.contentType}"sv, kBody${i}, kGzip${i}, kBrotli${i}, R"(${a.etag})"sv, ${a.immutable}},`,
    );
  });
  out.push('};');
  out.push('');
  out.push('}  // namespace');
  out.push('');
  out.push('std::span<const ConsoleAsset> EmbeddedConsoleAssets() { return kAssets; }');
  out.push('');
  out.push('}  // namespace roentgen::api');
  mkdirSync(dirname(resolve(file)), { recursive: true });
  writeFileSync(file, out.join('\n') + '\n');
}

if (testsDir) {
  await buildTests();
} else {
  const assets = await buildConsole();
  const total = (k) => assets.reduce((n, a) => n + (a[k]?.length ?? a.body.length), 0);
  console.log(
    `console: ${assets.length} files, ${total('body')} bytes (${total('brotli')} brotli, ${total('gzip')} gzip) in ${outdir}`,
  );
}
