import '../_leak-guard.ts';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadDataset, saveDataset, createDataset } from '../../../nodes/_lib/dataset.ts';
import { createStoreFrom, decodeBmp, decodeFiles, decodeImage, storeSources } from '../../../nodes/_lib/image-io.ts';
import { jpeg, png, tempDir } from './_helpers.ts';
import { writeFileSync } from 'node:fs';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

describe('image io', () => {
  it('decodes an 8-bit palette BMP and rejects a truncated one', () => {
    const w = 3;
    const h = 2;
    const stride = 4;
    const buf = Buffer.alloc(54 + 2 * 4 + stride * h);
    buf.write('BM', 0);
    buf.writeUInt32LE(54 + 8, 10);
    buf.writeUInt32LE(40, 14);
    buf.writeInt32LE(w, 18);
    buf.writeInt32LE(-h, 22);
    buf.writeUInt16LE(8, 28);
    buf.writeUInt32LE(2, 46);
    buf.set([255, 0, 0, 0, 0, 0, 255, 0], 54); // palette: 0 = blue, 1 = red (BGRA)
    buf.set([0, 1, 0], 62);
    buf.set([1, 1, 1], 66);
    const { data } = decodeBmp(buf);
    expect(Array.from(data.subarray(0, 9))).toEqual([0, 0, 255, 255, 0, 0, 0, 0, 255]);
    expect(Array.from(data.subarray(9, 12))).toEqual([255, 0, 0]);
    expect(() => decodeBmp(buf.subarray(0, 60))).toThrow(/truncated BMP/);
  });

  it('decodes in parallel to the same result as one by one, and caches by content', async () => {
    const dir = join(tmp.dir, 'many');
    mkdirSync(dir);
    const files: string[] = [];
    for (let i = 0; i < 12; i++) {
      const f = join(dir, `${i}.${i % 2 ? 'png' : 'jpg'}`);
      writeFileSync(f, i % 2 ? await png(10 + i, 9, [i * 20, 50, 90]) : await jpeg(9, 10 + i, [90, i * 20, 50]));
      files.push(f);
    }
    // Two files with the same bytes share one cache entry.
    writeFileSync(join(dir, 'same.jpg'), await jpeg(9, 10, [90, 0, 50]));
    files.push(join(dir, 'same.jpg'));
    const target = { width: 6, height: 6, channels: 3 as const, fit: 'crop' as const };
    const cacheRoot = join(tmp.dir, 'cache');
    const par = await decodeFiles(files, target, { cacheRoot, concurrency: 6 });
    const one = await decodeFiles(files, target, { cacheRoot: join(tmp.dir, 'cache2'), concurrency: 1 });
    expect(par.every((r) => r.ok)).toBe(true);
    expect(par.map((r) => r.ok && r.hash)).toEqual(one.map((r) => r.ok && r.hash));
    const p0 = par[0];
    const s0 = par[12];
    expect(p0.ok && s0.ok && p0.cachePath === s0.cachePath).toBe(true);
    const again = await decodeFiles(files, target, { cacheRoot });
    expect(again.every((r) => r.ok && r.cached)).toBe(true);
    const direct = await decodeImage(await import('node:fs').then((fs) => fs.readFileSync(files[3])), target);
    expect(direct.pixels.length).toBe(6 * 6 * 3);
    expect([direct.sourceWidth, direct.sourceHeight]).toEqual([13, 9]);
  });

  it('builds large stores as a packed file read per batch, and round-trips them', async () => {
    const per = 4 * 4 * 1;
    const sources = { files: ['a', 'b', 'c'], hashes: ['1', '2', '3'], sizes: Uint32Array.from([4, 4, 5, 5, 6, 6]), skipped: [{ file: 'x', reason: 'broken' }] };
    const store = await createStoreFrom(3, [4, 4, 1], (start, n) => Uint8Array.from({ length: n * per }, (_, i) => start * per + i), {
      dir: join(tmp.dir, 'packed'),
      memoryLimit: 0,
      chunk: 2,
      sources,
    });
    expect(store.kind).toBe('packed-file');
    expect(store.sizeBytes).toBeLessThan(100);
    expect(Array.from(store.read([2, 0]).subarray(0, 2))).toEqual([32, 33]);
    const d = createDataset({ classes: ['a'], labels: Int32Array.from([0, 0, 0]), subsets: {}, store });
    const dir = join(tmp.dir, 'saved');
    mkdirSync(dir);
    await saveDataset(d, dir);
    const back = await loadDataset(dir);
    expect(back.store.read([1])).toEqual(store.read([1]));
    expect(storeSources(back.store)!.skipped).toEqual(sources.skipped);
    expect(Array.from(storeSources(back.store)!.sizes)).toEqual([4, 4, 5, 5, 6, 6]);
  });
});
