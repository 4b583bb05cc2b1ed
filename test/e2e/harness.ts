/**
 * End-to-end harness: the built renderer served by the real browser-mode server (in this
 * process), driven in Debian's Chromium through playwright-core. Screenshots go to
 * test-results/e2e/. See test/e2e/README.md for the data-testid attributes the specs rely on.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type ConsoleMessage, type Page } from 'playwright-core';
import type { EngineApi } from '../../main/protocol/index.ts';
import { startServer, type RunningServer } from '../../main/server/index.ts';

export const repoRoot = resolve(fileURLToPath(new URL('../..', import.meta.url)));
/** out/renderer, or DLFLOW_RENDERER_DIR to test another build. */
export const builtRenderer = process.env.DLFLOW_RENDERER_DIR ?? join(repoRoot, 'out', 'renderer');
export const samplesDir = join(repoRoot, 'samples');
export const resultsDir = join(repoRoot, 'test-results', 'e2e');
export const chromiumPath = process.env.DLFLOW_CHROMIUM ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/**
 * Throws a message saying what to do when the renderer has not been built; every e2e spec calls
 * this first so a missing build is one clear line, not a pile of timeouts.
 */
export function requireBuiltRenderer(dir = builtRenderer): string {
  if (!existsSync(join(dir, 'index.html'))) {
    throw new Error(`e2e tests need the built renderer, but ${join(dir, 'index.html')} is missing: run \`npx electron-vite build\` first.`);
  }
  return dir;
}

export function requireChromium(): string {
  if (!existsSync(chromiumPath)) {
    throw new Error(`e2e tests need Chromium at ${chromiumPath}: install it with \`apt-get install -y chromium\` (or set DLFLOW_CHROMIUM).`);
  }
  return chromiumPath;
}

export interface E2EOptions {
  /** The engine the server serves: a stub, or `'real'` for createEngine with the node library. */
  engine: EngineApi | 'real';
  /** Document the page opens first (`?file=`). */
  initialFile?: string;
  /** Folders the server may open/save in; default the samples folder and a fresh temp folder. */
  allowedDirs?: string[];
  /** Default out/renderer (must be built). */
  rendererDir?: string;
  /** Viewport; default 1440×900. */
  viewport?: { width: number; height: number };
  /** Code trust store; default a fresh file in workDir (never the user's own). */
  trustStoreFile?: string;
}

export interface E2E {
  server: RunningServer;
  engine: EngineApi;
  browser: Browser;
  context: BrowserContext;
  page: Page;
  /** A temp folder inside the allowed dirs, for saving documents. */
  workDir: string;
  /** Page errors and console errors seen so far; specs assert it stays empty. */
  errors: string[];
  /** Origin without token, e.g. http://127.0.0.1:PORT */
  origin: string;
  /** Loads the server's URL (with the token) and waits for the canvas. */
  open(extraQuery?: Record<string, string>): Promise<void>;
  /** Saves test-results/e2e/<name>.png and returns its path. */
  screenshot(name: string): Promise<string>;
  close(): Promise<void>;
}

/** Builds the real engine on a private cache folder, importing the engine and nodes only when asked. */
async function realEngine(cacheDir: string): Promise<EngineApi & { dispose(): Promise<void> }> {
  const { createEngine } = await import('../../main/engine/index.ts');
  const { allNodes, allPortTypes } = await import('../../nodes/index.ts');
  return createEngine({ nodes: allNodes, portTypes: allPortTypes, cacheDir });
}

/** Starts the server and Chromium with a fresh profile; `close()` tears both down. */
export async function startE2E(options: E2EOptions): Promise<E2E> {
  const rendererDir = requireBuiltRenderer(options.rendererDir);
  const executablePath = requireChromium();
  mkdirSync(resultsDir, { recursive: true });
  const workDir = mkdtempSync(join(tmpdir(), 'dlflow-e2e-'));
  const engine = options.engine === 'real' ? await realEngine(join(workDir, '.cache')) : options.engine;
  const serverLog: string[] = [];
  const server = await startServer({
    engine,
    rendererDir,
    allowedDirs: options.allowedDirs ?? [samplesDir, workDir],
    initialFile: options.initialFile,
    trustStoreFile: options.trustStoreFile ?? join(workDir, '.config', 'trusted-code.json'),
    log: (line) => serverLog.push(line),
  });
  // A new browser per harness: no profile, cookies or storage shared between specs.
  const browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS });
  const context = await browser.newContext({ viewport: options.viewport ?? { width: 1440, height: 900 } });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
  page.on('console', (message: ConsoleMessage) => {
    // Failed loads are reported below with their URL, which the console line lacks.
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) errors.push(`console: ${message.text()}`);
  });
  page.on('response', (response) => {
    if (response.status() >= 400) errors.push(`http ${response.status()}: ${response.url()}`);
  });
  page.on('requestfailed', (request) => {
    // A preview replaced while its image loads aborts the load of the old blob: URL; not a fault.
    if (request.url().startsWith('blob:')) return;
    errors.push(`request failed: ${request.url()} (${request.failure()?.errorText})`);
  });
  const origin = `http://127.0.0.1:${server.port}`;

  return {
    server,
    engine,
    browser,
    context,
    page,
    workDir,
    errors,
    origin,
    async open(extraQuery = {}) {
      const url = new URL(server.url);
      for (const [key, value] of Object.entries(extraQuery)) url.searchParams.set(key, value);
      const response = await page.goto(url.href);
      if (response?.status() !== 200) throw new Error(`loading ${url.pathname} answered ${response?.status()}`);
      try {
        await page.getByTestId('canvas').waitFor({ state: 'visible', timeout: 30_000 });
      } catch (error) {
        // Say what the page ran into, not only that the canvas never came.
        throw new Error(`the editor did not render: ${(error as Error).message}\npage errors: ${JSON.stringify(errors, null, 2)}`);
      }
    },
    async screenshot(name) {
      const path = join(resultsDir, `${name}.png`);
      await page.screenshot({ path, fullPage: false });
      return path;
    },
    async close() {
      await browser.close().catch(() => undefined);
      await server.close();
      const disposable = engine as { dispose?: () => Promise<void> };
      if (options.engine === 'real') await disposable.dispose?.();
      rmSync(workDir, { recursive: true, force: true });
      if (serverLog.length > 0) console.error(`server log:\n${serverLog.join('\n')}`);
    },
  };
}
