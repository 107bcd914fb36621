import { accessSync, constants } from 'node:fs';
import { chromium, type Browser, type BrowserContext, type ConsoleMessage, type Page } from 'playwright-core';

/** Debian's chromium (`apt-get install chromium`); CHROMIUM_PATH points elsewhere. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const onCi = process.env.CI === 'true' || process.env.CI === '1';

function chromiumInstalled(): boolean {
  try {
    accessSync(CHROMIUM_PATH, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * For `test(name, { skip: BROWSER_SKIP }, ...)`: a reason to skip when chromium is missing
 * on a developer's machine, and false otherwise. Under CI=true it is always false, so a CI
 * machine without chromium fails in launchBrowser() instead of passing by skipping.
 */
export const BROWSER_SKIP: string | false =
  chromiumInstalled() || onCi ? false : `browser test skipped: no chromium at ${CHROMIUM_PATH} (apt-get install chromium, or set CHROMIUM_PATH)`;

/**
 * Headless chromium driven by playwright-core. WebGL (MapLibre draws with it) comes from
 * SwiftShader, the software renderer, so no GPU is needed.
 * @throws Error naming the missing executable when chromium is absent (the CI case).
 */
export async function launchBrowser(): Promise<Browser> {
  if (!chromiumInstalled()) {
    throw new Error(`chromium is not installed at ${CHROMIUM_PATH}: .ci/run installs Debian's chromium (CHROMIUM_PATH overrides the path)`);
  }
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: ['--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--disable-dev-shm-usage'],
  });
}

export interface OpenPageOptions {
  /** The API token the page stores for itself (localStorage `mapsync.token`) before it loads. */
  token?: string;
  /** Abort every request to a host other than the service's (default true): the page must work offline. */
  offline?: boolean;
  viewport?: { width: number; height: number };
}

export interface DashboardPage {
  page: Page;
  context: BrowserContext;
  /** URLs the page asked for outside the service, aborted when offline. */
  blockedRequests: string[];
  /** Uncaught exceptions and console errors of the page, for a test's failure message. */
  errors: string[];
  close(): Promise<void>;
}

/**
 * A fresh browser context on `baseUrl` (the service's own URL, e.g. TestService.url), with
 * the token already stored, every non-local request aborted and recorded, and the page's
 * errors collected. The page is loaded and its `load` event has fired.
 */
export async function openDashboard(browser: Browser, baseUrl: string, options: OpenPageOptions = {}): Promise<DashboardPage> {
  const context = await browser.newContext({ viewport: options.viewport ?? { width: 1280, height: 900 } });
  const origin = new URL(baseUrl).origin;
  const blockedRequests: string[] = [];
  const errors: string[] = [];
  if (options.offline !== false) {
    await context.route(
      (url) => url.origin !== origin && url.protocol !== 'data:' && url.protocol !== 'blob:',
      async (route) => {
        blockedRequests.push(route.request().url());
        await route.abort('internetdisconnected');
      },
    );
  }
  if (options.token !== undefined) {
    await context.addInitScript((token) => window.localStorage.setItem('mapsync.token', token), options.token);
  }
  const page = await context.newPage();
  page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
  page.on('console', (message: ConsoleMessage) => {
    if (message.type() === 'error') errors.push(`console: ${message.text()}`);
  });
  await page.goto(`${origin}/`, { waitUntil: 'load' });
  return {
    page,
    context,
    blockedRequests,
    errors,
    close: () => context.close(),
  };
}
