import '../_leak-guard.ts';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Dataset } from '../../../nodes/_lib/dataset.ts';
import { storeSources } from '../../../nodes/_lib/image-io.ts';
import { csvManifest, parseCsv } from '../../../nodes/data/csv-manifest.node.ts';
import { jpeg, makeCtx, png, runNode, tempDir } from './_helpers.ts';

const tmp = tempDir();
beforeAll(async () => {
  mkdirSync(join(tmp.dir, 'data', 'img'), { recursive: true });
  for (let i = 0; i < 6; i++) writeFileSync(join(tmp.dir, 'data', 'img', `${i}.png`), await png(6 + i, 6, [i * 40, 10, 10]));
  writeFileSync(join(tmp.dir, 'data', 'img', 'ça va, "quoted".jpg'), await jpeg(8, 8, [9, 9, 200]));
  writeFileSync(join(tmp.dir, 'data', 'img', 'bad.png'), 'not a png');
  const rows = [
    'path,label,split',
    'img/0.png,10,train',
    'img/1.png,2,train',
    'img/2.png,10,val',
    'img/3.png,2,test',
    'img/4.png,10,train',
    '"img/ça va, ""quoted"".jpg",2,train',
    'img/missing.png,2,train',
    'img/bad.png,10,train',
    ',10,train',
  ];
  writeFileSync(join(tmp.dir, 'data', 'list.csv'), rows.join('\r\n') + '\r\n');
  writeFileSync(join(tmp.dir, 'data', 'bad-split.csv'), 'path,label,split\nimg/0.png,a,holdout\n');
  writeFileSync(join(tmp.dir, 'data', 'nosplit.csv'), 'file,cls\nimg/0.png,x\nimg/1.png,y\n');
});
afterAll(() => tmp.cleanup());

describe('CSV manifest loader', () => {
  it('parses quoted fields, doubled quotes and CRLF', () => {
    expect(parseCsv('a,b\r\n"x, ""y""",2\n\n3,')).toEqual([['a', 'b'], ['x, "y"', '2'], ['3', '']]);
  });

  it('loads paths relative to the CSV, numeric classes, splits, and skips missing/broken files', async () => {
    const ctx = makeCtx(tmp.dir);
    const { dataset } = (await runNode(csvManifest, {}, { csv: 'data/list.csv', width: 5, height: 5 }, ctx)) as { dataset: Dataset };
    expect(dataset.classes).toEqual(['2', '10']);
    expect(dataset.count).toBe(6);
    expect(Array.from(dataset.labels)).toEqual([1, 0, 1, 0, 1, 0]);
    expect(Array.from(dataset.subsets.train!)).toEqual([0, 1, 4, 5]);
    expect(Array.from(dataset.subsets.validation!)).toEqual([2]);
    expect(Array.from(dataset.subsets.test!)).toEqual([3]);
    const skipped = storeSources(dataset.store)!.skipped;
    expect(skipped.map((s) => s.file).sort()).toEqual(['img/bad.png', 'img/missing.png']);
    expect(skipped.find((s) => s.file === 'img/missing.png')!.reason).toMatch(/unreadable/);
    expect(ctx.logs.some((l) => /1 row without a path or label/.test(l.message))).toBe(true);
  });

  it('uses configurable columns and reports bad splits and missing columns by param', async () => {
    const ctx = makeCtx(tmp.dir);
    const { dataset } = (await runNode(csvManifest, {}, { csv: 'data/nosplit.csv', pathColumn: 'file', labelColumn: 'cls', width: 4, height: 4 }, ctx)) as {
      dataset: Dataset;
    };
    expect(dataset.classes).toEqual(['x', 'y']);
    expect(dataset.subsets).toEqual({});
    await expect(runNode(csvManifest, {}, { csv: 'data/bad-split.csv' }, ctx)).rejects.toMatchObject({ where: { param: 'splitColumn' } });
    await expect(runNode(csvManifest, {}, { csv: 'data/nosplit.csv' }, ctx)).rejects.toThrow(/no "path" column \(columns: file, cls\)/);
    await expect(runNode(csvManifest, {}, { csv: 'data/absent.csv' }, ctx)).rejects.toThrow(/CSV file not found: .*absent\.csv/);
  });
});
