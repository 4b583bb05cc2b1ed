import '../_leak-guard.ts';
import { describe, expect, it } from 'vitest';
import { CancelledError } from '../../../main/engine/errors.ts';
import type { Dataset } from '../../../nodes/_lib/dataset.ts';
import { SIGN_CLASSES } from '../../../nodes/_lib/signs.ts';
import { sampleSigns } from '../../../nodes/data/sample-signs.node.ts';
import { makeContext } from '../_ctx.ts';

const params = { count: 40, size: 16, classes: 4, difficulty: 0.5, seed: 7 };
const generate = async (p: Partial<typeof params> = {}): Promise<Dataset> =>
  ((await sampleSigns.run({}, { ...params, ...p }, makeContext())) as { dataset: Dataset }).dataset;
const allPixels = (d: Dataset): Uint8Array => d.store.read(Array.from({ length: d.count }, (_, i) => i));

describe('sample-signs', () => {
  it('makes balanced RGB images of the asked size and classes', async () => {
    const d = await generate();
    expect(d.count).toBe(40);
    expect(d.imageShape).toEqual([16, 16, 3]);
    expect(d.classes).toEqual(SIGN_CLASSES.slice(0, 4).map((c) => c.name));
    expect(Array.from(d.labels.slice(0, 6))).toEqual([0, 1, 2, 3, 0, 1]);
    expect(d.subsets).toEqual({});
    // Images are not blank and not all the same.
    const px = allPixels(d);
    const per = 16 * 16 * 3;
    const first = px.subarray(0, per);
    expect(new Set(first).size).toBeGreaterThan(20);
    expect(Buffer.compare(first, px.subarray(per, 2 * per))).not.toBe(0);
  });

  it('is deterministic by seed, and a larger count extends a smaller one', async () => {
    const a = allPixels(await generate());
    const b = allPixels(await generate());
    expect(Buffer.compare(a, b)).toBe(0);
    const other = allPixels(await generate({ seed: 8 }));
    expect(Buffer.compare(a, other)).not.toBe(0);
    const more = allPixels(await generate({ count: 60 }));
    expect(Buffer.compare(a, more.subarray(0, a.length))).toBe(0);
  });

  it('draws the classes differently (mean colour differs between stop and mandatory-arrow)', async () => {
    const d = await generate({ count: 80, difficulty: 0 });
    const meanOf = (cls: number, ch: number): number => {
      let s = 0;
      let n = 0;
      d.labels.forEach((l, i) => {
        if (l !== cls) return;
        const px = d.store.read([i]);
        for (let k = ch; k < px.length; k += 3) {
          s += px[k];
          n++;
        }
      });
      return s / n;
    };
    // stop is red, mandatory-arrow is blue: their red-minus-blue balance must differ clearly.
    expect(meanOf(0, 0) - meanOf(0, 2)).toBeGreaterThan(meanOf(3, 0) - meanOf(3, 2) + 20);
  });

  it('reports progress and previews an image grid per class', async () => {
    const ctx = makeContext();
    const out = (await sampleSigns.run({}, params, ctx)) as { dataset: Dataset };
    expect(ctx.progressCalls.length).toBeGreaterThan(0);
    expect(ctx.progressCalls.at(-1)!.fraction).toBe(1);
    expect(sampleSigns.summary!(out, params)).toBe('40 images, 4 classes, 16x16');
    const preview = sampleSigns.preview!(out, params);
    expect(preview).toMatchObject({ kind: 'image-grid', columns: 8 });
    const grid = preview as { images: { caption?: string; png: Uint8Array }[] };
    expect(grid.images).toHaveLength(32);
    expect(new Set(grid.images.map((i) => i.caption))).toEqual(new Set(out.dataset.classes));
  });

  it('refuses sizes that would not fit in memory, naming the param', async () => {
    expect(sampleSigns.checkParams!({ ...params, count: 200_000, size: 256 })).toEqual([
      { param: 'count', message: expect.stringMatching(/would take 36\.6 GiB/) },
    ]);
    expect(sampleSigns.checkParams!(params)).toEqual([]);
    await expect(sampleSigns.run({}, { ...params, count: 200_000, size: 256 }, makeContext())).rejects.toThrow(/under 2 GiB/);
  });

  it('stops when the run is cancelled', async () => {
    const ctx = makeContext();
    ctx.abort();
    await expect(sampleSigns.run({}, { ...params, count: 500 }, ctx)).rejects.toBeInstanceOf(CancelledError);
  });

  it('generates 3000 32x32 images in a few seconds', async () => {
    const t = performance.now();
    const d = await generate({ count: 3000, size: 32, classes: 8 });
    const seconds = (performance.now() - t) / 1000;
    expect(d.count).toBe(3000);
    expect(seconds).toBeLessThan(10);
  });
});
