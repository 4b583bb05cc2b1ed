/**
 * Dataset health: class balance, exact duplicates (by content hash) and duplicates that cross
 * subsets (leakage between train and validation/test), unreadable files, source size and
 * aspect histograms. Computed from the dataset alone, so any node's preview can show it.
 */
import { createHash } from 'node:crypto';
import type { TablePreview } from '../../main/protocol/index.ts';
import type { Dataset, SubsetName } from './dataset.ts';
import { SUBSET_NAMES, classCounts } from './dataset.ts';
import { storeSources } from './image-io.ts';

export interface HealthOptions {
  /** Warn when the largest class has more than this many times the images of the smallest. */
  imbalanceRatio?: number;
}

export interface DuplicateGroup {
  /** Image indices with identical content. */
  indices: number[];
  /** Subsets the group's images fall in; more than one means leakage. */
  subsets: SubsetName[];
}

export interface HistogramBin {
  label: string;
  count: number;
}

export interface HealthReport {
  count: number;
  classes: readonly string[];
  counts: number[];
  /** Largest class count / smallest (Infinity when a class is empty). */
  imbalance: number;
  duplicates: DuplicateGroup[];
  /** Extra copies beyond the first in every duplicate group. */
  duplicateImages: number;
  /** Duplicate groups whose images span train and validation/test. */
  leaking: DuplicateGroup[];
  /** How duplicates were found: source file bytes, or stored (decoded) pixels. */
  hashBasis: 'source files' | 'pixels';
  skipped: { file: string; reason: string }[];
  sizes?: HistogramBin[];
  aspects?: HistogramBin[];
  warnings: string[];
}

const reports = new WeakMap<Dataset, Map<number, HealthReport>>();

/** The health report of a dataset (memoised per dataset object and threshold). */
export function datasetHealth(d: Dataset, opts: HealthOptions = {}): HealthReport {
  const ratio = opts.imbalanceRatio ?? 3;
  let byRatio = reports.get(d);
  if (!byRatio) reports.set(d, (byRatio = new Map()));
  let report = byRatio.get(ratio);
  if (!report) byRatio.set(ratio, (report = computeHealth(d, ratio)));
  return report;
}

function computeHealth(d: Dataset, ratio: number): HealthReport {
  const counts = classCounts(d);
  const nonEmpty = counts.filter((n) => n > 0);
  const imbalance = nonEmpty.length < counts.length ? Infinity : Math.max(...counts) / Math.max(1, Math.min(...counts));
  const sources = storeSources(d.store);
  const hashes = sources && sources.hashes.length === d.count ? sources.hashes : pixelHashes(d);
  const hashBasis = sources && sources.hashes.length === d.count ? 'source files' : 'pixels';

  const subsetOf = new Map<number, SubsetName[]>();
  for (const name of SUBSET_NAMES) {
    const idx = d.subsets[name];
    if (!idx) continue;
    for (const i of idx) {
      const list = subsetOf.get(i);
      if (!list) subsetOf.set(i, [name]);
      else if (!list.includes(name)) list.push(name);
    }
  }
  const groups = new Map<string, number[]>();
  hashes.forEach((h, i) => {
    const g = groups.get(h);
    if (g) g.push(i);
    else groups.set(h, [i]);
  });
  const duplicates: DuplicateGroup[] = [];
  for (const indices of groups.values()) {
    if (indices.length < 2) continue;
    const subsets = [...new Set(indices.flatMap((i) => subsetOf.get(i) ?? []))];
    duplicates.push({ indices, subsets });
  }
  const leaking = duplicates.filter((g) => g.subsets.includes('train') && g.subsets.some((s) => s !== 'train'));
  const duplicateImages = duplicates.reduce((n, g) => n + g.indices.length - 1, 0);
  const skipped = sources?.skipped ?? [];

  let sizes: HistogramBin[] | undefined;
  let aspects: HistogramBin[] | undefined;
  if (sources && sources.sizes.length === d.count * 2) {
    const sizeEdges = [32, 64, 128, 256, 512, 1024, 2048];
    const aspectEdges = [0.5, 0.8, 1.25, 2];
    const s = new Array<number>(sizeEdges.length + 1).fill(0);
    const a = new Array<number>(aspectEdges.length + 1).fill(0);
    for (let i = 0; i < d.count; i++) {
      const w = sources.sizes[2 * i];
      const h = sources.sizes[2 * i + 1];
      s[bin(sizeEdges, Math.max(w, h))]++;
      a[bin(aspectEdges, w / Math.max(1, h))]++;
    }
    sizes = s.map((count, k) => ({ label: edgeLabel(sizeEdges, k, 'px'), count }));
    aspects = a.map((count, k) => ({ label: edgeLabel(aspectEdges, k, '') + ['  (tall)', '', '  (square)', '', '  (wide)'][k], count }));
  }

  const warnings: string[] = [];
  if (imbalance === Infinity) {
    const empty = d.classes.filter((_, k) => counts[k] === 0);
    warnings.push(`class${empty.length > 1 ? 'es' : ''} with no images: ${empty.join(', ')}`);
  } else if (imbalance > ratio) {
    const big = counts.indexOf(Math.max(...counts));
    const small = counts.indexOf(Math.min(...counts));
    warnings.push(
      `classes are unbalanced: ${d.classes[big]} has ${counts[big]} images, ${d.classes[small]} ${counts[small]} ` +
        `(${imbalance.toFixed(1)}x); consider a Balance classes node`,
    );
  }
  if (duplicates.length > 0) warnings.push(`${duplicateImages} duplicate image${duplicateImages === 1 ? '' : 's'} in ${duplicates.length} group${duplicates.length === 1 ? '' : 's'}`);
  if (leaking.length > 0)
    warnings.push(`${leaking.length} duplicate group${leaking.length === 1 ? '' : 's'} cross train and validation/test: validation scores will be optimistic`);
  if (skipped.length > 0) warnings.push(`${skipped.length} file${skipped.length === 1 ? '' : 's'} skipped as unreadable`);
  return {
    count: d.count,
    classes: d.classes,
    counts,
    imbalance,
    duplicates,
    duplicateImages,
    leaking,
    hashBasis,
    skipped,
    sizes,
    aspects,
    warnings,
  };
}

function bin(edges: number[], v: number): number {
  let k = 0;
  while (k < edges.length && v >= edges[k]) k++;
  return k;
}

function edgeLabel(edges: number[], k: number, unit: string): string {
  if (k === 0) return `< ${edges[0]}${unit}`;
  if (k === edges.length) return `≥ ${edges[k - 1]}${unit}`;
  return `${edges[k - 1]}–${edges[k]}${unit}`;
}

/** SHA-1 of each image's stored pixels, read in chunks. */
function pixelHashes(d: Dataset): string[] {
  const [h, w, c] = d.imageShape;
  const per = h * w * c;
  const out: string[] = [];
  const chunk = Math.max(1, Math.floor((8 << 20) / per));
  for (let start = 0; start < d.count; start += chunk) {
    const idx = Array.from({ length: Math.min(chunk, d.count - start) }, (_, i) => start + i);
    const px = d.store.read(idx);
    for (let i = 0; i < idx.length; i++) out.push(createHash('sha1').update(px.subarray(i * per, (i + 1) * per)).digest('hex'));
  }
  return out;
}

/** Table previews of a report: per-class counts (with warnings in the title), checks, skipped files. */
export function healthTables(d: Dataset, report: HealthReport, displayName?: (index: number) => string): TablePreview[] {
  const names = SUBSET_NAMES.filter((n) => (d.subsets[n]?.length ?? 0) > 0);
  const perSubset = names.map((n) => classCounts(d, d.subsets[n]));
  const total = Math.max(1, report.count);
  const classTable: TablePreview = {
    kind: 'table',
    title: report.warnings.length ? `⚠ ${report.warnings.join(' · ')}` : `healthy: ${report.count} images, ${d.classes.length} classes`,
    columns: ['class', 'images', 'share', ...names],
    rows: d.classes.map((c, k) => [c, report.counts[k], `${((100 * report.counts[k]) / total).toFixed(1)}%`, ...perSubset.map((r) => r[k])]),
  };
  const name = displayName ?? ((i: number) => `#${i}`);
  const checks: (string | number)[][] = [
    ['images', report.count],
    ['imbalance (largest / smallest class)', report.imbalance === Infinity ? 'a class is empty' : `${report.imbalance.toFixed(2)}x`],
    [`exact duplicates (by ${report.hashBasis})`, report.duplicateImages],
    ['duplicate groups crossing subsets (leakage)', report.leaking.length],
    ['unreadable files skipped', report.skipped.length],
  ];
  for (const g of report.duplicates.slice(0, 5))
    checks.push([`  duplicate${g.subsets.length > 1 ? ' (leak)' : ''}`, g.indices.slice(0, 4).map(name).join(', ') + (g.indices.length > 4 ? ', …' : '')]);
  if (report.sizes) for (const b of report.sizes) if (b.count > 0) checks.push([`source size (longest side) ${b.label}`, b.count]);
  if (report.aspects) for (const b of report.aspects) if (b.count > 0) checks.push([`aspect w/h ${b.label}`, b.count]);
  const tables: TablePreview[] = [classTable, { kind: 'table', title: 'health checks', columns: ['check', 'result'], rows: checks }];
  if (report.skipped.length > 0)
    tables.push({
      kind: 'table',
      title: `${report.skipped.length} skipped file${report.skipped.length === 1 ? '' : 's'}`,
      columns: ['file', 'reason'],
      rows: report.skipped.slice(0, 200).map((s) => [s.file, s.reason]),
    });
  return tables;
}
