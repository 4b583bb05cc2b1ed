import { defineNode } from '../../main/engine/node-api.ts';
import { NodeError } from '../../main/engine/errors.ts';
import type { Random } from '../../main/engine/random.ts';
import type { Dataset, SubsetName } from '../_lib/dataset.ts';
import { classCounts, deriveDataset } from '../_lib/dataset.ts';

/**
 * Assigns each image to train, validation or test. Stratified: every class is split by the same
 * fractions (rounded per class), so a rare class is not left out of validation by chance.
 */
export function splitIndices(
  labels: Int32Array,
  numClasses: number,
  fractions: { validation: number; test: number },
  random: Random,
  stratify: boolean,
): Record<SubsetName, Int32Array> {
  const groups: number[][] = stratify ? Array.from({ length: numClasses }, () => []) : [[]];
  labels.forEach((l, i) => groups[stratify ? l : 0].push(i));
  const out: Record<SubsetName, number[]> = { train: [], validation: [], test: [] };
  for (const group of groups) {
    random.shuffle(group);
    const n = group.length;
    let nVal = Math.round(n * fractions.validation);
    let nTest = Math.round(n * fractions.test);
    // Keep at least one training image per class when the class has more than one image.
    while (nVal + nTest >= n && n > 1) {
      if (nTest >= nVal && nTest > 0) nTest--;
      else nVal--;
    }
    out.validation.push(...group.slice(0, nVal));
    out.test.push(...group.slice(nVal, nVal + nTest));
    out.train.push(...group.slice(nVal + nTest));
  }
  // Sorted indices read a disk-backed store in order; training shuffles per epoch anyway.
  const sorted = (a: number[]): Int32Array => Int32Array.from(a).sort();
  return { train: sorted(out.train), validation: sorted(out.validation), test: sorted(out.test) };
}

export const split = defineNode({
  id: 'dlflow:data:split',
  name: 'Train/validation split',
  category: 'data',
  description: [
    'Splits a dataset into **train**, **validation** and (optionally) **test** subsets, seeded so the',
    'same seed gives the same split. With *stratify* on, each class is split by the same fractions.',
    'Any earlier split of the input is replaced. Images are not copied: the subsets are index lists.',
  ].join('\n'),
  inputs: { dataset: { type: 'dataset', label: 'Dataset' } },
  params: {
    validation: {
      kind: 'number',
      default: 0.2,
      min: 0,
      max: 0.9,
      step: 0.05,
      label: 'Validation fraction',
      inline: true,
    },
    test: { kind: 'number', default: 0, min: 0, max: 0.9, step: 0.05, label: 'Test fraction' },
    stratify: { kind: 'boolean', default: true, label: 'Stratify by class' },
    seed: { kind: 'seed', default: 1, label: 'Seed' },
  },
  outputs: { dataset: { type: 'dataset', label: 'Dataset' } },
  previews: ['table'],
  checkParams: (p) =>
    p.validation + p.test >= 1 ? [{ param: 'validation', message: `validation + test fractions must be below 1, got ${p.validation + p.test}` }] : [],
  async run({ dataset }, params, ctx) {
    if (params.validation + params.test >= 1)
      throw new NodeError(`validation + test fractions must be below 1, got ${params.validation + params.test}`, { param: 'validation' });
    if (Object.values(dataset.subsets).some((s) => s && s.length > 0)) ctx.log('input already had subsets; they are replaced', 'warn');
    const subsets = splitIndices(dataset.labels, dataset.classes.length, params, ctx.random, params.stratify);
    if (subsets.train.length === 0) throw new NodeError(`the split leaves no training images (dataset has ${dataset.count})`);
    if (params.validation > 0 && subsets.validation.length === 0)
      ctx.log(`validation fraction ${params.validation} of ${dataset.count} images rounds to none`, 'warn');
    return { dataset: deriveDataset(dataset, { subsets: { ...subsets, test: subsets.test.length > 0 ? subsets.test : undefined } }) };
  },
  preview: ({ dataset }) => splitTable(dataset),
  summary: ({ dataset }) => splitTable(dataset).title,
});

function splitTable(d: Dataset) {
  const names = (['train', 'validation', 'test'] as const).filter((n) => d.subsets[n]?.length);
  const counts = names.map((n) => classCounts(d, d.subsets[n]));
  return {
    kind: 'table' as const,
    title: names.map((n, i) => `${n} ${counts[i].reduce((a, b) => a + b, 0)}`).join(' · '),
    columns: ['class', ...names],
    rows: d.classes.map((c, k) => [c, ...counts.map((row) => row[k])]),
  };
}
