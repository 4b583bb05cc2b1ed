/**
 * The editor's main path against the real engine: open a sample, add and wire a node, have an
 * invalid wire refused, edit a param, undo/redo, run and watch previews, cancel, save, reload,
 * reopen. Tests run in order on one page, as a person would work.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DlflowDocument } from '../../main/protocol/index.ts';
import { samplesDir, startE2E, type E2E } from './harness.ts';

/** The hello sample, shrunk so a run takes about a second on a CPU. */
function smallHello(): DlflowDocument {
  const document = JSON.parse(readFileSync(join(samplesDir, 'hello.dlflow'), 'utf8')) as DlflowDocument;
  const params: Record<string, Record<string, unknown>> = {
    signs: { count: 160, size: 16, classes: 4 },
    cnn: { filters: 4, denseUnits: 16 },
    train: { epochs: 2 },
  };
  for (const node of document.nodes) Object.assign(node.params, params[node.id] ?? {});
  return document;
}

async function nodeIds(page: Page): Promise<string[]> {
  return page.locator('.react-flow__node').evaluateAll((nodes) => nodes.map((n) => n.getAttribute('data-id') ?? ''));
}

async function center(locator: Locator): Promise<{ x: number; y: number }> {
  const box = await locator.boundingBox();
  if (!box) throw new Error('element has no box (not visible?)');
  return { x: box.x + box.width / 2, y: box.y + box.height / 2 };
}

/** Drags a wire from one handle to another with real mouse events, as React Flow expects. */
async function wire(page: Page, from: Locator, to: Locator): Promise<void> {
  const a = await center(from);
  const b = await center(to);
  await page.mouse.move(a.x, a.y);
  await page.mouse.down();
  await page.mouse.move((a.x + b.x) / 2, (a.y + b.y) / 2, { steps: 5 });
  await page.mouse.move(b.x, b.y, { steps: 5 });
  await page.mouse.up();
}

const status = (page: Page, id: string) => page.getByTestId(`node-status-${id}`);

describe('editor workflow in browser mode (real engine)', () => {
  let e2e: E2E;
  let file: string;
  let page: Page;
  let addedId: string;

  beforeAll(async () => {
    e2e = await startE2E({ engine: 'real' });
    file = join(e2e.workDir, 'pipeline.dlflow');
    writeFileSync(file, `${JSON.stringify(smallHello(), null, 2)}\n`);
    page = e2e.page;
  });
  afterAll(async () => {
    await e2e?.close();
  });

  it('opens a sample with every node on the canvas', async () => {
    await e2e.open({ file });
    for (const id of ['signs', 'split', 'cnn', 'train', 'evaluate']) await page.getByTestId(`node-${id}`).waitFor({ timeout: 20_000 });
    await expect(page.getByTestId('document-path').textContent()).resolves.toContain('pipeline.dlflow');
    expect(await page.locator('.react-flow__edge').count()).toBe(6);
    await e2e.screenshot('workflow-1-opened');
  });

  it('adds a node by dragging it from the palette', async () => {
    const before = await nodeIds(page);
    const canvas = await page.getByTestId('canvas').boundingBox();
    await page.getByTestId('palette-item-dlflow:data:split').dragTo(page.getByTestId('canvas'), {
      targetPosition: { x: canvas!.width * 0.5, y: canvas!.height * 0.8 },
    });
    await expect.poll(async () => (await nodeIds(page)).length).toBe(before.length + 1);
    addedId = (await nodeIds(page)).find((id) => !before.includes(id))!;
    expect(addedId).toBeTruthy();
    await page.getByTestId(`handle-in-${addedId}-dataset`).waitFor();
  });

  it('connects it, and refuses a wire whose port types differ, saying why', async () => {
    const edges = await page.locator('.react-flow__edge').count();
    await wire(page, page.getByTestId('handle-out-signs-dataset'), page.getByTestId(`handle-in-${addedId}-dataset`));
    await expect.poll(() => page.locator('.react-flow__edge').count()).toBe(edges + 1);

    // A model output into a dataset input must not connect.
    const other = (await nodeIds(page)).length;
    await page.getByTestId('palette-item-dlflow:data:split').dragTo(page.getByTestId('canvas'), {
      targetPosition: { x: 120, y: 120 },
    });
    await expect.poll(async () => (await nodeIds(page)).length).toBe(other + 1);
    const second = (await nodeIds(page)).find((id) => id !== addedId && !['signs', 'split', 'cnn', 'train', 'evaluate'].includes(id))!;
    await wire(page, page.getByTestId('handle-out-cnn-model'), page.getByTestId(`handle-in-${second}-dataset`));
    await page.getByTestId('toast').first().waitFor({ timeout: 5000 });
    expect(await page.getByTestId('toast').first().textContent()).toMatch(/model|dataset|type/i);
    expect(await page.locator('.react-flow__edge').count()).toBe(edges + 1);
    await e2e.screenshot('workflow-2-wired');
    // Remove the extra nodes again so the run below is the sample's.
    for (const id of [second, addedId]) {
      await page.getByTestId(`node-${id}`).click();
      await page.keyboard.press('Delete');
    }
    await expect.poll(async () => (await nodeIds(page)).length).toBe(5);
  });

  it('edits a param in the inspector, and undo/redo restore it', async () => {
    await page.getByTestId('node-train').click({ position: { x: 20, y: 10 } });
    const epochs = page.getByTestId('inspector').getByTestId('param-epochs');
    await epochs.fill('3');
    await epochs.press('Enter');
    await expect.poll(() => page.getByTestId('dirty-indicator').getAttribute('data-dirty')).toBe('true');
    await page.getByTestId('node-cnn').click({ position: { x: 20, y: 10 } });
    await page.getByTestId('node-train').click({ position: { x: 20, y: 10 } });
    await expect.poll(() => epochs.inputValue()).toBe('3');
    await page.getByTestId('undo-button').click();
    await expect.poll(() => epochs.inputValue()).toBe('2');
    await page.getByTestId('redo-button').click();
    await expect.poll(() => epochs.inputValue()).toBe('3');
  });

  it('runs: nodes go running → done, with an image preview and a training curve on them', async () => {
    await page.getByTestId('run-button').click();
    await expect.poll(() => status(page, 'evaluate').textContent(), { timeout: 60_000 }).toBe('done');
    for (const id of ['signs', 'split', 'cnn', 'train']) expect(await status(page, id).textContent()).toMatch(/done|cached/);
    await page.getByTestId('preview-image-signs').first().waitFor();
    await page.getByTestId('preview-curves-train').first().waitFor();
    // The preview is a real decoded PNG drawn from binary bytes.
    const size = await page
      .getByTestId('preview-image-signs')
      .locator('img')
      .first()
      .evaluate((img: HTMLImageElement) => (img.complete ? img.naturalWidth : 0));
    expect(size).toBeGreaterThan(0);
    await e2e.screenshot('workflow-3-run-done');
  });

  it('cancels a long run promptly', async () => {
    await page.getByTestId('node-train').click({ position: { x: 20, y: 10 } });
    const epochs = page.getByTestId('inspector').getByTestId('param-epochs');
    await epochs.fill('500');
    await epochs.press('Enter');
    await page.getByTestId('run-button').click();
    await expect.poll(() => status(page, 'train').textContent(), { timeout: 30_000 }).toBe('running');
    await e2e.screenshot('workflow-4-running');
    const started = Date.now();
    await page.getByTestId('cancel-button').click();
    await expect.poll(() => status(page, 'train').textContent(), { timeout: 20_000 }).toMatch(/cancelled|idle/);
    expect(Date.now() - started).toBeLessThan(15_000);
    await expect.poll(() => page.getByTestId('run-phase').textContent()).toMatch(/cancel|idle/i);
    // Back to the value the run above used, so the saved file is the one that ran.
    await page.getByTestId('undo-button').click();
    await expect.poll(() => epochs.inputValue()).toBe('3');
  });

  it('saves exactly the edited document to disk', async () => {
    await page.getByTestId('save-button').click();
    await expect.poll(() => page.getByTestId('dirty-indicator').getAttribute('data-dirty')).toBe('false');
    const saved = JSON.parse(readFileSync(file, 'utf8')) as DlflowDocument;
    expect(saved.nodes.find((n) => n.id === 'train')?.params.epochs).toBe(3);
    expect(saved.nodes.map((n) => n.id).sort()).toEqual(['cnn', 'evaluate', 'signs', 'split', 'train']);
    expect(saved.edges).toHaveLength(6);
  });

  it('after a reload, reopens the saved file with the same document', async () => {
    const saved = readFileSync(file, 'utf8');
    await page.goto(`${e2e.origin}/`);
    await page.getByTestId('canvas').waitFor();
    await page.getByTestId('open-button').click();
    await page.getByTestId('open-path').fill(file);
    await page.getByTestId('open-path-submit').click();
    await page.getByTestId('node-train').waitFor({ timeout: 20_000 });
    await page.getByTestId('node-train').click({ position: { x: 20, y: 10 } });
    await expect.poll(() => page.getByTestId('inspector').getByTestId('param-epochs').inputValue()).toBe('3');
    // Saving again without edits writes the same bytes: what was opened is what was saved.
    await page.getByTestId('save-button').click();
    await expect.poll(() => readFileSync(file, 'utf8')).toBe(saved);
    await e2e.screenshot('workflow-5-reopened');
  });

  it('opens the bundled sample from the samples folder', async () => {
    await page.getByTestId('open-button').click();
    await page.getByTestId('open-path').fill(join(samplesDir, 'hello.dlflow'));
    await page.getByTestId('open-path-submit').click();
    await expect.poll(() => page.getByTestId('document-path').textContent()).toContain('hello.dlflow');
    for (const id of ['signs', 'split', 'cnn', 'train', 'evaluate']) await page.getByTestId(`node-${id}`).waitFor();
    expect(await page.getByTestId('node-status-train').textContent()).toBe('idle');
    expect(e2e.errors).toEqual([]);
  });
});
