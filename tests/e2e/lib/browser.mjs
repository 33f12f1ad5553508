// Debian's Chromium driven by playwright-core, headless, with the flags this
// machine's closed network needs, and a roentgen server (by PID) for each test
// file. ROENTGEN_SCREENSHOTS=DIR saves the screenshots tests take there.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { startServer } from '../../compat/lib/server.mjs';

export const CHROMIUM = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium';

export async function launchBrowser() {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
    ],
  });
}

// A server and a browser for one test file; `close()` stops both. `tls`
// ({ cert, key, ca }): the server speaks HTTPS, and the browser takes its
// certificate without asking (ignoreHTTPSErrors).
export async function startConsole({ serverArgs = [], viewport = { width: 1400, height: 900 }, colorScheme = 'light', tls } = {}) {
  const server = await startServer({ args: ['--otlp-grpc-listen', 'off', '--log-level', 'warn', ...serverArgs], tls });
  let browser;
  try {
    browser = await launchBrowser();
  } catch (e) {
    await server.stop();
    throw e;
  }
  const context = await browser.newContext({ viewport, colorScheme, ignoreHTTPSErrors: Boolean(tls) });
  const errors = [];
  const newPage = async () => {
    const page = await context.newPage();
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
    page.on('console', (m) => {
      // A refused request is reported as a console error too; the tests check
      // the answers they provoke themselves.
      if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) errors.push(`console: ${m.text()}`);
    });
    return page;
  };
  return {
    server,
    browser,
    context,
    newPage,
    url: (hash = '') => `${server.endpoint}/${hash}`,
    // Errors the pages reported (uncaught exceptions, console.error).
    errors,
    async close() {
      await browser.close().catch(() => {});
      await server.stop();
    },
  };
}

export async function screenshot(page, name, options = {}) {
  const dir = process.env.ROENTGEN_SCREENSHOTS;
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: join(dir, `${name}.png`), ...options });
}
