import '../_leak-guard.ts';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NodeError } from '../../../main/engine/errors.ts';
import type { Dataset } from '../../../nodes/_lib/dataset.ts';
import { loadDataset, saveDataset } from '../../../nodes/_lib/dataset.ts';
import { storeSources } from '../../../nodes/_lib/image-io.ts';
import { imageFolder } from '../../../nodes/data/image-folder.node.ts';
import { jpeg, makeCtx, paramsOf, png, png16, runNode, solid, tempDir } from './_helpers.ts';

const tmp = tempDir();
const root = join(tmp.dir, 'set');

/** A 24-bit bottom-up BMP, written by hand (sharp cannot write BMP). */
function bmp(w: number, h: number, rgb: [number, number, number]): Buffer {
  const stride = Math.ceil((w * 3) / 4) * 4;
  const buf = Buffer.alloc(54 + stride * h);
  buf.write('BM', 0);
  buf.writeUInt32LE(buf.length, 2);
  buf.writeUInt32LE(54, 10);
  buf.writeUInt32LE(40, 14);
  buf.writeInt32LE(w, 18);
  buf.writeInt32LE(h, 22);
  buf.writeUInt16LE(1, 26);
  buf.writeUInt16LE(24, 28);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const o = 54 + y * stride + x * 3;
      buf[o] = rgb[2];
      buf[o + 1] = rgb[1];
      buf[o + 2] = rgb[0];
    }
  return buf;
}

beforeAll(async () => {
  const cat = join(root, 'cat');
  const dog = join(root, 'dög 🐕');
  mkdirSync(join(cat, 'nested'), { recursive: true });
  mkdirSync(dog, { recursive: true });
  writeFileSync(join(cat, 'a.png'), await png(20, 10, [200, 10, 10]));
  writeFileSync(join(cat, 'nested', 'b.jpg'), await jpeg(30, 30, [210, 20, 20]));
  // 16-bit PNG.
  writeFileSync(join(cat, 'deep16.png'), png16(12, 12, 40000));
  // RGBA: fully transparent red flattens to black.
  writeFileSync(join(cat, 'alpha.png'), await sharp(Buffer.from(new Uint8Array(8 * 8 * 4).map((_, i) => (i % 4 === 0 ? 255 : 0))), { raw: { width: 8, height: 8, channels: 4 } }).png().toBuffer());
  writeFileSync(join(cat, 'broken.jpg'), Buffer.from('this is not an image at all'));
  const full = await jpeg(64, 64, [10, 200, 10]);
  writeFileSync(join(cat, 'truncated.jpg'), full.subarray(0, full.length >> 1));
  writeFileSync(join(cat, 'notes.txt'), 'ignored');
  // EXIF orientation 6: stored left half red, right half blue; displayed top red, bottom blue.
  const w = 16;
  const h = 8;
  const raw = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) raw.set(x < w / 2 ? [255, 0, 0] : [0, 0, 255], (y * w + x) * 3);
  writeFileSync(join(dog, 'rotated.jpg'), await sharp(raw, { raw: { width: w, height: h, channels: 3 } }).jpeg({ quality: 100 }).withMetadata({ orientation: 6 }).toBuffer());
  writeFileSync(join(dog, 'ünïcødé 名前.webp'), await sharp(solid(10, 10, [0, 0, 200]), { raw: { width: 10, height: 10, channels: 3 } }).webp().toBuffer());
  writeFileSync(join(dog, 'old.bmp'), bmp(6, 5, [0, 128, 255]));
  writeFileSync(join(dog, 'anim.gif'), await sharp(solid(9, 9, [0, 90, 90]), { raw: { width: 9, height: 9, channels: 3 } }).gif().toBuffer());
  writeFileSync(join(dog, 'scan.tiff'), await sharp(solid(9, 9, [0, 90, 90]), { raw: { width: 9, height: 9, channels: 3 } }).tiff().toBuffer());
});
afterAll(() => tmp.cleanup());

const pixel = (d: Dataset, i: number, y: number, x: number): number[] => {
  const [, w, c] = d.imageShape;
  const px = d.store.read([i]);
  return Array.from(px.subarray((y * w + x) * c, (y * w + x + 1) * c));
};

describe('image folder loader', () => {
  let dataset: Dataset;
  const cacheRoot = join(tmp.dir, 'cache');

  it('loads every format, skips broken files and lists them', async () => {
    const ctx = makeCtx(tmp.dir, { cacheRoot });
    ({ dataset } = await runNode(imageFolder, {}, { folder: 'set', width: 8, height: 8 }, ctx));
    expect(dataset.classes).toEqual(['cat', 'dög 🐕']);
    expect(dataset.imageShape).toEqual([8, 8, 3]);
    const src = storeSources(dataset.store)!;
    expect(src.skipped.map((s) => s.file).sort()).toEqual(['cat/broken.jpg', 'cat/truncated.jpg']);
    expect(src.files).toContain('dög 🐕/ünïcødé 名前.webp');
    expect(src.files).toContain('cat/nested/b.jpg');
    expect(dataset.count).toBe(9);
    expect(Array.from(dataset.labels)).toEqual([0, 0, 0, 0, 1, 1, 1, 1, 1]);
    expect(ctx.logs.some((l) => l.level === 'warn' && l.message.includes('broken.jpg'))).toBe(true);
    // The store holds file names, not pixels.
    expect(dataset.store.sizeBytes).toBeLessThan(5000);
  });

  it('honours EXIF orientation, 16-bit depth, alpha and BMP', () => {
    const src = storeSources(dataset.store)!;
    const at = (name: string): number => src.files.indexOf(name);
    const rot = at('dög 🐕/rotated.jpg');
    expect([src.sizes[2 * rot], src.sizes[2 * rot + 1]]).toEqual([8, 16]);
    const top = pixel(dataset, rot, 0, 4);
    const bottom = pixel(dataset, rot, 7, 4);
    expect(top[0]).toBeGreaterThan(200);
    expect(top[2]).toBeLessThan(60);
    expect(bottom[2]).toBeGreaterThan(200);
    expect(bottom[0]).toBeLessThan(60);
    const deep = pixel(dataset, at('cat/deep16.png'), 4, 4);
    for (const v of deep) expect(Math.abs(v - Math.round(40000 / 257))).toBeLessThanOrEqual(1);
    expect(pixel(dataset, at('cat/alpha.png'), 3, 3)).toEqual([0, 0, 0]);
    const b = pixel(dataset, at('dög 🐕/old.bmp'), 2, 2);
    expect(b[1]).toBeGreaterThan(110);
    expect(b[2]).toBeGreaterThan(240);
  });

  it('shows samples and a health report with the skipped files in its preview', () => {
    const previews = imageFolder.preview!({ dataset }, paramsOf(imageFolder, { folder: 'set' })) as any[];
    expect(previews[0].kind).toBe('image-grid');
    const skipped = previews.find((p) => p.kind === 'table' && /skipped file/.test(p.title));
    expect(skipped.rows.map((r: string[]) => r[0]).sort()).toEqual(['cat/broken.jpg', 'cat/truncated.jpg']);
  });

  it('reuses the decoded-image cache on a second run and survives a disk round trip', async () => {
    const ctx = makeCtx(tmp.dir, { cacheRoot });
    const again = (await runNode(imageFolder, {}, { folder: 'set', width: 8, height: 8 }, ctx)).dataset as Dataset;
    expect(ctx.logs.some((l) => l.message.startsWith('9 images (9 from the decoded-image cache)'))).toBe(true);
    expect(again.store.read([0, 5])).toEqual(dataset.store.read([0, 5]));
    const dir = join(tmp.dir, 'saved');
    mkdirSync(dir);
    await saveDataset(again, dir);
    const back = await loadDataset(dir);
    expect(back.store.read([3, 8])).toEqual(again.store.read([3, 8]));
    expect(storeSources(back.store)!.skipped).toHaveLength(2);
  });

  it('greyscale and letterbox decode to the asked shape', async () => {
    const ctx = makeCtx(tmp.dir, { cacheRoot });
    const grey = (await runNode(imageFolder, {}, { folder: 'set', width: 10, height: 10, color: 'grey', fit: 'letterbox' }, ctx)).dataset as Dataset;
    expect(grey.imageShape).toEqual([10, 10, 1]);
    // a.png is 20x10 (2:1) into 10x10: letterbox pads the top and bottom rows with black.
    const a = storeSources(grey.store)!.files.indexOf('cat/a.png');
    expect(pixel(grey, a, 0, 5)).toEqual([0]);
    expect(pixel(grey, a, 9, 5)).toEqual([0]);
    expect(pixel(grey, a, 5, 5)[0]).toBeGreaterThan(40);
  });

  it('names the path for a missing folder and an empty class', async () => {
    const ctx = makeCtx(tmp.dir, { cacheRoot });
    const missing = runNode(imageFolder, {}, { folder: 'nope' }, ctx);
    await expect(missing).rejects.toThrow(/folder not found: .*nope/);
    await expect(missing).rejects.toBeInstanceOf(NodeError);
    await missing.catch((e: NodeError) => expect(e.where.param).toBe('folder'));
    const empty = join(tmp.dir, 'with-empty');
    mkdirSync(join(empty, 'full'), { recursive: true });
    mkdirSync(join(empty, 'hollow'));
    writeFileSync(join(empty, 'full', 'x.png'), await png(4, 4, [1, 2, 3]));
    await expect(runNode(imageFolder, {}, { folder: 'with-empty' }, ctx)).rejects.toThrow(/with-empty\/hollow has no image files/);
    const allBroken = join(tmp.dir, 'all-broken');
    mkdirSync(join(allBroken, 'ok'), { recursive: true });
    mkdirSync(join(allBroken, 'bad'));
    writeFileSync(join(allBroken, 'ok', 'x.png'), await png(4, 4, [1, 2, 3]));
    writeFileSync(join(allBroken, 'bad', 'y.png'), 'garbage');
    await expect(runNode(imageFolder, {}, { folder: 'all-broken' }, ctx)).rejects.toThrow(/all-broken\/bad has no readable images/);
  });

  it('takes at most maxPerClass files of each class, and stops when cancelled', async () => {
    const ctx = makeCtx(tmp.dir, { cacheRoot });
    const few = (await runNode(imageFolder, {}, { folder: 'set', width: 8, height: 8, maxPerClass: 2 }, ctx)).dataset as Dataset;
    expect(Array.from(few.labels)).toEqual([0, 0, 1, 1]);
    const cancelled = makeCtx(tmp.dir, { cacheRoot: join(tmp.dir, 'cache-cancel') });
    const controller = new AbortController();
    controller.abort();
    await expect(runNode(imageFolder, {}, { folder: 'set' }, { ...cancelled, signal: controller.signal, throwIfCancelled: () => controller.signal.throwIfAborted() })).rejects.toThrow();
  });

  it('changes its fingerprint when a file changes', async () => {
    const p = paramsOf(imageFolder, { folder: 'set' }) as any;
    const before = await imageFolder.fingerprint!(p, { baseDir: tmp.dir });
    writeFileSync(join(root, 'cat', 'new.png'), await png(5, 5, [9, 9, 9]));
    expect(await imageFolder.fingerprint!(p, { baseDir: tmp.dir })).not.toBe(before);
  });
});
