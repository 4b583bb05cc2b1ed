/**
 * Code trust in browser mode (stub engine with a code node): running a document whose code is not
 * trusted asks first; Cancel runs nothing; "Trust and run" records trust on the server and runs
 * with allowCode decided by the server; a trusted document runs without asking; changed code asks again.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EngineApi, NodeCatalog, RunOptions } from '../../main/protocol/index.ts';
import { createStubEngine, emptyDocument, stubCatalog } from '../server/stub-engine.ts';
import { startE2E, type E2E } from './harness.ts';

const catalog: NodeCatalog = {
  ...stubCatalog,
  nodes: [
    ...stubCatalog.nodes,
    {
      id: 'stub:code',
      version: 1,
      name: 'Code model',
      category: 'model',
      description: 'Builds a model from code.',
      inputs: {},
      outputs: { model: { type: 'model' } },
      params: { code: { kind: 'code', default: 'return 1', language: 'typescript' } },
      sideEffects: false,
      previews: [],
    },
  ],
};

describe('code trust in browser mode', () => {
  const stub = createStubEngine();
  const engine: EngineApi = { ...stub, listNodes: async () => catalog, validate: async () => [] };
  let e2e: E2E;
  let page: Page;
  const runs = () => stub.calls.filter((c) => c.method === 'run').map((c) => (c.args as { options?: RunOptions }).options ?? {});

  beforeAll(async () => {
    e2e = await startE2E({ engine });
    page = e2e.page;
    const file = join(e2e.workDir, 'code.dlflow');
    const document = { ...emptyDocument(), nodes: [{ id: 'net', type: 'stub:code', params: { code: 'return 1' }, position: { x: 0, y: 0 } }] };
    writeFileSync(file, JSON.stringify(document));
    await e2e.open({ file });
    await page.getByTestId('node-net').waitFor();
  });
  afterAll(async () => {
    await e2e?.close();
  });

  it('asks before running untrusted code; Cancel runs nothing', async () => {
    await page.getByTestId('run-button').click();
    await page.getByTestId('trust-dialog').waitFor();
    expect(await page.getByTestId('trust-dialog').textContent()).toContain('This file contains code that will run on your machine');
    // The code itself is shown, to be read before trusting it.
    expect(await page.getByTestId('trust-code-net').textContent()).toBe('return 1');
    await e2e.screenshot('trust-dialog');
    await page.getByTestId('trust-cancel').click();
    await page.getByTestId('trust-dialog').waitFor({ state: 'detached' });
    expect(runs()).toHaveLength(0);
  });

  it('Trust and run records trust and runs with allowCode set by the server; the next run does not ask', async () => {
    await page.getByTestId('run-button').click();
    await page.getByTestId('trust-accept').click();
    await expect.poll(() => runs().length).toBe(1);
    expect(runs()[0]!.allowCode).toBe(true);
    await expect.poll(() => page.getByTestId('node-status-net').textContent()).toBe('done');

    await page.getByTestId('run-button').click();
    await expect.poll(() => runs().length).toBe(2);
    expect(runs()[1]!.allowCode).toBe(true);
    expect(await page.getByTestId('trust-dialog').count()).toBe(0);
  });

  it('asks again once the code changes', async () => {
    await expect.poll(() => page.getByTestId('run-phase').textContent()).not.toMatch(/running|starting/);
    // On the title: the node's middle is its preview, which opens the large view.
    await page.getByTestId('node-net').click({ position: { x: 30, y: 10 } });
    const code = page.getByTestId('param-code');
    await code.waitFor();
    // Monaco (or a textarea fallback): type at the end of the snippet.
    await code.click();
    await page.keyboard.press('Control+End');
    await page.keyboard.type(' // changed');
    await page.waitForTimeout(300);
    await page.getByTestId('run-button').click();
    await page.getByTestId('trust-dialog').waitFor();
    await page.getByTestId('trust-cancel').click();
    expect(runs()).toHaveLength(2);
    expect(e2e.errors).toEqual([]);
  });
});
