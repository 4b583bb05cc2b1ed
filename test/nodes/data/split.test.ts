import '../_leak-guard.ts';
import { describe, expect, it } from 'vitest';
import { createRandom } from '../../../main/engine/random.ts';
import type { Dataset } from '../../../nodes/_lib/dataset.ts';
import { classCounts, createDataset, createMemoryStore } from '../../../nodes/_lib/dataset.ts';
import { split, splitIndices } from '../../../nodes/data/split.node.ts';
import { makeContext } from '../_ctx.ts';

/** 100 images of 1x1x1: 70 of class a, 20 of b, 10 of c. */
function unbalanced(): Dataset {
  const labels = Int32Array.from({ length: 100 }, (_, i) => (i < 70 ? 0 : i < 90 ? 1 : 2));
  return createDataset({ classes: ['a', 'b', 'c'], labels, subsets: {}, store: createMemoryStore(new Uint8Array(100), [1, 1, 1]) });
}
const defaults = { validation: 0.2, test: 0.1, stratify: true, seed: 1 };
const run = async (d: Dataset, p: Partial<typeof defaults> = {}, seed = 1): Promise<Dataset> =>
  ((await split.run({ dataset: d }, { ...defaults, ...p }, makeContext({ seed }))) as { dataset: Dataset }).dataset;

describe('split', () => {
  it('stratifies: each class is split by the same fractions', async () => {
    const d = await run(unbalanced());
    expect(classCounts(d, d.subsets.validation)).toEqual([14, 4, 2]);
    expect(classCounts(d, d.subsets.test)).toEqual([7, 2, 1]);
    expect(classCounts(d, d.subsets.train)).toEqual([49, 14, 7]);
  });

  it('makes disjoint subsets that cover every image once', async () => {
    const d = await run(unbalanced());
    const all = [...d.subsets.train!, ...d.subsets.validation!, ...d.subsets.test!].sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: 100 }, (_, i) => i));
  });

  it('is deterministic by seed and changes with it', async () => {
    const a = await run(unbalanced(), {}, 1);
    const b = await run(unbalanced(), {}, 1);
    const c = await run(unbalanced(), {}, 2);
    expect(Array.from(a.subsets.validation!)).toEqual(Array.from(b.subsets.validation!));
    expect(Array.from(a.subsets.validation!)).not.toEqual(Array.from(c.subsets.validation!));
  });

  it('does not touch its input and shares the image store', async () => {
    const input = unbalanced();
    const out = await run(input);
    expect(input.subsets).toEqual({});
    expect(out.store).toBe(input.store);
    expect(out.labels).toBe(input.labels);
  });

  it('leaves out the test subset when its fraction is 0, and warns on replacing an earlier split', async () => {
    const first = await run(unbalanced(), { test: 0 });
    expect(first.subsets.test).toBeUndefined();
    const ctx = makeContext();
    await split.run({ dataset: first }, { ...defaults, test: 0 }, ctx);
    expect(ctx.logs.some((l) => l.level === 'warn' && /replaced/.test(l.message))).toBe(true);
  });

  it('keeps a training image in every class that has more than one', () => {
    const labels = Int32Array.from([0, 0, 1, 1, 2]);
    const s = splitIndices(labels, 3, { validation: 0.5, test: 0.5 }, createRandom(1), true);
    expect(s.train.length).toBeGreaterThanOrEqual(2);
    for (const cls of [0, 1]) expect(Array.from(s.train).some((i) => labels[i] === cls)).toBe(true);
  });

  it('rejects fractions that sum to 1 or more, naming the param', async () => {
    expect(split.checkParams!({ ...defaults, validation: 0.6, test: 0.4 })).toEqual([
      { param: 'validation', message: expect.stringMatching(/must be below 1/) },
    ]);
    await expect(run(unbalanced(), { validation: 0.6, test: 0.4 })).rejects.toThrow(/must be below 1/);
  });

  it('previews counts per class and subset', async () => {
    const d = await run(unbalanced());
    const p = split.preview!({ dataset: d }, defaults);
    expect(p).toMatchObject({ kind: 'table', columns: ['class', 'train', 'validation', 'test'] });
    expect((p as { rows: unknown[][] }).rows[0]).toEqual(['a', 49, 14, 7]);
    expect(split.summary!({ dataset: d }, defaults)).toBe('train 70 · validation 20 · test 10');
  });
});
