/** Test helpers for data/preprocess/augment nodes: a recording run context and fixture images. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import sharp from 'sharp';
import type { NodeType, RunContext } from '../../../main/engine/node-api.ts';
import { resolveParams } from '../../../main/engine/params.ts';
import { createRandom, hashString } from '../../../main/engine/random.ts';
import type { PreviewPayload } from '../../../main/protocol/index.ts';

export interface TestCtx extends RunContext {
  logs: { message: string; level: string }[];
  previews: PreviewPayload[];
  progressed: number[];
}

/** A run context rooted at `baseDir`, with cacheDir laid out like the engine's (<cache>/nodes/<key>). */
export function makeCtx(baseDir: string, opts: { seed?: number; cacheRoot?: string } = {}): TestCtx {
  const cacheRoot = opts.cacheRoot ?? join(baseDir, '.cache');
  const controller = new AbortController();
  const ctx: TestCtx = {
    logs: [],
    previews: [],
    progressed: [],
    signal: controller.signal,
    progress: (f) => void ctx.progressed.push(f),
    preview: (p) => void ctx.previews.push(p),
    log: (message, level = 'info') => void ctx.logs.push({ message, level }),
    random: createRandom(opts.seed ?? hashString('test')),
    cacheDir: join(cacheRoot, 'nodes', 'k' + Math.random().toString(36).slice(2)),
    baseDir,
    nodeId: 'n1',
    allowCode: false,
    onCleanup: () => {},
    throwIfCancelled: () => {
      if (controller.signal.aborted) throw new Error('cancelled');
    },
  };
  return ctx;
}

/** Runs a node with params filled from defaults and validated, as the engine would. */
export async function runNode(node: NodeType, inputs: Record<string, unknown>, params: Record<string, unknown>, ctx: RunContext): Promise<Record<string, any>> {
  const { values, problems } = resolveParams(node.params, params);
  if (problems.length) throw new Error(problems.map((p) => p.message).join('; '));
  return node.run(inputs, values, ctx);
}

export function paramsOf(node: NodeType, params: Record<string, unknown>): Record<string, unknown> {
  return resolveParams(node.params, params).values;
}

export function tempDir(prefix = 'dlflow-test-'): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A w x h RGB image filled with one colour plus a gradient, so images differ. */
export function solid(w: number, h: number, rgb: [number, number, number], channels = 3): Buffer {
  const px = Buffer.alloc(w * h * channels);
  for (let i = 0; i < w * h; i++)
    for (let c = 0; c < channels; c++) px[i * channels + c] = c < 3 ? Math.min(255, rgb[c] + (i % w)) : 255;
  return px;
}

export async function png(w: number, h: number, rgb: [number, number, number]): Promise<Buffer> {
  return sharp(solid(w, h, rgb), { raw: { width: w, height: h, channels: 3 } }).png().toBuffer();
}

export async function jpeg(w: number, h: number, rgb: [number, number, number], orientation?: number): Promise<Buffer> {
  let img = sharp(solid(w, h, rgb), { raw: { width: w, height: h, channels: 3 } }).jpeg({ quality: 95 });
  if (orientation) img = img.withMetadata({ orientation });
  return img.toBuffer();
}

/** A 16-bit RGB PNG written by hand (so the sample values are exactly known): every pixel `value`. */
export function png16(w: number, h: number, value: number): Buffer {
  const chunk = (type: string, data: Buffer): Buffer => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([len, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 16;
  ihdr[9] = 2;
  const raw = Buffer.alloc((1 + w * 6) * h);
  for (let y = 0; y < h; y++) for (let i = 0; i < w * 3; i++) raw.writeUInt16BE(value, y * (1 + w * 6) + 1 + i * 2);
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}
