import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NodeError } from '../../../main/engine/errors.ts';
import { resolveParams } from '../../../main/engine/params.ts';
import type { Dataset } from '../../../nodes/_lib/dataset.ts';
import { sha256File } from '../../../nodes/_lib/download.ts';
import { saveModel } from '../../../nodes/_lib/model.ts';
import { MODEL_ZOO, cacheFolderFor, fetchModel, loadLayersModelFrom } from '../../../nodes/_lib/model-zoo.ts';
import { modelPort, trainedModelPort } from '../../../nodes/_lib/ports.ts';
import type { ModelValue, TrainedModel } from '../../../nodes/_lib/ports.ts';
import { leafLayers } from '../../../main/engine/parallel/index.ts';
import { DEFAULT_TRAIN_CONFIG, trainClassifierModel } from '../../../nodes/_lib/trainer.ts';
import { pretrainedBackbone } from '../../../nodes/model/pretrained-backbone.node.ts';
import type { ModelWithNormalization } from '../../../nodes/model/pretrained-backbone.node.ts';
import { makeContext, setupBackend, tempDir } from '../_ctx.ts';
import { serveFolder } from './_server.ts';
import type { TestServer } from './_server.ts';
import { tinyCnn, tinyDataset } from './_tiny.ts';

let dataset: Dataset;
let modelDir: string;
let server: TestServer;

beforeAll(async () => {
  await setupBackend();
  dataset = await tinyDataset(32);
  // The "pretrained" model the server publishes: a tiny CNN saved in TF.js layers format.
  const pre = await tinyCnn(dataset, { blocks: 2 });
  modelDir = tempDir();
  await saveModel(pre.model, modelDir);
  pre.model.dispose();
  server = await serveFolder(modelDir);
});
afterAll(async () => {
  await server.close();
});

const modelUrl = (): string => `${server.url}/model.json`;

describe('model zoo catalogue', () => {
  it('lists MobileNet v1 (layers) and v2 (graph) at several widths and sizes, with preprocessing and no invented hashes', () => {
    const v1 = MODEL_ZOO.filter((e) => e.id.startsWith('mobilenet_v1'));
    const v2 = MODEL_ZOO.filter((e) => e.id.startsWith('mobilenet_v2'));
    expect(v1).toHaveLength(16);
    expect(v2).toHaveLength(16);
    for (const e of v1) {
      expect(e.url).toMatch(/^https:\/\/storage\.googleapis\.com\/tfjs-models\/tfjs\/mobilenet_v1_(0\.25|0\.50|0\.75|1\.0)_(128|160|192|224)\/model\.json$/);
      expect(e.format).toBe('layers-model');
      expect(e.normalization.mean).toEqual([0.5, 0.5, 0.5]);
    }
    for (const e of v2) {
      expect(e.url).toMatch(/^https:\/\/tfhub\.dev\/google\/tfjs-model\/imagenet\/mobilenet_v2_\d{3}_\d+\/feature_vector\/3\/default\/1\/model\.json\?tfjs-format=file$/);
      expect(e.format).toBe('graph-model');
      expect(e.normalization.mean).toEqual([0, 0, 0]);
    }
    for (const e of MODEL_ZOO) {
      expect(e.inputShape[0]).toBe(Number(/_(\d+)$/.exec(e.id)![1]));
      expect(e.sha256).toEqual({});
    }
    expect(new Set(MODEL_ZOO.map((e) => e.id)).size).toBe(MODEL_ZOO.length);
  });
});

describe('fetchModel', () => {
  it('downloads, resumes an interrupted download with a Range request, and records hashes', async () => {
    const root = tempDir();
    server.cutNext.add('weights.bin');
    const logs: string[] = [];
    const first = await fetchModel(modelUrl(), { root, log: (m) => logs.push(m) }).catch((e: unknown) => e);
    expect((first as Error).message).toMatch(/interrupted after \d+ bytes/);
    const dir = cacheFolderFor(modelUrl(), root);
    expect(existsSync(join(dir, 'weights.bin.part'))).toBe(true);
    const progress: number[] = [];
    const got = await fetchModel(modelUrl(), { root, log: (m) => logs.push(m), onProgress: (f) => progress.push(f) });
    expect(got).toBe(dir);
    const ranged = server.requests.filter((r) => r.path === 'weights.bin' && r.range);
    expect(ranged.at(-1)?.range).toMatch(/^bytes=[1-9]\d*-$/);
    expect(logs.some((l) => /resumed weights.bin from byte/.test(l))).toBe(true);
    expect(readFileSync(join(dir, 'weights.bin'))).toEqual(readFileSync(join(modelDir, 'weights.bin')));
    const record = JSON.parse(readFileSync(join(dir, 'files.json'), 'utf8')) as { files: Record<string, string> };
    expect(record.files['weights.bin']).toBe(await sha256File(join(modelDir, 'weights.bin')));
    expect(progress.at(-1)).toBeCloseTo(1);
  });

  it('rejects a file whose SHA-256 differs and keeps nothing of it', async () => {
    const root = tempDir();
    const err = await fetchModel(modelUrl(), { root, sha256: { 'model.json': '0'.repeat(64) } }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/does not have the expected SHA-256: expected 0{64}, got [0-9a-f]{64}/);
    const dir = cacheFolderFor(modelUrl(), root);
    expect(readdirSync(dir)).toEqual([]);
    // The right hash passes.
    const ok = await fetchModel(modelUrl(), { root, sha256: { 'model.json': await sha256File(join(modelDir, 'model.json')) } });
    expect(existsSync(join(ok, 'files.json'))).toBe(true);
  });

  it('uses the cache offline, and fails clearly offline without a cache', async () => {
    const root = tempDir();
    const dead = await serveFolder(modelDir);
    const url = `${dead.url}/model.json`;
    await fetchModel(url, { root });
    await dead.close();
    const seen = dead.requests.length;
    const dir = await fetchModel(url, { root });
    expect(dead.requests.length).toBe(seen);
    const { model } = await loadLayersModelFrom(dir);
    expect(model.outputs[0].shape).toEqual([null, 2]);
    model.dispose();
    const err = await fetchModel(url, { root: tempDir() }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/is not in the model cache \(.*\) and cannot be downloaded: cannot reach .*Connect to the internet once/);
  });
});

describe('pretrained-backbone node', () => {
  const defaults = resolveParams(pretrainedBackbone.params, {}).values;
  const run = async (p: Record<string, unknown>, ds = dataset, ctx = makeContext()): Promise<ModelWithNormalization> => {
    const out = await pretrainedBackbone.run({ dataset: ds }, { ...defaults, backbone: 'custom', location: modelDir, ...p }, ctx);
    return (out as { model: ModelWithNormalization }).model;
  };

  it('cuts a local model before its classifier, freezes it, adds a new head, and leaks nothing', async () => {
    const before = tf.memory().numTensors;
    const ctx = makeContext();
    const m = await run({ dense: '6' }, dataset, ctx);
    const leaves = leafLayers(m.model);
    const names = leaves.map((l) => l.name);
    expect(names).toContain('flatten'); // auto cut: the last layer before dense/dropout/softmax
    expect(names).not.toContain('dense'); // the old classifier layers are gone
    expect(leaves.filter((l) => l.weights.length > 0).map((l) => [l.name, l.trainable])).toEqual([
      ['conv1', false],
      ['conv2', false],
      ['head_dense1', true],
      ['classifier', true],
    ]);
    expect(ctx.logs.some((l) => /assuming pixels \/ 255/.test(l.message))).toBe(true);
    const y = tf.tidy(() => m.model.predict(tf.zeros([2, 12, 12, 3])) as tf.Tensor);
    expect(y.shape).toEqual([2, 2]);
    y.dispose();
    modelPort.dispose!(m);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('fine-tunes the last N layers or all, and names a missing cut layer', async () => {
    const lastOne = await run({ training: 'fine-tune-last-n', fineTuneLayers: 1 });
    expect(leafLayers(lastOne.model).filter((l) => l.weights.length > 0).map((l) => l.trainable)).toEqual([false, true, true]);
    const all = await run({ training: 'fine-tune-all', cutLayer: 'pool2' });
    expect(leafLayers(all.model).filter((l) => l.weights.length > 0).every((l) => l.trainable)).toBe(true);
    expect(leafLayers(all.model).some((l) => l.name === 'global_avg_pool')).toBe(true);
    modelPort.dispose!(lastOne);
    modelPort.dispose!(all);
    const err = await run({ cutLayer: 'nope' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NodeError);
    expect((err as NodeError).where.param).toBe('cutLayer');
    expect((err as Error).message).toMatch(/has no layer "nope"; its last layers are .*conv2/);
  });

  it('downloads from a URL into the model cache with progress, and resizes other image sizes', async () => {
    const cache = tempDir();
    const saved = process.env.DLFLOW_MODEL_CACHE;
    process.env.DLFLOW_MODEL_CACHE = cache;
    try {
      const big = await tinyDataset(16);
      // A 12x12 backbone fed 12x12 images needs no resize; compare with a dataset of another size.
      const { sampleSigns } = await import('../../../nodes/data/sample-signs.node.ts');
      const { dataset: sixteen } = (await sampleSigns.run({}, { count: 8, size: 16, classes: 2, difficulty: 0, seed: 3 }, makeContext())) as { dataset: Dataset };
      const ctx = makeContext();
      const m = await run({ location: modelUrl() }, sixteen, ctx);
      expect(m.inputShape).toEqual([16, 16, 3]);
      expect(m.layers.find((l) => l.type === 'Resizing')?.outputShape).toBe('[?, 12, 12, 3]');
      expect(ctx.progressCalls.some((p) => /downloading weights.bin/.test(p.note ?? ''))).toBe(true);
      expect(readdirSync(cache).length).toBe(1);
      const y = tf.tidy(() => m.model.predict(tf.zeros([1, 16, 16, 3])) as tf.Tensor);
      expect(y.shape).toEqual([1, 2]);
      y.dispose();
      modelPort.dispose!(m);
      void big;
    } finally {
      if (saved === undefined) delete process.env.DLFLOW_MODEL_CACHE;
      else process.env.DLFLOW_MODEL_CACHE = saved;
    }
  });

  it('trains in two phases through the trainer: head first, then the last backbone layer', async () => {
    const m = await run({});
    const before = tf.memory().numTensors;
    const conv = (x: tf.LayersModel, name: string): number[] => Array.from(leafLayers(x).find((l) => l.name === name)!.getWeights()[0].dataSync());
    const ctx = makeContext();
    const r = await trainClassifierModel(m.model, dataset, { ...DEFAULT_TRAIN_CONFIG, epochs: 1, fineTuneEpochs: 1, fineTuneLayers: 1, batchSize: 8 }, ctx, {
      checkpointDir: join(tempDir(), 'ck'),
    });
    expect(ctx.logs.some((l) => /unfroze 1 layer \(conv2\)/.test(l.message))).toBe(true);
    expect(conv(r.model, 'conv1')).toEqual(conv(m.model, 'conv1'));
    expect(conv(r.model, 'conv2')).not.toEqual(conv(m.model, 'conv2'));
    r.model.dispose();
    expect(tf.memory().numTensors).toBe(before);
    modelPort.dispose!(m);
    mkdirSync(tempDir(), { recursive: true });
  });
});

describe('graph-model backbones', () => {
  /** A hand-written TF.js GraphModel: per-channel mean of the image, then a 3→4 matrix. */
  function writeGraphModel(dir: string): void {
    const dims = (a: number[]): { dim: { size: string }[] } => ({ dim: a.map((size) => ({ size: String(size) })) });
    const topology = {
      node: [
        { name: 'image', op: 'Placeholder', attr: { dtype: { type: 'DT_FLOAT' }, shape: { shape: dims([-1, 10, 10, 3]) } } },
        { name: 'axes', op: 'Const', attr: { dtype: { type: 'DT_INT32' }, value: { tensor: { dtype: 'DT_INT32', tensorShape: dims([2]) } } } },
        { name: 'w', op: 'Const', attr: { dtype: { type: 'DT_FLOAT' }, value: { tensor: { dtype: 'DT_FLOAT', tensorShape: dims([3, 4]) } } } },
        { name: 'mean', op: 'Mean', input: ['image', 'axes'], attr: { keep_dims: { b: false }, T: { type: 'DT_FLOAT' }, Tidx: { type: 'DT_INT32' } } },
        { name: 'features', op: 'MatMul', input: ['mean', 'w'], attr: { transpose_a: { b: false }, transpose_b: { b: false }, T: { type: 'DT_FLOAT' } } },
      ],
      versions: { producer: 1 },
    };
    const axes = new Int32Array([1, 2]);
    const w = new Float32Array([1, 0, 0, 1, 0, 1, 0, 1, 0, 0, 1, 1]);
    const data = new Uint8Array(axes.byteLength + w.byteLength);
    data.set(new Uint8Array(axes.buffer), 0);
    data.set(new Uint8Array(w.buffer), axes.byteLength);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'group1-shard1of1.bin'), data);
    writeFileSync(
      join(dir, 'model.json'),
      JSON.stringify({
        format: 'graph-model',
        generatedBy: 'test',
        modelTopology: topology,
        weightsManifest: [{ paths: ['group1-shard1of1.bin'], weights: [{ name: 'axes', shape: [2], dtype: 'int32' }, { name: 'w', shape: [3, 4], dtype: 'float32' }] }],
      }),
    );
  }

  it('uses a graph model as a frozen feature extractor that trains, caches and reloads, and fetches shards with the model URL\'s query', async () => {
    const dir = join(tempDir(), 'graph');
    writeGraphModel(dir);
    const graphServer = await serveFolder(dir);
    const cache = tempDir();
    const saved = process.env.DLFLOW_MODEL_CACHE;
    process.env.DLFLOW_MODEL_CACHE = cache;
    try {
      const defaults = resolveParams(pretrainedBackbone.params, {}).values;
      const ctx = makeContext();
      const out = await pretrainedBackbone.run(
        { dataset },
        { ...defaults, backbone: 'custom', location: `${graphServer.url}/model.json?tfjs-format=file`, training: 'fine-tune-all', dense: '5' },
        ctx,
      );
      const m = (out as { model: ModelValue }).model;
      expect(graphServer.requests.map((r) => r.url)).toEqual(['/model.json?tfjs-format=file', '/group1-shard1of1.bin?tfjs-format=file']);
      expect(ctx.logs.some((l) => /graph model: it is used frozen/.test(l.message))).toBe(true);
      expect(m.layers.map((l) => l.type)).toEqual(['InputLayer', 'Resizing', 'DlflowGraphFeatures', 'Dense', 'Dropout', 'Dense']);
      expect(m.layers[2].outputShape).toBe('[?, 4]');
      const before = tf.memory().numTensors;
      const r = await trainClassifierModel(m.model, dataset, { ...DEFAULT_TRAIN_CONFIG, epochs: 1, batchSize: 8 }, makeContext());
      const saveDir = tempDir();
      await trainedModelPort.save!({ model: r.model, inputShape: dataset.imageShape, classes: dataset.classes, normalization: r.normalization, architecture: 'g', history: r.history }, saveDir);
      const back = (await trainedModelPort.load!(saveDir)) as TrainedModel;
      const x = tf.randomUniform([2, 12, 12, 3], 0, 1, 'float32', 3);
      const p1 = tf.tidy(() => Array.from((r.model.predict(x) as tf.Tensor).dataSync()));
      const p2 = tf.tidy(() => Array.from((back.model.predict(x) as tf.Tensor).dataSync()));
      expect(p2).toEqual(p1);
      x.dispose();
      r.model.dispose();
      back.model.dispose();
      expect(tf.memory().numTensors).toBe(before);
      modelPort.dispose!(m);
    } finally {
      await graphServer.close();
      if (saved === undefined) delete process.env.DLFLOW_MODEL_CACHE;
      else process.env.DLFLOW_MODEL_CACHE = saved;
    }
  });
});
