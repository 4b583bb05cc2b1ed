import { describe, expect, it } from 'vitest';
import { createDataset, createMemoryStore, deriveDataset } from '../../../nodes/_lib/dataset.ts';
import { datasetHealth } from '../../../nodes/_lib/health.ts';
import { datasetHealthNode } from '../../../nodes/data/dataset-health.node.ts';
import { makeCtx, paramsOf, runNode } from './_helpers.ts';

/** 10 images of 2x2x1: image i is filled with value v[i]; duplicates share a value. */
function make(values: number[], labels: number[]) {
  const px = new Uint8Array(values.length * 4);
  values.forEach((v, i) => px.fill(v, i * 4, i * 4 + 4));
  return createDataset({ classes: ['a', 'b'], labels: Int32Array.from(labels), subsets: {}, store: createMemoryStore(px, [2, 2, 1]) });
}

describe('dataset health', () => {
  it('finds class imbalance, duplicates and duplicates crossing train/validation', async () => {
    const base = make([1, 2, 3, 4, 5, 6, 7, 7, 9, 1], [0, 0, 0, 0, 0, 0, 0, 0, 1, 0]);
    const d = deriveDataset(base, { subsets: { train: Int32Array.from([0, 1, 2, 3, 4, 5, 6, 7, 8]), validation: Int32Array.from([9]) } });
    const r = datasetHealth(d);
    expect(r.counts).toEqual([9, 1]);
    expect(r.imbalance).toBe(9);
    expect(r.duplicates.map((g) => g.indices)).toEqual([[0, 9], [6, 7]]);
    expect(r.duplicateImages).toBe(2);
    expect(r.leaking.map((g) => g.indices)).toEqual([[0, 9]]);
    expect(r.hashBasis).toBe('pixels');
    expect(r.warnings.join('\n')).toMatch(/unbalanced: a has 9 images, b 1/);
    expect(r.warnings.join('\n')).toMatch(/1 duplicate group crosses|1 duplicate group cross/);

    const ctx = makeCtx('/tmp');
    const out = await runNode(datasetHealthNode, { dataset: d }, {}, ctx);
    expect(out.dataset).toBe(d);
    expect(ctx.logs.filter((l) => l.level === 'warn')).toHaveLength(3);
    await expect(runNode(datasetHealthNode, { dataset: d }, { failOnLeakage: true }, ctx)).rejects.toMatchObject({ where: { param: 'failOnLeakage' } });
    const tables = datasetHealthNode.preview!({ dataset: d }, paramsOf(datasetHealthNode, {})) as any[];
    expect(tables[0].columns).toEqual(['class', 'images', 'share', 'train', 'validation']);
    expect(tables[0].rows[0]).toEqual(['a', 9, '90.0%', 8, 1]);
  });

  it('is quiet for a healthy set', () => {
    const r = datasetHealth(make([1, 2, 3, 4], [0, 1, 0, 1]));
    expect(r.warnings).toEqual([]);
    expect(r.imbalance).toBe(1);
  });
});
