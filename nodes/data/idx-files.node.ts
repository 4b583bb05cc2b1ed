import { readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { defineNode } from '../../main/engine/node-api.ts';
import { NodeError } from '../../main/engine/errors.ts';
import { createDataset, createMemoryStore, datasetPreview } from '../_lib/dataset.ts';
import { datasetHealth, healthTables } from '../_lib/health.ts';

export interface IdxArray {
  /** IDX type code: 0x08 ubyte, 0x09 byte, 0x0b short, 0x0c int, 0x0d float, 0x0e double. */
  type: number;
  dims: number[];
  data: ArrayLike<number>;
}

const TYPE_BYTES: Record<number, number> = { 0x08: 1, 0x09: 1, 0x0b: 2, 0x0c: 4, 0x0d: 4, 0x0e: 8 };

/**
 * Parses an IDX file (the MNIST family's format), gunzipping it first when it starts with the
 * gzip magic. Throws a message naming what is wrong (bad magic, truncated data).
 */
export function parseIdx(bytes: Uint8Array, name = 'IDX file'): IdxArray {
  let b = bytes;
  if (b[0] === 0x1f && b[1] === 0x8b) {
    try {
      b = new Uint8Array(gunzipSync(b));
    } catch (error) {
      throw new Error(`${name}: gzip data is corrupt or truncated (${(error as Error).message})`);
    }
  }
  if (b.length < 4 || b[0] !== 0 || b[1] !== 0) throw new Error(`${name} is not an IDX file (bad magic number)`);
  const type = b[2];
  const rank = b[3];
  const size = TYPE_BYTES[type];
  if (!size) throw new Error(`${name}: unknown IDX data type 0x${type.toString(16)}`);
  if (rank < 1 || b.length < 4 + 4 * rank) throw new Error(`${name}: truncated header`);
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const dims = Array.from({ length: rank }, (_, k) => v.getUint32(4 + 4 * k, false));
  const n = dims.reduce((a, d) => a * d, 1);
  const start = 4 + 4 * rank;
  if (b.length < start + n * size) throw new Error(`${name} is truncated: dims ${dims.join('x')} need ${start + n * size} bytes, file has ${b.length}`);
  let data: ArrayLike<number>;
  if (type === 0x08) data = b.subarray(start, start + n);
  else {
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const at = start + i * size;
      out[i] = type === 0x09 ? v.getInt8(at) : type === 0x0b ? v.getInt16(at) : type === 0x0c ? v.getInt32(at) : type === 0x0d ? v.getFloat32(at) : v.getFloat64(at);
    }
    data = out;
  }
  return { type, dims, data };
}

export const idxFiles = defineNode({
  id: 'dlflow:data:idx-files',
  name: 'IDX files',
  category: 'data',
  description: [
    'Loads an image set stored as **IDX** files, the format of MNIST, Fashion-MNIST, EMNIST and',
    'KMNIST: an images file (`n × h × w` greyscale or `n × h × w × 3`) and a labels file (`n`),',
    'gzipped (`.gz`) or not. Class names default to the label numbers; give your own as a comma-',
    'separated list (e.g. `T-shirt,Trouser,…`).',
  ].join('\n'),
  inputs: {},
  params: {
    images: { kind: 'path', mode: 'file', default: '', required: true, label: 'Images file', inline: true, extensions: ['gz', 'idx3-ubyte', 'ubyte'] },
    labels: { kind: 'path', mode: 'file', default: '', required: true, label: 'Labels file', inline: true, extensions: ['gz', 'idx1-ubyte', 'ubyte'] },
    classNames: { kind: 'string', default: '', label: 'Class names', description: 'Comma-separated, in label order. Empty: the label numbers.' },
    limit: { kind: 'integer', default: 0, min: 0, max: 10_000_000, label: 'Max images', description: 'Load only the first N images; 0 loads all.' },
  },
  outputs: { dataset: { type: 'dataset', label: 'Dataset' } },
  previews: ['image-grid', 'table'],
  async fingerprint(p, { baseDir }) {
    const parts: string[] = [];
    for (const f of [p.images, p.labels]) {
      try {
        const s = await stat(resolve(baseDir, f));
        parts.push(`${f}:${s.size}:${s.mtimeMs}`);
      } catch {
        parts.push(`${f}:missing`);
      }
    }
    return parts.join('|');
  },
  async run(_inputs, params, ctx) {
    const read = async (param: 'images' | 'labels'): Promise<Uint8Array> => {
      if (params[param].trim() === '') throw new NodeError(`choose the ${param} IDX file`, { param });
      const path = resolve(ctx.baseDir, params[param]);
      try {
        return new Uint8Array(await readFile(path));
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        throw new NodeError(code === 'ENOENT' ? `file not found: ${path}` : `cannot read ${path}: ${(error as Error).message}`, { param });
      }
    };
    const parse = (bytes: Uint8Array, param: 'images' | 'labels') => {
      try {
        return parseIdx(bytes, resolve(ctx.baseDir, params[param]));
      } catch (error) {
        throw new NodeError((error as Error).message, { param });
      }
    };
    const images = parse(await read('images'), 'images');
    const labelsIdx = parse(await read('labels'), 'labels');
    if (images.dims.length !== 3 && !(images.dims.length === 4 && (images.dims[3] === 1 || images.dims[3] === 3)))
      throw new NodeError(`images file has dims ${images.dims.join('x')}; expected n×h×w or n×h×w×3`, { param: 'images' });
    if (images.type !== 0x08) ctx.log('images are not unsigned bytes; values are clamped to 0..255', 'warn');
    if (labelsIdx.dims.length !== 1) throw new NodeError(`labels file has dims ${labelsIdx.dims.join('x')}; expected one label per image`, { param: 'labels' });
    const [n0, h, w] = images.dims;
    const c = images.dims[3] ?? 1;
    if (labelsIdx.dims[0] !== n0)
      throw new NodeError(`images file has ${n0} images but labels file has ${labelsIdx.dims[0]} labels`, { param: 'labels' });
    const n = params.limit > 0 ? Math.min(params.limit, n0) : n0;
    const per = h * w * c;
    const pixels = images.type === 0x08 ? Uint8Array.from((images.data as Uint8Array).subarray(0, n * per)) : Uint8Array.from({ length: n * per }, (_, i) => Math.max(0, Math.min(255, Math.round(images.data[i]))));
    const labels = new Int32Array(n);
    let max = 0;
    for (let i = 0; i < n; i++) {
      const l = labelsIdx.data[i];
      if (!Number.isInteger(l) || l < 0) throw new NodeError(`label ${l} of image ${i} is not a non-negative integer`, { param: 'labels' });
      labels[i] = l;
      max = Math.max(max, l);
    }
    const given = params.classNames.split(',').map((s) => s.trim()).filter((s) => s !== '');
    if (given.length > 0 && given.length <= max)
      throw new NodeError(`${given.length} class names given but labels go up to ${max}`, { param: 'classNames' });
    const classes = given.length > 0 ? given : Array.from({ length: max + 1 }, (_, k) => String(k));
    ctx.log(`${n} images of ${h}x${w}x${c}, ${classes.length} classes`);
    return {
      dataset: createDataset({ classes, labels, subsets: {}, store: createMemoryStore(pixels, [h, w, c]), origin: `idx ${params.images}` }),
    };
  },
  preview: ({ dataset }) => [datasetPreview(dataset, { perClass: 6 }), ...healthTables(dataset, datasetHealth(dataset))],
  summary: ({ dataset }) => `${dataset.count} images, ${dataset.classes.length} classes`,
});
