import { existsSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { NodeError } from '../../main/engine/errors.ts';
import { defineNode } from '../../main/engine/node-api.ts';
import { modelArtifacts } from '../_lib/model.ts';
import type { TrainedModel } from '../_lib/ports.ts';

/** What dlflow writes into model.json's `userDefinedMetadata.dlflow` (read back by the backbone node). */
export interface SavedModelMetadata {
  classes: string[];
  inputShape: number[];
  normalization: { mean: number[]; std: number[] };
  architecture: string;
  epochs: number;
  validationAccuracy?: number;
}

/**
 * Writes a trained model as a TF.js LayersModel folder (model.json + weights.bin), loadable by
 * `tf.loadLayersModel` anywhere. The folder is written next to the target and swapped in with
 * renames, so a cancel or crash never leaves a half-written model at `dir`.
 */
export async function writeLayersModelFolder(t: TrainedModel, dir: string, overwrite: boolean): Promise<void> {
  if (existsSync(dir) && !overwrite) throw new NodeError(`${dir} already exists; turn on overwrite or choose another folder`, { param: 'path' });
  const a = await modelArtifacts(t.model);
  const last = t.history.epochs[t.history.epochs.length - 1];
  const metadata: SavedModelMetadata = {
    classes: [...t.classes],
    inputShape: [...t.inputShape],
    normalization: t.normalization,
    architecture: t.architecture,
    epochs: t.history.epochs.length,
    ...(last?.valAccuracy !== undefined ? { validationAccuracy: last.valAccuracy } : {}),
  };
  const json = {
    format: 'layers-model',
    generatedBy: 'dlflow',
    convertedBy: null,
    modelTopology: a.modelTopology,
    weightsManifest: [{ paths: ['weights.bin'], weights: a.weightSpecs }],
    userDefinedMetadata: { dlflow: metadata },
  };
  await mkdir(dirname(dir), { recursive: true });
  const tmp = `${dir}.tmp-${process.pid}`;
  const old = `${dir}.old-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp);
  try {
    await writeFile(join(tmp, 'weights.bin'), new Uint8Array(a.weightData));
    await writeFile(join(tmp, 'model.json'), JSON.stringify(json));
    const had = existsSync(dir);
    if (had) await rename(dir, old);
    await rename(tmp, dir);
    if (had) await rm(old, { recursive: true, force: true });
  } catch (error) {
    await rm(tmp, { recursive: true, force: true });
    throw error;
  }
}

export const saveModel = defineNode({
  id: 'dlflow:export:save-model',
  name: 'Save model',
  category: 'export',
  description: [
    'Saves the trained model as a TF.js LayersModel folder (`model.json` + `weights.bin`) that',
    '`tf.loadLayersModel` opens in the browser or Node, and that the *Pretrained backbone* node can',
    'use (backbone *custom*). The class names and input normalisation go into the model\'s metadata.',
    'The folder is replaced atomically: an interrupted save leaves the previous one intact.',
  ].join('\n'),
  inputs: { trainedModel: { type: 'trainedModel', label: 'Trained model' } },
  params: {
    path: { kind: 'path', default: 'models/model', mode: 'folder', required: true, label: 'Folder', inline: true, description: 'Relative to the pipeline file.' },
    overwrite: { kind: 'boolean', default: true, label: 'Overwrite' },
  },
  outputs: {},
  previews: ['text'],
  sideEffects: true,
  async run({ trainedModel }, params, ctx) {
    const dir = isAbsolute(params.path) ? params.path : resolve(ctx.baseDir, params.path);
    await writeLayersModelFolder(trainedModel, dir, params.overwrite);
    ctx.log(`saved ${trainedModel.architecture} to ${dir}`);
    ctx.preview({ kind: 'text', title: 'Saved', text: `${dir}/model.json\n${trainedModel.classes.length} classes: ${trainedModel.classes.join(', ')}` });
    return {};
  },
});
