import { resolve } from 'node:path';
import { defineNode } from '../../main/engine/node-api.ts';
import { NodeError } from '../../main/engine/errors.ts';
import { buildImageDataset, decodeParams, folderFingerprint, loaderPreview, scanClassFolders, targetOf } from '../_lib/image-loading.ts';
import { storeSources } from '../_lib/image-io.ts';

export const imageFolder = defineNode({
  id: 'dlflow:data:image-folder',
  name: 'Image folder',
  category: 'data',
  description: [
    'Loads a folder with **one subfolder per class** (class names are the subfolder names, sorted;',
    'nested folders inside a class belong to it). Reads JPEG, PNG (8/16-bit, grey, RGBA), WebP,',
    'GIF, TIFF and BMP, honours EXIF orientation, flattens alpha onto black, and resizes every image',
    'to *width* × *height* with the chosen *fit*.',
    '',
    'Decoding runs in parallel and the decoded, resized images are cached on disk by content, so a',
    'second run (or another pipeline on the same files) skips decoding. Training reads the images',
    'from that cache batch by batch: large folders are never held in memory.',
    '',
    'Broken, truncated or unreadable files are skipped and listed in the report; a missing folder or',
    'a class folder without images is an error. The preview shows samples and a health report.',
  ].join('\n'),
  inputs: {},
  params: {
    folder: { kind: 'path', mode: 'folder', default: '', required: true, label: 'Folder', inline: true, description: 'Relative to the pipeline file.' },
    ...decodeParams,
    maxPerClass: {
      kind: 'integer',
      default: 0,
      min: 0,
      max: 10_000_000,
      label: 'Max per class',
      description: 'Take at most this many files of each class (in name order); 0 takes all. Handy for a quick first run.',
    },
  },
  outputs: { dataset: { type: 'dataset', label: 'Dataset' } },
  previews: ['image-grid', 'table'],
  fingerprint: (p, { baseDir }) => folderFingerprint(resolve(baseDir, p.folder)),
  async run(_inputs, params, ctx) {
    if (params.folder.trim() === '') throw new NodeError('choose a folder of images (one subfolder per class)', { param: 'folder' });
    const root = resolve(ctx.baseDir, params.folder);
    const scan = await scanClassFolders(root, 'folder');
    let entries = scan.entries;
    if (params.maxPerClass > 0) {
      const taken = new Array<number>(scan.classes.length).fill(0);
      entries = entries.filter((e) => taken[e.label]++ < params.maxPerClass);
    }
    if (scan.ignored > 0) ctx.log(`${scan.ignored} non-image file${scan.ignored === 1 ? '' : 's'} ignored`);
    return {
      dataset: await buildImageDataset(entries, scan.classes, targetOf(params), ctx, {
        param: 'folder',
        origin: `image folder ${params.folder}`,
        concurrency: params.concurrency,
        classPath: (label) => `class folder ${resolve(root, scan.classes[label])}`,
      }),
    };
  },
  preview: ({ dataset }) => loaderPreview(dataset),
  summary: ({ dataset }) =>
    `${dataset.count} images, ${dataset.classes.length} classes` +
    ((storeSources(dataset.store)?.skipped.length ?? 0) > 0 ? `, ${storeSources(dataset.store)!.skipped.length} skipped` : ''),
});
