import * as tf from '@tensorflow/tfjs';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { NodeType } from '../../../main/engine/node-api.ts';
import { batchTensors, createDataset, createMemoryStore, deriveDataset } from '../../../nodes/_lib/dataset.ts';
import type { Dataset } from '../../../nodes/_lib/dataset.ts';
import { augment } from '../../../nodes/augment/augment.node.ts';
import { colourJitter } from '../../../nodes/augment/colour-jitter.node.ts';
import { cutout } from '../../../nodes/augment/cutout.node.ts';
import { fog } from '../../../nodes/augment/fog.node.ts';
import { gaussianNoise } from '../../../nodes/augment/gaussian-noise.node.ts';
import { lensDistortion } from '../../../nodes/augment/lens-distortion.node.ts';
import { materialiseAugmentations } from '../../../nodes/augment/materialise-augmentations.node.ts';
import { night } from '../../../nodes/augment/night.node.ts';
import { rain } from '../../../nodes/augment/rain.node.ts';
import { randomBlur } from '../../../nodes/augment/random-blur.node.ts';
import { randomCrop } from '../../../nodes/augment/random-crop.node.ts';
import { randomFlip } from '../../../nodes/augment/random-flip.node.ts';
import { randomRotate } from '../../../nodes/augment/random-rotate.node.ts';
import { randomScale } from '../../../nodes/augment/random-scale.node.ts';
import { randomShear } from '../../../nodes/augment/random-shear.node.ts';
import { randomStretch } from '../../../nodes/augment/random-stretch.node.ts';
import { randomTranslate } from '../../../nodes/augment/random-translate.node.ts';
import { snow } from '../../../nodes/augment/snow.node.ts';
import { makeCtx, paramsOf, runNode, tempDir } from '../data/_helpers.ts';
import { createRandom } from '../../../main/engine/random.ts';

const tmp = tempDir();
afterAll(() => tmp.cleanup());
let before = 0;
beforeEach(() => {
  before = tf.memory().numTensors;
});
afterEach(() => expect(tf.memory().numTensors).toBe(before));

const px = Uint8Array.from({ length: 6 * 8 * 8 * 3 }, (_, i) => (i * 29) % 256);
const base = createDataset({ classes: ['a', 'b'], labels: Int32Array.from([0, 1, 0, 1, 0, 1]), subsets: {}, store: createMemoryStore(px, [8, 8, 3]) });
const split = deriveDataset(base, { subsets: { train: Int32Array.from([0, 1, 2, 3]), validation: Int32Array.from([4, 5]) } });

const perKind: [NodeType, string][] = [
  [randomRotate, 'rotate'],
  [randomScale, 'scale'],
  [randomCrop, 'crop'],
  [randomTranslate, 'translate'],
  [randomStretch, 'stretch'],
  [randomShear, 'shear'],
  [lensDistortion, 'lens'],
  [gaussianNoise, 'noise'],
  [randomBlur, 'blur'],
  [cutout, 'cutout'],
  [fog, 'fog'],
  [rain, 'rain'],
  [snow, 'snow'],
  [night, 'night'],
];

describe('augmentation nodes', () => {
  for (const [node, kind] of perKind)
    it(`${node.name} appends a ${kind} step, leaves its input alone and previews a seeded grid`, async () => {
      const out = (await runNode(node, { dataset: split }, {}, makeCtx(tmp.dir))).dataset as Dataset;
      expect(split.augment).toBeUndefined();
      const last = out.augment![out.augment!.length - 1];
      if (last.kind === 'geometric') expect((last.params.ops as { op: string }[]).map((o) => o.op)).toEqual([kind]);
      else expect(last.kind).toBe(kind);
      const p = paramsOf(node, { previewImages: 2 });
      const grid = node.preview!({ dataset: out }, p) as any;
      expect(grid.kind).toBe('image-grid');
      expect(grid.images).toHaveLength(2 * 6);
      expect((node.preview!({ dataset: out }, p) as any).images[3].png).toEqual(grid.images[3].png);
    });

  it('chains geometric nodes into one warp step and keeps others in order', async () => {
    const ctx = makeCtx(tmp.dir);
    let d = (await runNode(randomFlip, { dataset: split }, {}, ctx)).dataset as Dataset;
    d = (await runNode(randomRotate, { dataset: d }, {}, ctx)).dataset as Dataset;
    d = (await runNode(colourJitter, { dataset: d }, { hueMin: 0, hueMax: 0 }, ctx)).dataset as Dataset;
    d = (await runNode(randomShear, { dataset: d }, {}, ctx)).dataset as Dataset;
    expect(d.augment!.map((s) => s.kind)).toEqual(['geometric', 'colour', 'geometric']);
    expect((d.augment![1].params.ops as { op: string }[]).map((o) => o.op)).toEqual(['brightness', 'contrast', 'saturation']);
    expect((d.augment![0].params.ops as unknown[]).length).toBe(2);
  });

  it('rejects a range outside the kind\'s bounds and max below min', async () => {
    const ctx = makeCtx(tmp.dir);
    await expect(runNode(randomRotate, { dataset: split }, { min: 20, max: 10 }, ctx)).rejects.toMatchObject({ where: { param: 'max' } });
    expect(randomRotate.checkParams!(paramsOf(randomRotate, { min: 20, max: 10 }))).toHaveLength(1);
  });

  it('Augment: presets and custom JSON, with errors naming the step', async () => {
    const ctx = makeCtx(tmp.dir);
    const std = (await runNode(augment, { dataset: split }, {}, ctx)).dataset as Dataset;
    expect(std.augment!.map((s) => s.kind)).toEqual(['geometric', 'colour', 'noise', 'blur', 'cutout']);
    const weather = (await runNode(augment, { dataset: split }, { preset: 'road-weather' }, ctx)).dataset as Dataset;
    const kinds = weather.augment!.map((s) => s.kind);
    expect(kinds).toEqual(expect.arrayContaining(['fog', 'rain', 'snow', 'night']));
    expect(JSON.stringify(weather.augment)).not.toContain('flip');
    const custom = (await runNode(augment, { dataset: split }, { preset: 'custom', steps: '[{"kind":"hue","p":1,"min":-5,"max":5}]' }, ctx)).dataset as Dataset;
    expect(custom.augment).toEqual([{ kind: 'colour', params: { ops: [{ op: 'hue', p: 1, min: -5, max: 5 }] } }]);
    await expect(runNode(augment, { dataset: split }, { preset: 'custom', steps: '[{"kind":"wobble"}]' }, ctx)).rejects.toThrow(/custom step 1: unknown kind "wobble"/);
    await expect(runNode(augment, { dataset: split }, { preset: 'custom', steps: '{' }, ctx)).rejects.toMatchObject({ where: { param: 'steps' } });
    // The training path applies the whole chain to batches.
    const { x, y } = batchTensors(std, [0, 1, 2, 3], { augmentWith: createRandom(3) });
    expect(x.shape).toEqual([4, 8, 8, 3]);
    expect(Array.from(y.dataSync())).toEqual([0, 1, 0, 1]);
    x.dispose();
    y.dispose();
  });

  it('materialises N augmented copies of the train subset only', async () => {
    const ctx = makeCtx(tmp.dir);
    const chained = (await runNode(randomRotate, { dataset: split }, { probability: 1, min: 20, max: 40 }, ctx)).dataset as Dataset;
    const out = (await runNode(materialiseAugmentations, { dataset: chained }, { copies: 3 }, ctx)).dataset as Dataset;
    expect(out.count).toBe(6 + 3 * 4);
    expect(out.augment).toBeUndefined();
    expect(out.subsets.train!.length).toBe(16);
    expect(Array.from(out.subsets.validation!)).toEqual([4, 5]);
    expect(Array.from(out.labels.subarray(6, 10))).toEqual([0, 1, 0, 1]);
    expect(out.store.read([0, 5])).toEqual(base.store.read([0, 5]));
    expect(out.store.read([6])).not.toEqual(base.store.read([0]));
    const again = (await runNode(materialiseAugmentations, { dataset: chained }, { copies: 3 }, makeCtx(tmp.dir))).dataset as Dataset;
    expect(again.store.read([7, 12])).toEqual(out.store.read([7, 12]));
    const grid = materialiseAugmentations.preview!({ dataset: out }, paramsOf(materialiseAugmentations, { copies: 3, previewImages: 2 })) as any;
    expect(grid.images).toHaveLength(8);
    await expect(runNode(materialiseAugmentations, { dataset: split }, {}, ctx)).rejects.toThrow(/no augmentation steps/);
    await expect(runNode(materialiseAugmentations, { dataset: deriveDataset(chained, { subsets: {} }) }, {}, ctx)).rejects.toThrow(/after a Split node/);
  });
});
