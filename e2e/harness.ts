/**
 * Shared parts of the e2e tests: the real server on a temporary DATA_DIR (port 0), Debian's Chromium,
 * a folder for screenshots, and an axe-core check that prints what it found.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AxeBuilder } from '@axe-core/playwright';
import {
  type Browser,
  type BrowserContext,
  type BrowserContextOptions,
  chromium,
  type Page,
} from 'playwright-core';
import { loadConfig } from '../src/server/config.ts';
import { type RunningServer, startServer, WEB_ROOT } from '../src/server/main.ts';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Flags for Debian's Chromium in a container (also used by bench/citizen-load.ts). */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/** Fails with what to do when the built client or the browser is missing. */
export function assertPrerequisites(): void {
  if (!fs.existsSync(path.join(WEB_ROOT, 'index.html'))) {
    throw new Error(
      `The built web client is missing (${WEB_ROOT}/index.html): run \`npm run build:web\` before \`npm run test:e2e\`.`,
    );
  }
  if (!fs.existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `Chromium not found at ${CHROMIUM_PATH}: install Debian's browser and CJK fonts with ` +
        '`apt-get install -y chromium fonts-noto-cjk`, or set CHROMIUM_PATH.',
    );
  }
}

/** A mid-range phone: the citizen app is mobile-first. */
export const PHONE = {
  viewport: { width: 390, height: 844 },
  deviceScaleFactor: 1,
  locale: 'zh-CN',
  isMobile: true,
};

export interface Harness {
  /** the server under test; its `url` is where the app is; `services` and `jobs` only when started here */
  server: Pick<RunningServer, 'url'> & { services?: RunningServer['services']; jobs?: RunningServer['jobs'] };
  browser: Browser;
  /** folder where screenshots are saved: E2E_SCREENSHOTS, else artifacts/screenshots/<name> (kept, not in git) */
  shots: string;
  /**
   * The server's DATA_DIR (a fresh temporary folder), e.g. for the development SMS file
   * `<dataDir>/dev-sms.jsonl`; null when the tests run against E2E_BASE_URL.
   */
  dataDir: string | null;
  /** A new page in its own phone-sized browser context (closed with the harness). */
  newPage(options?: BrowserContextOptions): Promise<Page>;
  close(): Promise<void>;
}

/**
 * Starts the real server on a fresh temporary DATA_DIR (port 0) and Chromium. With E2E_BASE_URL set
 * (e.g. http://127.0.0.1:3000) the tests run against that already running server instead.
 * `options.clock`: the current instant of the server's services (a story that files cases on past days
 * moves it, then lets it follow the system clock again before the browser signs in).
 */
export async function startHarness(name: string, options: { clock?: () => Date } = {}): Promise<Harness> {
  const external = process.env.E2E_BASE_URL;
  if (!external) assertPrerequisites();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `tongban-e2e-${name}-data-`));
  const shots = process.env.E2E_SCREENSHOTS ?? path.resolve('artifacts/screenshots', name);
  fs.mkdirSync(shots, { recursive: true });
  const server = external
    ? { url: external.replace(/\/$/, ''), close: async () => {} }
    : await startServer(
        loadConfig({ PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'silent' }),
        { listen: true, ...(options.clock ? { clock: options.clock } : {}) },
      );
  let browser: Browser;
  try {
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
  } catch (e) {
    await server.close();
    throw e;
  }
  console.log(`[e2e] server ${server.url}, screenshots in ${shots}`);
  const contexts: BrowserContext[] = [];
  return {
    server,
    browser,
    shots,
    dataDir: external ? null : dataDir,
    newPage: async (options = {}) => {
      const context = await browser.newContext({ ...PHONE, ...options });
      contexts.push(context);
      return context.newPage();
    },
    close: async () => {
      for (const c of contexts) await c.close().catch(() => {});
      await browser.close();
      await server.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Runs axe-core on the page and returns its violations, printed in a readable form when there are any. */
/**
 * Resolves when no finite CSS transition or animation is running on the page (Element Plus and Vant fade
 * and zoom popups and tags in over ~300 ms: a screenshot or an axe pass in the middle sees half-transparent
 * text and low contrast). Infinite animations (spinners) are ignored.
 */
export async function settled(page: Page): Promise<void> {
  await page.evaluate(async () => {
    for (let round = 0; round < 5; round++) {
      const running = document
        .getAnimations()
        .filter((a) => a.playState === 'running' && a.effect?.getComputedTiming().iterations !== Infinity);
      if (running.length === 0) return;
      await Promise.all(running.map((a) => a.finished.catch(() => undefined)));
    }
  });
}

export async function axeViolations(page: Page, label: string) {
  await settled(page);
  const result = await new AxeBuilder({ page }).analyze();
  if (result.violations.length > 0) {
    const lines = result.violations.map(
      (v) =>
        `- ${v.id} (${v.impact}): ${v.help}\n${v.nodes
          .slice(0, 5)
          .map((n) => `    ${n.target.join(' ')}: ${n.failureSummary?.replace(/\s+/g, ' ') ?? ''}`)
          .join('\n')}`,
    );
    console.error(`[axe] ${label}: ${result.violations.length} violation(s)\n${lines.join('\n')}`);
  }
  return result.violations;
}

/**
 * The texts the development SMS channel "sent" to `phone`, oldest first (DATA_DIR/dev-sms.jsonl, one JSON
 * object a line; older layouts kept it under DATA_DIR/var). Empty when nothing was sent.
 */
export function devSmsTo(dataDir: string, phone: string): string[] {
  for (const file of [path.join(dataDir, 'dev-sms.jsonl'), path.join(dataDir, 'var', 'dev-sms.jsonl')]) {
    if (!fs.existsSync(file)) continue;
    return fs
      .readFileSync(file, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { to: string; text: string })
      .filter((m) => m.to === phone)
      .map((m) => m.text);
  }
  return [];
}
