import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { defineNode } from '../../main/engine/node-api.ts';
import { NodeError } from '../../main/engine/errors.ts';
import type { SubsetName } from '../_lib/dataset.ts';
import { storeSources } from '../_lib/image-io.ts';
import type { ImageEntry } from '../_lib/image-loading.ts';
import { buildImageDataset, decodeParams, filesFingerprint, loaderPreview, targetOf } from '../_lib/image-loading.ts';

/** Parses CSV text (RFC 4180: quoted fields, doubled quotes, CRLF). Returns rows of fields. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  for (; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else field += ch;
    } else if (ch === '"' && field === '') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      field = '';
      if (row.length > 1 || row[0] !== '') rows.push(row);
      row = [];
    } else field += ch;
  }
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

const SPLIT_NAMES: Record<string, SubsetName> = {
  train: 'train',
  training: 'train',
  val: 'validation',
  valid: 'validation',
  validation: 'validation',
  dev: 'validation',
  test: 'test',
  testing: 'test',
};

/** Sorts class names numerically when they all are numbers, else as strings. */
function sortClasses(names: string[]): string[] {
  const numeric = names.every((n) => /^-?\d+(\.\d+)?$/.test(n));
  return names.sort((a, b) => (numeric ? Number(a) - Number(b) : a < b ? -1 : a > b ? 1 : 0));
}

export const csvManifest = defineNode({
  id: 'dlflow:data:csv-manifest',
  name: 'CSV manifest',
  category: 'data',
  description: [
    'Loads images listed in a CSV file with a header row: a **path** column (relative to the CSV',
    'file), a **label** column (class names, sorted; numbers sort numerically) and optionally a',
    '**split** column (`train`, `validation`/`val`, `test`) that becomes the dataset subsets.',
    'Column names are params. Decoding, caching and the skip report work as in *Image folder*:',
    'missing or broken files are skipped and listed, never fatal.',
  ].join('\n'),
  inputs: {},
  params: {
    csv: { kind: 'path', mode: 'file', extensions: ['csv'], default: '', required: true, label: 'CSV file', inline: true },
    pathColumn: { kind: 'string', default: 'path', label: 'Path column' },
    labelColumn: { kind: 'string', default: 'label', label: 'Label column' },
    splitColumn: { kind: 'string', default: 'split', label: 'Split column', description: 'Used when the CSV has it; leave as is otherwise.' },
    ...decodeParams,
  },
  outputs: { dataset: { type: 'dataset', label: 'Dataset' } },
  previews: ['image-grid', 'table'],
  async fingerprint(p, { baseDir }) {
    const csvPath = resolve(baseDir, p.csv);
    let text = '';
    try {
      text = await readFile(csvPath, 'utf8');
    } catch {
      return 'missing';
    }
    const rows = parseCsv(text);
    const col = rows[0]?.indexOf(p.pathColumn) ?? -1;
    const files = col < 0 ? [] : rows.slice(1).map((r) => resolve(dirname(csvPath), r[col] ?? ''));
    return (await filesFingerprint([csvPath, ...files])) + text.length;
  },
  async run(_inputs, params, ctx) {
    if (params.csv.trim() === '') throw new NodeError('choose a CSV file listing path,label', { param: 'csv' });
    const csvPath = resolve(ctx.baseDir, params.csv);
    let text: string;
    try {
      text = await readFile(csvPath, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new NodeError(code === 'ENOENT' ? `CSV file not found: ${csvPath}` : `cannot read ${csvPath}: ${(error as Error).message}`, { param: 'csv' });
    }
    const rows = parseCsv(text);
    if (rows.length < 2) throw new NodeError(`${csvPath} has no rows after its header`, { param: 'csv' });
    const header = rows[0].map((h) => h.trim());
    const col = (name: string, param: string, optional = false): number => {
      const k = header.indexOf(name);
      if (k < 0 && !optional) throw new NodeError(`${csvPath} has no "${name}" column (columns: ${header.join(', ')})`, { param });
      return k;
    };
    const pathCol = col(params.pathColumn, 'pathColumn');
    const labelCol = col(params.labelColumn, 'labelColumn');
    const splitCol = params.splitColumn ? col(params.splitColumn, 'splitColumn', true) : -1;
    const body = rows.slice(1);
    const bad: string[] = [];
    const names = new Set<string>();
    for (const [i, r] of body.entries()) {
      const label = (r[labelCol] ?? '').trim();
      if (!r[pathCol]?.trim() || !label) bad.push(`line ${i + 2}`);
      else names.add(label);
    }
    if (bad.length > 0) ctx.log(`${bad.length} row${bad.length === 1 ? '' : 's'} without a path or label skipped (${bad.slice(0, 5).join(', ')})`, 'warn');
    const classes = sortClasses([...names]);
    if (classes.length === 0) throw new NodeError(`${csvPath} lists no labelled images`, { param: 'csv' });
    const classIndex = new Map(classes.map((c, k) => [c, k]));
    const entries: ImageEntry[] = [];
    for (const [i, r] of body.entries()) {
      const file = r[pathCol]?.trim();
      const label = (r[labelCol] ?? '').trim();
      if (!file || !label) continue;
      let subset: SubsetName | undefined;
      if (splitCol >= 0) {
        const raw = (r[splitCol] ?? '').trim().toLowerCase();
        subset = SPLIT_NAMES[raw];
        if (raw && !subset)
          throw new NodeError(`line ${i + 2} of ${csvPath}: split "${r[splitCol]}" is not train, validation or test`, { param: 'splitColumn' });
      }
      entries.push({ path: resolve(dirname(csvPath), file), display: file, label: classIndex.get(label)!, subset });
    }
    const dataset = await buildImageDataset(entries, classes, targetOf(params), ctx, {
      param: 'csv',
      origin: `csv ${params.csv}`,
      concurrency: params.concurrency,
      classPath: (label) => `class "${classes[label]}" of ${csvPath}`,
    });
    return { dataset };
  },
  preview: ({ dataset }) => loaderPreview(dataset),
  summary: ({ dataset }) =>
    `${dataset.count} images, ${dataset.classes.length} classes` +
    ((storeSources(dataset.store)?.skipped.length ?? 0) > 0 ? `, ${storeSources(dataset.store)!.skipped.length} skipped` : ''),
});
