/**
 * What the image loaders share: their decode params, scanning a class-per-folder tree, a cheap
 * fingerprint of the files read, and turning a list of (file, label) entries into a dataset over
 * the decoded-image cache, with broken files skipped and reported.
 */
import { createHash } from 'node:crypto';
import { readdir, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import type { RunContext } from '../../main/engine/node-api.ts';
import { NodeError } from '../../main/engine/errors.ts';
import type { PreviewPayload } from '../../main/protocol/index.ts';
import type { Dataset, SubsetName } from './dataset.ts';
import { createDataset, datasetPreview } from './dataset.ts';
import { datasetHealth, healthTables } from './health.ts';
import type { DecodeTarget, FitMode, SourceInfo } from './image-io.ts';
import { createDecodedFileStore, decodeFiles, defaultImageCacheRoot, isImageFile, storeSources } from './image-io.ts';

/** Params every image loader has, spread into its `params`. */
export const decodeParams = {
  width: { kind: 'integer', default: 32, min: 4, max: 1024, label: 'Width (px)', inline: true },
  height: { kind: 'integer', default: 32, min: 4, max: 1024, label: 'Height (px)', inline: true },
  fit: {
    kind: 'enum',
    default: 'stretch',
    options: ['stretch', 'crop', 'letterbox'],
    label: 'Fit',
    description: '*stretch* ignores aspect ratio; *crop* fills the shape and cuts the centre; *letterbox* fits inside and pads with black.',
  },
  color: { kind: 'enum', default: 'rgb', options: ['rgb', 'grey'], label: 'Colour', description: 'Decode to RGB or greyscale. Alpha is flattened onto black.' },
  concurrency: {
    kind: 'integer',
    default: 0,
    min: 0,
    max: 64,
    label: 'Parallel decodes',
    description: 'Files decoded at once; 0 picks from the number of cores.',
  },
} as const;

export interface DecodeParamValues {
  width: number;
  height: number;
  fit: string;
  color: string;
  concurrency: number;
}

export const targetOf = (p: DecodeParamValues): DecodeTarget => ({
  width: p.width,
  height: p.height,
  channels: p.color === 'grey' ? 1 : 3,
  fit: p.fit as FitMode,
});

export interface ImageEntry {
  /** Absolute path. */
  path: string;
  /** Path shown in reports. */
  display: string;
  label: number;
  subset?: SubsetName;
}

/**
 * Lists a class-per-subfolder tree: each top-level subfolder is a class (sorted by name), every
 * image file below it (nested folders included) is an example. Hidden entries are ignored.
 * A missing folder, no class folders, or a class folder with no images is a NodeError on `param`.
 */
export async function scanClassFolders(root: string, param: string): Promise<{ classes: string[]; entries: ImageEntry[]; ignored: number }> {
  let top: import('node:fs').Dirent[];
  try {
    top = await readdir(root, { withFileTypes: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new NodeError(`folder not found: ${root}`, { param });
    if (code === 'ENOTDIR') throw new NodeError(`not a folder: ${root}`, { param });
    throw new NodeError(`cannot read folder ${root}: ${(error as Error).message}`, { param });
  }
  const classDirs = top.filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name);
  classDirs.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  if (classDirs.length === 0) throw new NodeError(`${root} has no class subfolders (expected one folder per class)`, { param });
  const entries: ImageEntry[] = [];
  let ignored = top.filter((e) => e.isFile()).length;
  for (let label = 0; label < classDirs.length; label++) {
    const dir = join(root, classDirs[label]);
    const files = await listFilesDeep(dir);
    const images = files.filter((f) => isImageFile(f));
    ignored += files.length - images.length;
    if (images.length === 0) throw new NodeError(`class folder ${dir} has no image files (class "${classDirs[label]}" is empty)`, { param });
    images.sort();
    for (const f of images) entries.push({ path: f, display: relative(root, f).split(sep).join('/'), label });
  }
  return { classes: classDirs, entries, ignored };
}

async function listFilesDeep(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      if (e.name.startsWith('.')) continue;
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile()) out.push(p);
    }
  };
  await walk(dir);
  return out;
}

/**
 * Cache-key material for a folder: every file's relative path, size and mtime. Changing,
 * adding or removing a file changes it; a missing folder gives a fixed marker (the run then
 * reports the error).
 */
export async function folderFingerprint(root: string): Promise<string> {
  const hash = createHash('sha1');
  const walk = async (d: string): Promise<void> => {
    let list: import('node:fs').Dirent[];
    try {
      list = await readdir(d, { withFileTypes: true });
    } catch {
      hash.update(`missing:${d}\n`);
      return;
    }
    list.sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const e of list) {
      const p = join(d, e.name);
      if (e.isDirectory()) {
        hash.update(`d:${e.name}\n`);
        await walk(p);
      } else if (e.isFile()) {
        const s = await stat(p);
        hash.update(`f:${relative(root, p)}:${s.size}:${s.mtimeMs}\n`);
      }
    }
  };
  await walk(root);
  return hash.digest('hex');
}

/** Fingerprint of a list of files (size + mtime each). */
export async function filesFingerprint(paths: readonly string[]): Promise<string> {
  const hash = createHash('sha1');
  for (const p of paths) {
    try {
      const s = await stat(p);
      hash.update(`${p}:${s.size}:${s.mtimeMs}\n`);
    } catch {
      hash.update(`${p}:missing\n`);
    }
  }
  return hash.digest('hex');
}

/**
 * Decodes entries through the shared decoded-image cache and builds the dataset. Unreadable
 * files are skipped (logged and recorded in the store's sources); a class left with no readable
 * image is a NodeError on `param`.
 */
export async function buildImageDataset(
  entries: readonly ImageEntry[],
  classes: readonly string[],
  target: DecodeTarget,
  ctx: RunContext,
  opts: { param: string; origin: string; concurrency?: number; classPath?(label: number): string },
): Promise<Dataset> {
  const cacheRoot = defaultImageCacheRoot(ctx.cacheDir);
  let lastReport = 0;
  const results = await decodeFiles(
    entries.map((e) => e.path),
    target,
    {
      cacheRoot,
      concurrency: opts.concurrency || undefined,
      signal: ctx.signal,
      onProgress: (done, total) => {
        if (done - lastReport >= Math.max(1, total / 100) || done === total) {
          lastReport = done;
          ctx.progress(done / total, `${done}/${total} images`);
        }
      },
    },
  );
  ctx.throwIfCancelled();
  const cachePaths: string[] = [];
  const sources: SourceInfo = { files: [], hashes: [], sizes: new Uint32Array(0), skipped: [] };
  const sizes: number[] = [];
  const labels: number[] = [];
  const subsetLists: Partial<Record<SubsetName, number[]>> = {};
  let fromCache = 0;
  results.forEach((r, i) => {
    const e = entries[i];
    if (!r.ok) {
      sources.skipped.push({ file: e.display, reason: r.reason });
      return;
    }
    if (r.cached) fromCache++;
    const k = cachePaths.length;
    cachePaths.push(r.cachePath);
    sources.files.push(e.display);
    sources.hashes.push(r.hash);
    sizes.push(r.sourceWidth, r.sourceHeight);
    labels.push(e.label);
    if (e.subset) (subsetLists[e.subset] ??= []).push(k);
  });
  sources.sizes = Uint32Array.from(sizes);
  for (const s of sources.skipped.slice(0, 20)) ctx.log(`skipped ${s.file}: ${s.reason}`, 'warn');
  if (sources.skipped.length > 20) ctx.log(`… and ${sources.skipped.length - 20} more skipped files (see the node's report)`, 'warn');
  const counts = new Array<number>(classes.length).fill(0);
  for (const l of labels) counts[l]++;
  const empty = counts.findIndex((n) => n === 0);
  if (empty >= 0) {
    const where = opts.classPath ? opts.classPath(empty) : `class "${classes[empty]}"`;
    throw new NodeError(`${where} has no readable images (all its files were skipped as broken)`, { param: opts.param });
  }
  ctx.log(`${cachePaths.length} images (${fromCache} from the decoded-image cache), ${sources.skipped.length} skipped`);
  const subsets: Partial<Record<SubsetName, Int32Array>> = {};
  for (const [name, list] of Object.entries(subsetLists) as [SubsetName, number[]][]) subsets[name] = Int32Array.from(list);
  return createDataset({
    classes: [...classes],
    labels: Int32Array.from(labels),
    subsets,
    store: createDecodedFileStore(cachePaths, [target.height, target.width, target.channels], sources),
    origin: opts.origin,
  });
}

/** A loader's preview: sample grid, then the health tables (class counts, checks, skipped files). */
export function loaderPreview(d: Dataset): PreviewPayload[] {
  const sources = storeSources(d.store);
  const name = (i: number): string => sources?.files[i] ?? `#${i}`;
  return [datasetPreview(d, { perClass: 6 }), ...healthTables(d, datasetHealth(d), name)];
}
