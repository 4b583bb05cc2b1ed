import { defineNode } from '../../main/engine/node-api.ts';
import { NodeError } from '../../main/engine/errors.ts';
import { classCounts, deriveDataset } from '../_lib/dataset.ts';

/**
 * New train indices with every class at the size of the largest (oversample: repeats, drawn
 * without replacement first) or the smallest (undersample). Order is by class, then seeded.
 */
export function balanceIndices(train: Int32Array, labels: Int32Array, classes: number, mode: 'oversample' | 'undersample', random: { shuffle<T>(a: T[]): T[]; int(n: number): number }): Int32Array {
  const groups: number[][] = Array.from({ length: classes }, () => []);
  for (const i of train) groups[labels[i]].push(i);
  const present = groups.filter((g) => g.length > 0);
  const target = mode === 'oversample' ? Math.max(...present.map((g) => g.length)) : Math.min(...present.map((g) => g.length));
  const out: number[] = [];
  for (const g of present) {
    const order = random.shuffle([...g]);
    if (target <= g.length) out.push(...order.slice(0, target));
    else {
      out.push(...g);
      for (let k = g.length; k < target; k++) out.push(order[(k - g.length) % g.length]);
    }
  }
  return Int32Array.from(out).sort();
}

export const balanceClasses = defineNode({
  id: 'dlflow:preprocess:balance-classes',
  name: 'Balance classes',
  category: 'preprocess',
  description: [
    'Evens out class counts in the **train subset** (validation and test are left as they are, so',
    'they still measure the real distribution). **oversample** repeats images of smaller classes up',
    'to the largest class (pair it with augmentation so repeats differ); **undersample** keeps a',
    'seeded random subset of each class at the size of the smallest. No pixels are copied: the train',
    'subset lists some images more than once.',
    '',
    'To weight the loss by class instead of resampling, leave this node out and set *Class weights*',
    'to `balanced` on the Train node.',
  ].join('\n'),
  inputs: { dataset: { type: 'dataset', label: 'Dataset' } },
  params: {
    mode: { kind: 'enum', default: 'oversample', options: ['oversample', 'undersample'], label: 'Mode', inline: true },
    seed: { kind: 'seed', default: 1, label: 'Seed' },
  },
  outputs: { dataset: { type: 'dataset', label: 'Dataset' } },
  previews: ['table'],
  async run({ dataset }, p, ctx) {
    const train = dataset.subsets.train;
    if (!train || train.length === 0) throw new NodeError('balancing works on the train subset; put a Split node before it', { port: 'dataset' });
    const before = classCounts(dataset, train);
    const balanced = balanceIndices(train, dataset.labels, dataset.classes.length, p.mode as 'oversample' | 'undersample', ctx.random);
    const after = classCounts(dataset, balanced);
    ctx.log(`train subset ${train.length} → ${balanced.length} images (per class ${before.join('/')} → ${after.join('/')})`);
    return { dataset: deriveDataset(dataset, { subsets: { ...dataset.subsets, train: balanced } }) };
  },
  preview: ({ dataset }) => {
    const counts = classCounts(dataset, dataset.subsets.train);
    return { kind: 'table', title: `train subset: ${dataset.subsets.train?.length ?? 0} images`, columns: ['class', 'train images'], rows: dataset.classes.map((c, k) => [c, counts[k]]) };
  },
});
