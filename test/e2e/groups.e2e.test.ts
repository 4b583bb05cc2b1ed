/**
 * Groups (stub engine): select nodes → Ctrl+G frames them; the label is renamed in place; dragging
 * the frame moves its members; undo/redo; the group is saved in the file; ungroup removes the frame.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DlflowDocument } from '../../main/protocol/index.ts';
import { createStubEngine, emptyDocument } from '../server/stub-engine.ts';
import { startE2E, type E2E } from './harness.ts';

describe('groups in browser mode', () => {
  let e2e: E2E;
  let page: Page;
  let file: string;

  const saved = async (): Promise<DlflowDocument> => {
    await page.keyboard.press('Control+s');
    await expect.poll(() => page.getByTestId('dirty-indicator').getAttribute('data-dirty')).toBe('false');
    return JSON.parse(readFileSync(file, 'utf8')) as DlflowDocument;
  };
  const positions = (d: DlflowDocument) => Object.fromEntries(d.nodes.map((n) => [n.id, n.position]));

  beforeAll(async () => {
    e2e = await startE2E({ engine: createStubEngine() });
    page = e2e.page;
    file = join(e2e.workDir, 'groups.dlflow');
    const document = {
      ...emptyDocument(),
      nodes: [
        { id: 'load', type: 'stub:load-folder', params: { folder: '', limit: 10 }, position: { x: 0, y: 0 } },
        { id: 'train', type: 'stub:train', params: { epochs: 2 }, position: { x: 320, y: 40 } },
      ],
      edges: [],
    };
    writeFileSync(file, JSON.stringify(document));
    await e2e.open({ file });
    await page.getByTestId('node-train').waitFor();
  });
  afterAll(async () => {
    await e2e?.close();
  });

  it('frames the selected nodes with Ctrl+G and renames the frame in place', async () => {
    await page.locator('.react-flow__pane').click({ position: { x: 5, y: 5 } });
    await page.keyboard.press('Control+a');
    await page.keyboard.press('Control+g');
    const frame = page.getByTestId('group-g1');
    await frame.waitFor();
    const box = (await frame.boundingBox())!;
    for (const id of ['load', 'train']) {
      const n = (await page.getByTestId(`node-${id}`).boundingBox())!;
      expect(n.x).toBeGreaterThan(box.x);
      expect(n.y).toBeGreaterThan(box.y);
      expect(n.x + n.width).toBeLessThan(box.x + box.width);
      expect(n.y + n.height).toBeLessThan(box.y + box.height);
    }
    await page.getByTestId('group-label-g1').dblclick();
    await page.getByTestId('group-label-input-g1').fill('Data and model');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.getByTestId('group-label-g1').textContent()).toBe('Data and model');
    await page.getByTestId('group-color-g1').click();
    await e2e.screenshot('group-frame');
    const d = await saved();
    expect(d.groups).toEqual([{ id: 'g1', label: 'Data and model', color: '#4f8cff', nodeIds: ['load', 'train'] }]);
  });

  it('dragging the frame by its label moves its members; undo puts them back', async () => {
    const before = positions(await saved());
    const header = (await page.locator('[data-testid="group-g1"] .dl-group-header').boundingBox())!;
    const zoom = await page.evaluate(() => {
      const t = (document.querySelector('.react-flow__viewport') as HTMLElement).style.transform;
      return Number(/scale\(([\d.]+)\)/.exec(t)?.[1] ?? 1);
    });
    await page.mouse.move(header.x + 40, header.y + header.height / 2);
    await page.mouse.down();
    await page.mouse.move(header.x + 40 + 60, header.y + header.height / 2 + 30, { steps: 6 });
    await page.mouse.move(header.x + 40 + 120, header.y + header.height / 2 + 60, { steps: 6 });
    await page.mouse.up();
    const after = positions(await saved());
    // Members move together, by about the pointer's travel (React Flow's drag threshold eats the first few pixels, as for any node).
    const dx = after.load!.x - before.load!.x;
    const dy = after.load!.y - before.load!.y;
    expect({ x: after.train!.x - before.train!.x, y: after.train!.y - before.train!.y }).toEqual({ x: dx, y: dy });
    expect(dx).toBeGreaterThan((120 / zoom) * 0.85);
    expect(dx).toBeLessThanOrEqual(120 / zoom + 1);
    expect(dy).toBeGreaterThan((60 / zoom) * 0.8);
    // The whole drag is one undo step.
    await page.getByTestId('undo-button').click();
    expect(positions(await saved())).toEqual(before);
    await page.getByTestId('redo-button').click();
    expect(positions(await saved())).toEqual(after);
  });

  it('ungroups (the nodes stay) and undo brings the frame back', async () => {
    await page.getByTestId('group-ungroup-g1').click();
    await page.getByTestId('group-g1').waitFor({ state: 'detached' });
    const d = await saved();
    expect(d.groups).toBeUndefined();
    expect(d.nodes.map((n) => n.id)).toEqual(['load', 'train']);
    await page.getByTestId('undo-button').click();
    await page.getByTestId('group-g1').waitFor();
    expect(e2e.errors).toEqual([]);
  });
});
