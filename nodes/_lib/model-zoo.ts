/**
 * Pretrained backbones: a catalogue of ImageNet models published for TF.js (layers models that can
 * be fine-tuned, graph models used as frozen feature extractors), a model cache folder, fetching (download on first use, resume, verify, offline afterwards) and loading
 * a TF.js LayersModel from a folder or a model.json path.
 *
 * About hashes: the catalogue lists SHA-256 values only where they were verified against the
 * published files. Where none is listed (all entries at the time of writing, since this was
 * built offline), the hashes of the first complete download are recorded in the cache
 * (`files.json`) and every later use verifies the cached files against them — trust on first
 * use, not a guarantee about the first download.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { Normalization } from './dataset.ts';
import { DownloadError, downloadFile, sha256File } from './download.ts';

export interface ZooEntry {
  id: string;
  name: string;
  /** URL of model.json; weight shards sit next to it. */
  url: string;
  /** Layers models can be cut and fine-tuned; graph models are frozen feature extractors. */
  format: 'layers-model' | 'graph-model';
  /** [height, width, channels] the network was trained at. */
  inputShape: [number, number, number];
  /** What a pixel p (0..255) must become: (p / 255 - mean) / std. MobileNets take [-1, 1]. */
  normalization: Normalization;
  /** Layer (layers models) whose output is the feature vector; empty for a graph's default output. */
  featureLayer: string;
  /** Verified SHA-256 by file name (model.json, shards); empty when unknown (see module doc). */
  sha256: Record<string, string>;
  description: string;
}

const MINUS_ONE_TO_ONE: Normalization = { mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] };

function mobilenetV1(width: '0.25' | '0.50' | '0.75' | '1.0', size: 128 | 160 | 192 | 224): ZooEntry {
  return {
    id: `mobilenet_v1_${width}_${size}`,
    name: `MobileNet v1 ${width} ${size}`,
    url: `https://storage.googleapis.com/tfjs-models/tfjs/mobilenet_v1_${width}_${size}/model.json`,
    format: 'layers-model',
    inputShape: [size, size, 3],
    normalization: MINUS_ONE_TO_ONE,
    featureLayer: 'conv_pw_13_relu',
    sha256: {},
    description: `MobileNet v1, width multiplier ${width}, ${size}×${size} input, ImageNet (Howard et al. 2017), TF.js layers format.`,
  };
}

const ZERO_TO_ONE: Normalization = { mean: [0, 0, 0], std: [1, 1, 1] };

/**
 * MobileNet v2 feature vectors from TF Hub's TF.js models (graph format: used frozen). The URL
 * follows TF Hub's published pattern for `imagenet/mobilenet_v2_<width>_<size>/feature_vector/3`
 * (served with `?tfjs-format=file`); it was not reachable from the machine this was written on,
 * so these entries are unverified until first use. TF Hub image models take inputs in [0, 1].
 */
function mobilenetV2(width: '100' | '075' | '050' | '035', size: 224 | 192 | 160 | 128 | 96): ZooEntry {
  return {
    id: `mobilenet_v2_${width}_${size}`,
    name: `MobileNet v2 ${Number(width) / 100} ${size}`,
    url: `https://tfhub.dev/google/tfjs-model/imagenet/mobilenet_v2_${width}_${size}/feature_vector/3/default/1/model.json?tfjs-format=file`,
    format: 'graph-model',
    inputShape: [size, size, 3],
    normalization: ZERO_TO_ONE,
    featureLayer: '',
    sha256: {},
    description: `MobileNet v2 feature vector, width ${Number(width) / 100}, ${size}×${size} input, ImageNet (Sandler et al. 2018), TF Hub TF.js graph model (frozen).`,
  };
}

/**
 * The catalogue: MobileNet v1 (TF.js layers models: cut anywhere, fine-tune) and MobileNet v2
 * (TF Hub graph models: frozen feature extractors with a new head).
 */
export const MODEL_ZOO: readonly ZooEntry[] = [
  ...(['0.25', '0.50', '0.75', '1.0'] as const).flatMap((w) => ([128, 160, 192, 224] as const).map((s) => mobilenetV1(w, s))),
  ...(['100', '075', '050', '035'] as const).flatMap((w) => ([224, 160, 128, 96] as const).map((s) => mobilenetV2(w, s))),
];

export function zooEntry(id: string): ZooEntry | undefined {
  return MODEL_ZOO.find((e) => e.id === id);
}

/** Folder of downloaded models: $DLFLOW_MODEL_CACHE, else <dlflow cache>/models. */
export function modelCacheRoot(): string {
  if (process.env.DLFLOW_MODEL_CACHE) return resolve(process.env.DLFLOW_MODEL_CACHE);
  const base = process.env.DLFLOW_CACHE_DIR || join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'dlflow');
  return join(resolve(base), 'models');
}

/** Cache folder for a model URL: readable prefix + hash of the URL. */
export function cacheFolderFor(url: string, root = modelCacheRoot()): string {
  let slug = url.replace(/^[a-z]+:\/\//i, '').replace(/\/model\.json([?#].*)?$/, '').replace(/[^a-zA-Z0-9.-]+/g, '_');
  // Keep the informative end (the model's name), starting at a word boundary.
  if (slug.length > 60) slug = slug.slice(-60).replace(/^[^_]*_/, '');
  return join(root, `${slug}-${createHash('sha256').update(url).digest('hex').slice(0, 10)}`);
}

interface FilesRecord {
  url: string;
  /** SHA-256 of each file as first downloaded (or as listed in the catalogue). */
  files: Record<string, string>;
  downloadedAt: string;
}

export interface FetchOptions {
  /** Expected hashes by file name (catalogue entry, or a user-given one for model.json). */
  sha256?: Record<string, string>;
  signal?: AbortSignal;
  onProgress?: (fraction: number, note: string) => void;
  log?: (message: string, level?: 'info' | 'warn') => void;
  root?: string;
}

interface ModelJson {
  format?: string;
  modelTopology?: unknown;
  weightsManifest?: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
  userDefinedMetadata?: Record<string, unknown>;
}

function shardNames(json: ModelJson): string[] {
  return (json.weightsManifest ?? []).flatMap((g) => g.paths);
}

/** True when a cached copy is complete and every file still has its recorded hash. */
async function verifiedCache(dir: string, log?: FetchOptions['log']): Promise<boolean> {
  const recordPath = join(dir, 'files.json');
  if (!existsSync(recordPath)) return false;
  try {
    const record = JSON.parse(await readFile(recordPath, 'utf8')) as FilesRecord;
    for (const [name, hash] of Object.entries(record.files)) {
      const path = join(dir, name);
      if (!existsSync(path) || (await sha256File(path)) !== hash) {
        log?.(`cached file ${name} is missing or changed; downloading it again`, 'warn');
        return false;
      }
    }
    return true;
  } catch {
    return false;
  }
}

/**
 * Makes sure the TF.js model at `url` (model.json and its shards) is in the model cache and
 * returns its folder. Uses the cache without any network access when it is complete and intact.
 */
export async function fetchModel(url: string, o: FetchOptions = {}): Promise<string> {
  const dir = cacheFolderFor(url, o.root);
  if (await verifiedCache(dir, o.log)) return dir;
  await mkdir(dir, { recursive: true });
  const expected = o.sha256 ?? {};
  const files: Record<string, string> = {};
  const progress = (i: number, n: number, name: string) => (received: number, total: number | undefined) => {
    const f = total ? received / total : 0;
    o.onProgress?.((i + f) / n, `downloading ${name} ${(received / 2 ** 20).toFixed(1)}${total ? `/${(total / 2 ** 20).toFixed(1)}` : ''} MiB`);
  };
  try {
    const jsonFile = await downloadFile({ url, dest: join(dir, 'model.json'), sha256: expected['model.json'], signal: o.signal, onProgress: progress(0, 1, 'model.json') });
    files['model.json'] = jsonFile.sha256;
    const json = JSON.parse(await readFile(jsonFile.path, 'utf8')) as ModelJson;
    const shards = shardNames(json);
    for (const [i, name] of shards.entries()) {
      if (name.includes('..') || name.startsWith('/')) throw new Error(`model.json at ${url} lists an unsafe weight path "${name}"`);
      // Shards sit next to model.json and take the same query (TF Hub serves `?tfjs-format=file`).
      const shardUrl = new URL(name, url);
      shardUrl.search = new URL(url).search;
      const r = await downloadFile({
        url: shardUrl.href,
        dest: join(dir, name),
        sha256: expected[name],
        signal: o.signal,
        onProgress: progress(i, shards.length, name),
      });
      if (r.resumedFrom > 0) o.log?.(`resumed ${name} from byte ${r.resumedFrom}`);
      files[name] = r.sha256;
    }
  } catch (error) {
    if (error instanceof DownloadError && error.kind === 'network')
      throw new Error(
        `the model ${url} is not in the model cache (${dir}) and cannot be downloaded: ${error.message}. ` +
          'Connect to the internet once (it is kept for offline use afterwards), copy the model files into that folder, or point the node at a local model.json.',
        { cause: error },
      );
    throw error;
  }
  const record: FilesRecord = { url, files, downloadedAt: new Date().toISOString() };
  await writeFile(join(dir, 'files.json.tmp'), JSON.stringify(record, null, 2));
  await rename(join(dir, 'files.json.tmp'), join(dir, 'files.json'));
  o.log?.(`downloaded ${Object.keys(files).length} files to ${dir}; their SHA-256 hashes are recorded there and checked on every later use`);
  return dir;
}

/** Whether the model.json at `pathOrDir` is a layers model or a graph model. */
export async function modelFormatOf(pathOrDir: string): Promise<{ format: 'layers-model' | 'graph-model'; jsonPath: string }> {
  const jsonPath = pathOrDir.endsWith('.json') ? pathOrDir : join(pathOrDir, 'model.json');
  let json: ModelJson;
  try {
    json = JSON.parse(await readFile(jsonPath, 'utf8')) as ModelJson;
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT')
      throw new Error(`there is no TF.js model at ${jsonPath} (no such file); save one there first, e.g. with a Save model node`, { cause: error });
    throw new Error(`cannot read a TF.js model from ${jsonPath}: ${(error as Error).message}`, { cause: error });
  }
  const graph = json.format === 'graph-model' || (typeof json.modelTopology === 'object' && json.modelTopology !== null && 'node' in json.modelTopology);
  return { format: graph ? 'graph-model' : 'layers-model', jsonPath };
}

export interface LoadedModel {
  model: tf.LayersModel;
  /** `userDefinedMetadata` of model.json (dlflow writes its class names and normalisation there). */
  metadata: Record<string, unknown> | undefined;
}

/**
 * Loads a TF.js LayersModel from a model.json path or a folder holding model.json, reading the
 * weight shards from disk (works on every backend, no tfjs-node file handler needed).
 */
export async function loadLayersModelFrom(pathOrDir: string): Promise<LoadedModel> {
  const jsonPath = pathOrDir.endsWith('.json') ? pathOrDir : join(pathOrDir, 'model.json');
  let json: ModelJson;
  try {
    json = JSON.parse(await readFile(jsonPath, 'utf8')) as ModelJson;
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT')
      throw new Error(`there is no TF.js model at ${jsonPath} (no such file); save one there first, e.g. with a Save model node`, { cause: error });
    throw new Error(`cannot read a TF.js model from ${jsonPath}: ${(error as Error).message}`, { cause: error });
  }
  if (json.format === 'graph-model' || (json.modelTopology && typeof json.modelTopology === 'object' && 'node' in json.modelTopology))
    throw new Error(`${jsonPath} is a TF.js GraphModel; only LayersModels can be used as trainable backbones (convert it with tensorflowjs_converter --output_format=tfjs_layers_model)`);
  if (!json.modelTopology || !json.weightsManifest) throw new Error(`${jsonPath} is not a TF.js LayersModel (no modelTopology / weightsManifest)`);
  const dir = dirname(jsonPath);
  const buffers: Uint8Array[] = [];
  for (const name of shardNames(json)) buffers.push(new Uint8Array(await readFile(join(dir, name))));
  const total = buffers.reduce((n, b) => n + b.byteLength, 0);
  const weightData = new Uint8Array(total);
  let at = 0;
  for (const b of buffers) {
    weightData.set(b, at);
    at += b.byteLength;
  }
  const model = await tf.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: json.modelTopology as object,
      weightSpecs: json.weightsManifest.flatMap((g) => g.weights),
      weightData: weightData.buffer,
    }),
  );
  return { model, metadata: json.userDefinedMetadata };
}
