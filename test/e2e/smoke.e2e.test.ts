import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStubEngine } from '../server/stub-engine.ts';
import { startServer } from '../../main/server/index.ts';
import { builtRenderer, resultsDir, startE2E, type E2E } from './harness.ts';

describe('browser mode: the editor behind its token', () => {
  const stub = createStubEngine();
  let e2e: E2E;

  beforeAll(async () => {
    e2e = await startE2E({ engine: stub });
  });
  afterAll(async () => {
    await e2e?.close();
  });

  it('loads with the token, renders the app and reaches the engine over the WebSocket', async () => {
    await e2e.open();
    await expect(e2e.page.getByTestId('palette').isVisible()).resolves.toBe(true);
    // The palette is filled from listNodes() over /ws: proof the socket authenticated.
    await e2e.page.getByTestId('palette-item-stub:train').waitFor({ state: 'visible', timeout: 15_000 });
    await e2e.screenshot('smoke-loaded');
    expect(stub.calls.some((call) => call.method === 'listNodes')).toBe(true);
    expect(e2e.server.clientCount()).toBe(1);
    expect(e2e.errors).toEqual([]);
  });

  it('keeps working after a reload without the token in the URL, through the HttpOnly cookie', async () => {
    const before = stub.calls.filter((call) => call.method === 'listNodes').length;
    const response = await e2e.page.goto(`${e2e.origin}/`);
    expect(response?.status()).toBe(200);
    await e2e.page.getByTestId('palette-item-stub:train').waitFor({ state: 'visible', timeout: 15_000 });
    expect(stub.calls.filter((call) => call.method === 'listNodes').length).toBeGreaterThan(before);
    // The cookie is invisible to page scripts.
    expect(await e2e.page.evaluate(() => document.cookie)).toBe('');
    // A deep path falls back to the app, with its relative asset URLs still resolving.
    expect((await e2e.page.goto(`${e2e.origin}/some/deep/route`))?.status()).toBe(200);
    await e2e.page.getByTestId('palette-item-stub:train').waitFor({ timeout: 15_000 });
  });

  it('refuses a browser without the token: 403 for the page, its assets and the WebSocket', async () => {
    const stranger = await e2e.browser.newContext();
    try {
      const page = await stranger.newPage();
      const response = await page.goto(`${e2e.origin}/`);
      expect(response?.status()).toBe(403);
      expect(await page.textContent('body')).toMatch(/token/);
      expect((await page.request.get(`${e2e.origin}/index.html`)).status()).toBe(403);
      expect((await page.request.get(`${e2e.origin}/api/initial`)).status()).toBe(403);
      const socket = await page.evaluate(
        (url) =>
          new Promise<string>((resolve) => {
            const ws = new WebSocket(url);
            ws.onopen = () => resolve('open');
            ws.onclose = (event) => resolve(`closed ${event.code}`);
          }),
        `${e2e.origin.replace('http', 'ws')}/ws`,
      );
      expect(socket).toBe('closed 1006');
      await page.screenshot({ path: join(resultsDir, 'smoke-forbidden.png') });
    } finally {
      await stranger.close();
    }
  });

  it('shows a lost connection and reconnects when the server comes back', async () => {
    const { port, token } = e2e.server;
    const connection = e2e.page.getByTestId('connection');
    await expect.poll(() => connection.textContent()).toBe('connected');
    await e2e.server.close();
    await expect.poll(() => connection.textContent(), { timeout: 10_000 }).toMatch(/reconnecting|connecting/);
    // Same port and token, as after a restart of `dlflow serve --port P` with the page still open.
    const again = await startServer({ engine: stub, rendererDir: builtRenderer, port, token, allowedDirs: [], log: () => undefined });
    try {
      await expect.poll(() => connection.textContent(), { timeout: 15_000 }).toBe('connected');
      const before = stub.calls.length;
      await e2e.page.reload();
      await e2e.page.getByTestId('palette-item-stub:train').waitFor({ timeout: 15_000 });
      expect(stub.calls.length).toBeGreaterThan(before);
    } finally {
      await again.close();
    }
  });
});
