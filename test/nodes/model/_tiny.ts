/** Fixed tiny inputs for the model and train tests (independent of shared fixtures that may change). */
import type { Dataset } from '../../../nodes/_lib/dataset.ts';
import type { ModelValue } from '../../../nodes/_lib/ports.ts';
import { sampleSigns } from '../../../nodes/data/sample-signs.node.ts';
import { split } from '../../../nodes/data/split.node.ts';
import { simpleCnn } from '../../../nodes/model/simple-cnn.node.ts';
import { makeContext } from '../_ctx.ts';

/** `count` 12x12 RGB images of 2 easy classes (stop, yield), split 75/25 train/validation. */
export async function tinyDataset(count = 48, classes = 2): Promise<Dataset> {
  const { dataset } = (await sampleSigns.run({}, { count, size: 12, classes, difficulty: 0, seed: 3 }, makeContext())) as { dataset: Dataset };
  return ((await split.run({ dataset }, { validation: 0.25, test: 0, stratify: true, seed: 1 }, makeContext())) as { dataset: Dataset }).dataset;
}

/** conv(4) → pool → flatten → dense(8) → dropout → softmax, seeded. */
export async function tinyCnn(dataset: Dataset, p: { blocks?: number; seed?: number } = {}): Promise<ModelValue> {
  const params = { blocks: p.blocks ?? 1, filters: 4, kernelSize: 3, denseUnits: 8, dropout: 0.1, seed: p.seed ?? 5 };
  return ((await simpleCnn.run({ dataset }, params, makeContext({ seed: params.seed }))) as { model: ModelValue }).model;
}
