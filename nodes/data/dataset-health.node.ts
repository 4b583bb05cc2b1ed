import { defineNode } from '../../main/engine/node-api.ts';
import { NodeError } from '../../main/engine/errors.ts';
import { datasetHealth, healthTables } from '../_lib/health.ts';
import { storeSources } from '../_lib/image-io.ts';

export const datasetHealthNode = defineNode({
  id: 'dlflow:data:dataset-health',
  name: 'Dataset health',
  category: 'data',
  description: [
    'Checks a dataset before training and passes it through unchanged: class counts with an',
    '**imbalance** warning, **exact duplicates** by content hash (source file bytes when the loader',
    'recorded them, else the stored pixels), duplicates that **cross train and validation/test**',
    '(leakage: validation scores look better than they are), files the loader had to skip, and',
    'histograms of source image sizes and aspect ratios.',
    '',
    'Put it after a Split node to see leakage. With *fail on leakage* on, leakage stops the run.',
  ].join('\n'),
  inputs: { dataset: { type: 'dataset', label: 'Dataset' } },
  params: {
    imbalanceRatio: {
      kind: 'number',
      default: 3,
      min: 1,
      max: 1000,
      step: 0.5,
      label: 'Imbalance warning ratio',
      description: 'Warn when the largest class has more than this many times the images of the smallest.',
    },
    failOnLeakage: { kind: 'boolean', default: false, label: 'Fail on leakage' },
  },
  outputs: { dataset: { type: 'dataset', label: 'Dataset' } },
  previews: ['table'],
  async run({ dataset }, params, ctx) {
    const report = datasetHealth(dataset, { imbalanceRatio: params.imbalanceRatio });
    for (const w of report.warnings) ctx.log(w, 'warn');
    if (params.failOnLeakage && report.leaking.length > 0) {
      const names = storeSources(dataset.store)?.files;
      const first = report.leaking[0].indices.map((i) => names?.[i] ?? `#${i}`).join(', ');
      throw new NodeError(`${report.leaking.length} duplicate groups cross train and validation/test, e.g. ${first}`, { param: 'failOnLeakage' });
    }
    return { dataset };
  },
  preview: ({ dataset }, params) => {
    const names = storeSources(dataset.store)?.files;
    return healthTables(dataset, datasetHealth(dataset, { imbalanceRatio: params.imbalanceRatio }), (i) => names?.[i] ?? `#${i}`);
  },
  summary: ({ dataset }, params) => {
    const r = datasetHealth(dataset, { imbalanceRatio: params.imbalanceRatio });
    return r.warnings.length ? r.warnings.join('; ') : 'healthy';
  },
});
