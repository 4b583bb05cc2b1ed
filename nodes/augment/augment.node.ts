import { defineNode } from '../../main/engine/node-api.ts';
import { NodeError } from '../../main/engine/errors.ts';
import type { AugmentKind, AugmentRange } from '../_lib/augment.ts';
import { AUGMENT_INFO, GEOMETRIC_OPS, PIXEL_KINDS } from '../_lib/augment.ts';
import { chainPreview, chainSummary, fillParam, previewParams, withSteps } from '../_lib/augment-node.ts';

type Recipe = { kind: AugmentKind; p: number; min: number; max: number }[];
const r = (kind: AugmentKind, p: number, min: number, max: number) => ({ kind, p, min, max });

/** Ready-made chains. No flips in road-weather: they turn left-turn signs into right-turn ones. */
export const AUGMENT_PRESETS: Record<string, Recipe> = {
  light: [r('flip-h', 0.5, 0, 0), r('rotate', 0.5, 0, 8), r('translate', 0.5, 0, 0.05), r('brightness', 0.5, -0.1, 0.1), r('contrast', 0.5, 0.9, 1.1)],
  standard: [
    r('flip-h', 0.5, 0, 0),
    r('scale', 0.5, 0.9, 1.15),
    r('crop', 0.3, 0.8, 1),
    r('translate', 0.5, 0, 0.1),
    r('rotate', 0.5, 0, 15),
    r('shear', 0.3, 0, 8),
    r('brightness', 0.5, -0.15, 0.15),
    r('contrast', 0.5, 0.8, 1.2),
    r('saturation', 0.5, 0.7, 1.3),
    r('hue', 0.3, -10, 10),
    r('noise', 0.2, 0, 0.04),
    r('blur', 0.1, 0.5, 1.2),
    r('cutout', 0.2, 0.1, 0.25),
  ],
  strong: [
    r('flip-h', 0.5, 0, 0),
    r('scale', 0.6, 0.8, 1.3),
    r('crop', 0.4, 0.65, 1),
    r('translate', 0.6, 0, 0.15),
    r('rotate', 0.6, 0, 25),
    r('stretch', 0.4, 1, 1.3),
    r('shear', 0.4, 0, 15),
    r('lens', 0.3, -0.3, 0.3),
    r('brightness', 0.6, -0.25, 0.25),
    r('contrast', 0.6, 0.6, 1.4),
    r('saturation', 0.6, 0.5, 1.5),
    r('hue', 0.4, -20, 20),
    r('noise', 0.3, 0, 0.08),
    r('blur', 0.2, 0.5, 2),
    r('cutout', 0.4, 0.1, 0.35),
  ],
  'road-weather': [
    r('scale', 0.5, 0.85, 1.2),
    r('translate', 0.5, 0, 0.1),
    r('rotate', 0.5, 0, 12),
    r('shear', 0.3, 0, 8),
    r('lens', 0.2, -0.2, 0.2),
    r('brightness', 0.5, -0.2, 0.2),
    r('contrast', 0.5, 0.7, 1.3),
    r('blur', 0.2, 0.5, 1.5),
    r('noise', 0.2, 0, 0.05),
    r('fog', 0.15, 0.3, 0.7),
    r('rain', 0.15, 0.3, 0.8),
    r('snow', 0.1, 0.3, 0.7),
    r('night', 0.15, 0.4, 0.8),
  ],
};

const KINDS = [...GEOMETRIC_OPS, ...PIXEL_KINDS] as readonly string[];

/** Parses a custom recipe (JSON list of {kind, p, min, max}), naming the entry at fault. */
export function parseRecipe(text: string): Recipe {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new NodeError(`custom steps are not valid JSON: ${(error as Error).message}`, { param: 'steps' });
  }
  if (!Array.isArray(raw)) throw new NodeError('custom steps must be a JSON list like [{"kind": "rotate", "p": 0.5, "min": 0, "max": 15}]', { param: 'steps' });
  return raw.map((e: Record<string, unknown>, i) => {
    const where = `custom step ${i + 1}`;
    if (typeof e !== 'object' || e === null) throw new NodeError(`${where} is not an object`, { param: 'steps' });
    if (!KINDS.includes(String(e.kind))) throw new NodeError(`${where}: unknown kind "${String(e.kind)}"; kinds: ${KINDS.join(', ')}`, { param: 'steps' });
    const kind = e.kind as AugmentKind;
    const info = AUGMENT_INFO[kind];
    const num = (k: string, d: number): number => {
      const v = e[k] ?? d;
      if (typeof v !== 'number' || !Number.isFinite(v)) throw new NodeError(`${where} (${kind}): ${k} must be a number`, { param: 'steps' });
      return v;
    };
    const p = num('p', info.p);
    if (p < 0 || p > 1) throw new NodeError(`${where} (${kind}): p ${p} is outside 0..1`, { param: 'steps' });
    return { kind, p, min: num('min', info.range[0]), max: num('max', info.range[1]) };
  });
}

export const augment = defineNode({
  id: 'dlflow:augment:augment',
  name: 'Augment',
  category: 'augment',
  description: [
    'A whole augmentation chain in one node: pick a *preset*, or *custom* and list the steps as JSON,',
    'e.g. `[{"kind": "rotate", "p": 0.5, "min": 0, "max": 15}]` (each image is changed with',
    'probability `p`, by a magnitude drawn from `min`..`max`). Kinds and magnitudes:',
    '',
    ...KINDS.map((k) => `- \`${k}\`: ${AUGMENT_INFO[k as AugmentKind].label}; ${AUGMENT_INFO[k as AugmentKind].magnitude}`),
    '',
    'Presets: **light**, **standard**, **strong**, and **road-weather** (no flips; fog, rain, snow,',
    'night, blur and noise for robustness outdoors). Geometric steps run as one warp per batch.',
    'Applied on the fly to training batches only: fresh every batch and epoch, reproducible from',
    "the training node's seed. The preview shows a seeded grid of what training will see.",
  ].join('\n'),
  inputs: { dataset: { type: 'dataset', label: 'Dataset' } },
  params: {
    preset: { kind: 'enum', default: 'standard', options: ['light', 'standard', 'strong', 'road-weather', 'custom'], label: 'Preset', inline: true },
    steps: {
      kind: 'code',
      language: 'json',
      default: JSON.stringify(AUGMENT_PRESETS.standard.slice(0, 5), null, 1),
      label: 'Custom steps',
      description: 'Used when the preset is *custom*.',
    },
    ...fillParam,
    ...previewParams,
  },
  outputs: { dataset: { type: 'dataset', label: 'Dataset' } },
  previews: ['image-grid'],
  async run({ dataset }, p) {
    const recipe = p.preset === 'custom' ? parseRecipe(p.steps) : AUGMENT_PRESETS[p.preset];
    const add: { kind: AugmentKind; range: AugmentRange }[] = recipe.map((s) => ({ kind: s.kind, range: { p: s.p, min: s.min, max: s.max } }));
    try {
      return { dataset: withSteps(dataset, add, p.fill) };
    } catch (error) {
      if (error instanceof NodeError && p.preset === 'custom') throw new NodeError(error.message, { param: 'steps' });
      throw error;
    }
  },
  preview: ({ dataset }, p) => chainPreview(dataset, p.seed, p.previewImages),
  summary: ({ dataset }) => chainSummary(dataset),
});
