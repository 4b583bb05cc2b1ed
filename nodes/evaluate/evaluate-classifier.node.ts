import { defineNode } from '../../main/engine/node-api.ts';
import { NodeError } from '../../main/engine/errors.ts';
import type { PreviewPayload } from '../../main/protocol/index.ts';
import { checkModelFitsDataset, predictIndices } from '../_lib/classify.ts';
import type { SubsetName } from '../_lib/dataset.ts';
import type { ClassMetrics, Metrics } from '../_lib/ports.ts';

/** Confusion matrix and per-class precision/recall/F1 from true and predicted labels. */
export function classificationMetrics(
  classes: readonly string[],
  actual: ArrayLike<number>,
  predicted: ArrayLike<number>,
): Pick<Metrics, 'confusion' | 'perClass' | 'accuracy'> {
  const k = classes.length;
  const confusion = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  let correct = 0;
  for (let i = 0; i < actual.length; i++) {
    confusion[actual[i]][predicted[i]]++;
    if (actual[i] === predicted[i]) correct++;
  }
  const perClass: ClassMetrics[] = classes.map((name, c) => {
    const tp = confusion[c][c];
    const support = confusion[c].reduce((a, b) => a + b, 0);
    const predictedAs = confusion.reduce((a, row) => a + row[c], 0);
    const precision = predictedAs > 0 ? tp / predictedAs : 0;
    const recall = support > 0 ? tp / support : 0;
    const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
    return { name, precision, recall, f1, support };
  });
  return { confusion, perClass, accuracy: actual.length > 0 ? correct / actual.length : 0 };
}

export function metricsSummary(m: Metrics): string {
  return `${m.subset} accuracy ${(m.accuracy * 100).toFixed(1)}% (${m.count} images, loss ${m.loss.toFixed(3)})`;
}

export function metricsPreviews(m: Metrics): PreviewPayload[] {
  const f = (v: number): string => v.toFixed(3);
  return [
    { kind: 'text', title: 'Summary', text: metricsSummary(m) },
    { kind: 'confusion-matrix', title: `Confusion matrix (${m.subset})`, labels: [...m.classes], matrix: m.confusion },
    {
      kind: 'table',
      title: 'Per class',
      columns: ['class', 'precision', 'recall', 'f1', 'images'],
      rows: m.perClass.map((c) => [c.name, f(c.precision), f(c.recall), f(c.f1), c.support]),
    },
  ];
}

export const evaluateClassifier = defineNode({
  id: 'dlflow:evaluate:evaluate-classifier',
  name: 'Evaluate classifier',
  category: 'evaluate',
  description: [
    'Runs a trained classifier over one subset of a dataset (validation by default) and reports',
    'accuracy, loss, the confusion matrix (rows: actual class, columns: predicted) and per-class',
    'precision, recall and F1. Images are normalised the way the model was trained.',
  ].join('\n'),
  inputs: {
    trainedModel: { type: 'trainedModel', label: 'Trained model' },
    dataset: { type: 'dataset', label: 'Dataset' },
  },
  params: {
    subset: { kind: 'enum', default: 'validation', options: ['validation', 'test', 'train'], label: 'Subset', inline: true },
    batchSize: { kind: 'integer', default: 128, min: 1, max: 8192, label: 'Batch size' },
  },
  outputs: { metrics: { type: 'metrics', label: 'Metrics' } },
  previews: ['text', 'confusion-matrix', 'table'],
  persist: true,
  async run({ trainedModel, dataset }, params, ctx) {
    checkModelFitsDataset(trainedModel, dataset, 'dataset');
    if (trainedModel.classes.join('\n') !== dataset.classes.join('\n'))
      ctx.log(`the model's classes (${trainedModel.classes.join(', ')}) differ from the dataset's (${dataset.classes.join(', ')})`, 'warn');
    const subset = params.subset as SubsetName;
    const indices = dataset.subsets[subset];
    if (!indices?.length) {
      const have = (['train', 'validation', 'test'] as const).filter((n) => dataset.subsets[n]?.length);
      throw new NodeError(
        `the dataset has no ${subset} subset (it has ${have.length ? have.join(', ') : 'none'}); set the Split node's fractions or pick another subset`,
        { param: 'subset' },
      );
    }
    const p = await predictIndices(trainedModel.model, dataset, indices, trainedModel.normalization, {
      batchSize: params.batchSize,
      between: async (done, total) => {
        ctx.throwIfCancelled();
        ctx.progress(done / total, `${done}/${total} images`);
        await new Promise((r) => setImmediate(r));
      },
    });
    const actual = Int32Array.from(indices, (i) => dataset.labels[i]);
    const m: Metrics = {
      subset,
      count: indices.length,
      loss: p.loss,
      classes: [...dataset.classes],
      ...classificationMetrics(dataset.classes, actual, p.predicted),
    };
    ctx.log(metricsSummary(m));
    return { metrics: m };
  },
  preview: ({ metrics }) => metricsPreviews(metrics),
  summary: ({ metrics }) => metricsSummary(metrics),
});
