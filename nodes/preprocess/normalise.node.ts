import { defineNode } from '../../main/engine/node-api.ts';
import { NodeError } from '../../main/engine/errors.ts';
import { computeNormalization, deriveDataset } from '../_lib/dataset.ts';

export const normalise = defineNode({
  id: 'dlflow:preprocess:normalise',
  name: 'Normalise',
  category: 'preprocess',
  description: [
    'Zero-centres (`X -= mean`) and normalises (`X /= std`) each channel, with statistics computed',
    'on the **train subset only** (so nothing about validation or test images leaks into training).',
    'The statistics are stored with the dataset; training records them in the model, so evaluation,',
    'export and serving apply exactly the same transform. Pixels are not rewritten: batches are',
    'normalised as they are read, after augmentation.',
  ].join('\n'),
  inputs: { dataset: { type: 'dataset', label: 'Dataset' } },
  params: {
    perChannel: { kind: 'boolean', default: true, label: 'Per channel', description: 'One mean/std per channel; off: one for all channels.' },
    divideByStd: { kind: 'boolean', default: true, label: 'Divide by std', description: 'Off: only subtract the mean.' },
  },
  outputs: { dataset: { type: 'dataset', label: 'Dataset' } },
  previews: ['table'],
  async run({ dataset }, p, ctx) {
    const train = dataset.subsets.train;
    if (!train || train.length === 0)
      throw new NodeError('normalisation statistics come from the train subset, and this dataset has none: put a Split node before Normalise', { port: 'dataset' });
    const stats = computeNormalization(dataset, train);
    const c = dataset.imageShape[2];
    let { mean, std } = stats;
    if (!p.perChannel) {
      // Pooled over channels: the mean of means, and the std from the pooled second moment.
      const m = mean.reduce((a, b) => a + b, 0) / c;
      const second = mean.reduce((a, mk, k) => a + std[k] ** 2 + mk ** 2, 0) / c;
      mean = new Array<number>(c).fill(m);
      std = new Array<number>(c).fill(Math.max(Math.sqrt(Math.max(second - m * m, 0)), 1e-6));
    }
    if (!p.divideByStd) std = new Array<number>(c).fill(1);
    ctx.log(`mean ${mean.map((v) => v.toFixed(4)).join(', ')} · std ${std.map((v) => v.toFixed(4)).join(', ')} (from ${train.length} training images)`);
    return { dataset: deriveDataset(dataset, { normalization: { mean, std } }) };
  },
  preview: ({ dataset }) => {
    const n = dataset.normalization!;
    const names = dataset.imageShape[2] === 3 ? ['R', 'G', 'B'] : ['grey'];
    return {
      kind: 'table',
      title: `per-channel statistics of ${dataset.subsets.train?.length ?? 0} training images (0..1 scale)`,
      columns: ['channel', 'mean', 'std'],
      rows: names.map((c, k) => [c, Number(n.mean[k].toFixed(4)), Number(n.std[k].toFixed(4))]),
    };
  },
  summary: ({ dataset }) => `mean ${dataset.normalization?.mean.map((v) => v.toFixed(3)).join('/')}`,
});
