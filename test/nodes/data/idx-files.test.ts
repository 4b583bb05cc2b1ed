import '../_leak-guard.ts';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Dataset } from '../../../nodes/_lib/dataset.ts';
import { idxFiles, parseIdx } from '../../../nodes/data/idx-files.node.ts';
import { makeCtx, runNode, tempDir } from './_helpers.ts';

function idx(type: number, dims: number[], data: ArrayLike<number>): Buffer {
  const head = Buffer.alloc(4 + 4 * dims.length);
  head[2] = type;
  head[3] = dims.length;
  dims.forEach((d, k) => head.writeUInt32BE(d, 4 + 4 * k));
  return Buffer.concat([head, Buffer.from(Uint8Array.from(data))]);
}

const tmp = tempDir();
const n = 7;
const images = Uint8Array.from({ length: n * 4 * 3 }, (_, i) => (i * 7) % 256);
const labels = [0, 1, 2, 0, 1, 2, 2];
beforeAll(() => {
  writeFileSync(join(tmp.dir, 'img.idx3-ubyte'), idx(8, [n, 4, 3], images));
  writeFileSync(join(tmp.dir, 'lab.idx1-ubyte'), idx(8, [n], labels));
  writeFileSync(join(tmp.dir, 'img.gz'), gzipSync(idx(8, [n, 4, 3], images)));
  writeFileSync(join(tmp.dir, 'lab.gz'), gzipSync(idx(8, [n], labels)));
  writeFileSync(join(tmp.dir, 'short.idx'), idx(8, [n, 4, 3], images).subarray(0, 40));
  writeFileSync(join(tmp.dir, 'lab6.idx'), idx(8, [6], labels.slice(0, 6)));
  writeFileSync(join(tmp.dir, 'junk.gz'), gzipSync(idx(8, [n], labels)).subarray(0, 12));
});
afterAll(() => tmp.cleanup());

describe('IDX loader', () => {
  for (const [name, img, lab] of [
    ['plain', 'img.idx3-ubyte', 'lab.idx1-ubyte'],
    ['gzipped', 'img.gz', 'lab.gz'],
  ] as const)
    it(`loads ${name} files`, async () => {
      const { dataset } = (await runNode(idxFiles, {}, { images: img, labels: lab }, makeCtx(tmp.dir))) as { dataset: Dataset };
      expect(dataset.imageShape).toEqual([4, 3, 1]);
      expect(dataset.classes).toEqual(['0', '1', '2']);
      expect(Array.from(dataset.labels)).toEqual(labels);
      expect(dataset.store.read([2])).toEqual(images.subarray(24, 36));
    });

  it('takes class names and a limit', async () => {
    const { dataset } = (await runNode(idxFiles, {}, { images: 'img.gz', labels: 'lab.gz', classNames: 'a, b ,c', limit: 4 }, makeCtx(tmp.dir))) as {
      dataset: Dataset;
    };
    expect(dataset.classes).toEqual(['a', 'b', 'c']);
    expect(dataset.count).toBe(4);
  });

  it('reports truncated, mismatched and corrupt files on the right param', async () => {
    const ctx = makeCtx(tmp.dir);
    await expect(runNode(idxFiles, {}, { images: 'short.idx', labels: 'lab.gz' }, ctx)).rejects.toMatchObject({
      message: expect.stringMatching(/short\.idx is truncated/),
      where: { param: 'images' },
    });
    await expect(runNode(idxFiles, {}, { images: 'img.gz', labels: 'lab6.idx' }, ctx)).rejects.toMatchObject({
      message: expect.stringMatching(/7 images but labels file has 6/),
      where: { param: 'labels' },
    });
    await expect(runNode(idxFiles, {}, { images: 'img.gz', labels: 'junk.gz' }, ctx)).rejects.toThrow(/gzip data is corrupt or truncated/);
    await expect(runNode(idxFiles, {}, { images: 'nope.gz', labels: 'lab.gz' }, ctx)).rejects.toThrow(/file not found: .*nope\.gz/);
    await expect(runNode(idxFiles, {}, { images: 'img.gz', labels: 'lab.gz', classNames: 'a,b' }, ctx)).rejects.toMatchObject({ where: { param: 'classNames' } });
  });

  it('parses wider types', () => {
    const head = Buffer.alloc(8);
    head[2] = 0x0b;
    head[3] = 1;
    head.writeUInt32BE(2, 4);
    const body = Buffer.alloc(4);
    body.writeInt16BE(-3, 0);
    body.writeInt16BE(300, 2);
    expect(Array.from(parseIdx(Buffer.concat([head, body])).data)).toEqual([-3, 300]);
    expect(() => parseIdx(Buffer.from([1, 2, 3, 4]))).toThrow(/bad magic/);
  });
});
