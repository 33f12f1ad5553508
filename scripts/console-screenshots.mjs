// Takes the console screenshots shown in README.md and docs/console.md, in
// both themes, from a fresh server loaded with the seed's scenario.
//
//   node scripts/console-screenshots.mjs [--out docs/images] [--bin build/src/cli/roentgen]
//
// Needs what scripts/test.sh installs (Debian's chromium, tests/e2e's
// playwright-core, tests/compat's lib) and a built roentgen.
import { resolve } from 'node:path';
import { launchBrowser } from '../tests/e2e/lib/browser.mjs';
import { putDocuments, scenario } from '../tests/e2e/lib/demo-data.mjs';
import { startServer } from '../tests/compat/lib/server.mjs';

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const out = resolve(option('--out', 'docs/images'));
if (option('--bin')) process.env.ROENTGEN_BIN = resolve(option('--bin'));

const server = await startServer({ args: ['--otlp-grpc-listen', 'off', '--log-level', 'warn'] });
const browser = await launchBrowser();
try {
  const now = Date.now() / 1000;
  const data = scenario({ now, count: 600, spreadSeconds: 3300, seed: 21 });
  await putDocuments(server.endpoint, data.documents);
  await fetch(`${server.endpoint}/CreateGroup`, {
    method: 'POST',
    body: JSON.stringify({ GroupName: 'slow-requests', FilterExpression: 'responsetime > 1' }),
  });
  const fault = data.traces.find((t) => t.kind === 'fault' && t.operation === 'listNotes');
  const ok = data.traces.find((t) => t.kind === 'ok' && t.operation === 'createNote' && !t.partial);
  const error = data.traces.find((t) => t.kind === 'error' && t.operation === 'createNote');

  for (const theme of ['light', 'dark']) {
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, colorScheme: theme, deviceScaleFactor: 1 });
    const page = await context.newPage();
    const shot = async (name) => {
      await page.waitForTimeout(400); // charts settle
      await page.screenshot({ path: `${out}/${name}-${theme}.png` });
      console.log(`${out}/${name}-${theme}.png`);
    };
    const open = (hash) => page.goto(`${server.endpoint}/${hash}`);

    await open('#/traces?range=1h&q=annotation.email%20%3D%20%22alice%40example.com%22');
    await page.locator('[data-trace-id]').first().waitFor();
    await page.getByTestId('trace-count').filter({ hasText: 'traces' }).waitFor();
    await shot('console-traces');

    await open(`#/trace/${fault.id}`);
    await page.getByRole('row', { name: /^notes-fn, Lambda::Function|^notes-fn.*Function/ }).first().click();
    await page.getByRole('tab', { name: /Exceptions/ }).click();
    await shot('console-trace');

    await open('#/map?range=1h&node=notes-fn%7CAWS%3A%3ALambda%3A%3AFunction%7C123456789012');
    await page.getByRole('button', { name: 'View traces' }).waitFor();
    await shot('console-map');

    await open('#/compare?a=fault&b=ok&range=1h');
    await page.getByText('Biggest differences').waitFor();
    await shot('console-compare');

    await open(`#/diff/${ok.id}/${error.id}`);
    await page.getByTestId('matched').waitFor();
    await shot('console-diff');
    await context.close();
  }
} finally {
  await browser.close();
  await server.stop();
}
