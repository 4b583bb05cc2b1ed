/**
 * Shared shape of the augmentation nodes: each appends steps to the dataset's on-the-fly chain
 * (applied to training batches only, fresh every batch) and previews a seeded grid of the whole
 * chain so far, so the user sees exactly what training will see.
 */
import { defineNode } from '../../main/engine/node-api.ts';
import type { NodeType } from '../../main/engine/node-api.ts';
import { NodeError } from '../../main/engine/errors.ts';
import type { AugmentKind, AugmentRange, GeometricFill } from './augment.ts';
import { AUGMENT_INFO, appendSteps, augmentPreview, isGeometric } from './augment.ts';
import type { Dataset } from './dataset.ts';
import { deriveDataset } from './dataset.ts';

export const previewParams = {
  seed: { kind: 'seed', default: 1, label: 'Preview seed', description: 'Re-rolls the preview grid. Training draws from the training node\'s seed.' },
  previewImages: { kind: 'integer', default: 4, min: 1, max: 12, label: 'Preview images' },
} as const;

export const fillParam = {
  fill: {
    kind: 'enum',
    default: 'reflect',
    options: ['reflect', 'constant', 'nearest'],
    label: 'Edge fill',
    description: 'What geometric transforms show where the image moved away: a mirror image, black, or the nearest edge pixel.',
  },
} as const;

/** Appends `add` to the dataset's chain, checking each range against its kind's bounds. */
export function withSteps(d: Dataset, add: { kind: AugmentKind; range: AugmentRange }[], fill: string): Dataset {
  for (const { kind, range } of add) {
    const [lo, hi] = AUGMENT_INFO[kind].bounds;
    if (range.max < range.min) throw new NodeError(`${AUGMENT_INFO[kind].label}: max ${range.max} is below min ${range.min}`, { param: 'max' });
    if (range.min < lo || range.max > hi)
      throw new NodeError(`${AUGMENT_INFO[kind].label}: range ${range.min}..${range.max} is outside ${lo}..${hi} (${AUGMENT_INFO[kind].magnitude})`, { param: 'min' });
  }
  return deriveDataset(d, { augment: appendSteps(d.augment, add, fill as GeometricFill) });
}

/** The kinds in a dataset's chain, in order, with fused geometric/colour steps expanded. */
export function chainKinds(d: Dataset): string[] {
  return (d.augment ?? []).flatMap((s) =>
    s.kind === 'geometric' || s.kind === 'colour' ? [...(s.params.ops as { op: string }[]).map((o) => o.op), ...(s.params.lens ? ['lens'] : [])] : [s.kind],
  );
}

export const chainSummary = (d: Dataset): string => `${chainKinds(d).length} augmentation kinds in ${d.augment?.length ?? 0} batched steps`;

export function chainPreview(d: Dataset, seed: number, images: number) {
  const kinds = chainKinds(d);
  return augmentPreview(d, d.augment ?? [], seed, { images, draws: 5, title: `chain: ${kinds.join(' → ') || 'none'} · seed ${seed}` });
}

/**
 * A node for one augmentation kind: probability, magnitude range, preview seed (and edge fill
 * for geometric kinds).
 */
export function defineAugmentNode(kind: AugmentKind, opts: { id: string; name: string; description: string; magnitudeLabel?: string }): NodeType {
  const info = AUGMENT_INFO[kind];
  const [lo, hi] = info.bounds;
  const step = (hi - lo) / 100;
  const magnitude = info.magnitude !== 'unused';
  return defineNode({
    id: opts.id,
    name: opts.name,
    category: 'augment',
    description: [
      opts.description,
      '',
      magnitude ? `Each training image is changed with probability *probability*, by a magnitude drawn from *min*..*max* (${info.magnitude}).` : 'Each training image is changed with probability *probability*.',
      'Applied on the fly to training batches only (fresh every batch and epoch, reproducible from the training seed); validation and test images are never augmented.',
    ].join('\n'),
    inputs: { dataset: { type: 'dataset', label: 'Dataset' } },
    params: {
      probability: { kind: 'number', default: info.p, min: 0, max: 1, step: 0.05, label: 'Probability', inline: true },
      min: { kind: 'number', default: info.range[0], min: lo, max: hi, step, label: magnitude ? `Min ${opts.magnitudeLabel ?? ''}`.trim() : 'Min (unused)' },
      max: { kind: 'number', default: info.range[1], min: lo, max: hi, step, label: magnitude ? `Max ${opts.magnitudeLabel ?? ''}`.trim() : 'Max (unused)' },
      ...(isGeometric(kind) ? fillParam : {}),
      ...previewParams,
    },
    outputs: { dataset: { type: 'dataset', label: 'Dataset' } },
    previews: ['image-grid'],
    checkParams: (p) => (p.max < p.min ? [{ param: 'max', message: `max ${p.max} is below min ${p.min}` }] : []),
    async run({ dataset }, p) {
      const fill = (p as { fill?: string }).fill ?? 'reflect';
      return { dataset: withSteps(dataset, [{ kind, range: { p: p.probability, min: p.min, max: p.max } }], fill) };
    },
    preview: ({ dataset }, p) => chainPreview(dataset, p.seed, p.previewImages),
    summary: ({ dataset }) => chainSummary(dataset),
  });
}
