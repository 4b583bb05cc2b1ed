/**
 * Procedural traffic-sign-like images, rasterised with signed distance functions into typed
 * arrays (no canvas): each sign is a stack of coloured shapes, anti-aliased by distance, drawn
 * over a varied background and then lit, blurred, noised and sometimes occluded.
 *
 * Image i depends only on (seed, i, size, difficulty), so a larger count extends a smaller one.
 */
import { createRandom, hashString } from '../../main/engine/random.ts';
import type { Random } from '../../main/engine/random.ts';

type Rgb = [number, number, number];
/** Signed distance in sign units (the sign's circumradius is 1); negative inside. */
type Sdf = (u: number, v: number) => number;
interface Layer {
  sdf: Sdf;
  color: Rgb;
}

const circle =
  (r: number, cx = 0, cy = 0): Sdf =>
  (u, v) =>
    Math.sqrt((u - cx) ** 2 + (v - cy) ** 2) - r;
const box =
  (hw: number, hh: number, cx = 0, cy = 0): Sdf =>
  (u, v) =>
    Math.max(Math.abs(u - cx) - hw, Math.abs(v - cy) - hh);
/** Regular n-gon by its apothem; `phase` is the angle of the first edge normal (v points down). */
const polygon = (n: number, apothem: number, phase: number, cx = 0, cy = 0): Sdf => {
  const normals = Array.from({ length: n }, (_, k) => [Math.cos(phase + (2 * Math.PI * k) / n), Math.sin(phase + (2 * Math.PI * k) / n)]);
  return (u, v) => {
    let d = -Infinity;
    for (const [a, b] of normals) d = Math.max(d, (u - cx) * a + (v - cy) * b);
    return d - apothem;
  };
};
const union =
  (...parts: Sdf[]): Sdf =>
  (u, v) => {
    let d = Infinity;
    for (const p of parts) d = Math.min(d, p(u, v));
    return d;
  };
const rotate = (sdf: Sdf, angle: number): Sdf => {
  const c = Math.cos(angle);
  const s = Math.sin(angle);
  return (u, v) => sdf(c * u + s * v, -s * u + c * v);
};

const RED: Rgb = [0.78, 0.08, 0.1];
const WHITE: Rgb = [0.95, 0.95, 0.93];
const BLACK: Rgb = [0.06, 0.06, 0.07];
const BLUE: Rgb = [0.05, 0.25, 0.7];
const YELLOW: Rgb = [0.97, 0.78, 0.08];

/** Digit-like glyphs for the speed-limit sign: 0, 1, and a boxy 5/3-ish shape. */
const glyph = (kind: number, cx: number): Sdf => {
  if (kind === 0) return (u, v) => Math.abs(box(0.12, 0.24, cx, 0)(u, v)) - 0.05;
  if (kind === 1) return box(0.05, 0.26, cx, 0);
  return union(box(0.13, 0.05, cx, -0.22), box(0.05, 0.13, cx - 0.08, -0.1), box(0.13, 0.05, cx, 0.02), box(0.05, 0.12, cx + 0.08, 0.12), box(0.13, 0.05, cx, 0.22));
};

interface SignClass {
  name: string;
  /** Layers drawn in order, given this image's random source (colours and marks vary). */
  layers(rng: Random): Layer[];
  /** Sign tilt range (radians); circles look the same at any tilt. */
  tilt: number;
}

export const SIGN_CLASSES: readonly SignClass[] = [
  {
    name: 'stop',
    tilt: 0.12,
    layers: () => [
      { sdf: polygon(8, 0.98, Math.PI / 8), color: WHITE },
      { sdf: polygon(8, 0.86, Math.PI / 8), color: RED },
      { sdf: union(box(0.08, 0.16, -0.45), box(0.08, 0.16, -0.15), box(0.08, 0.16, 0.15), box(0.08, 0.16, 0.45)), color: WHITE },
    ],
  },
  {
    name: 'yield',
    tilt: 0.12,
    layers: () => [
      { sdf: polygon(3, 0.5, -Math.PI / 2), color: RED },
      { sdf: polygon(3, 0.28, -Math.PI / 2), color: WHITE },
    ],
  },
  {
    name: 'speed-limit',
    tilt: 0.1,
    layers: (rng) => [
      { sdf: circle(1), color: RED },
      { sdf: circle(0.76), color: WHITE },
      { sdf: union(glyph(rng.int(3), -0.2), glyph(0, 0.2)), color: BLACK },
    ],
  },
  {
    name: 'mandatory-arrow',
    tilt: 0,
    layers: (rng) => [
      { sdf: circle(1), color: BLUE },
      {
        sdf: rotate(union(box(0.12, 0.3, 0, 0.2), polygon(3, 0.2, Math.PI / 2, 0, -0.2)), [0, Math.PI / 2, -Math.PI / 2][rng.int(3)]),
        color: WHITE,
      },
    ],
  },
  {
    name: 'warning',
    tilt: 0.12,
    layers: () => [
      { sdf: polygon(4, 0.7, Math.PI / 4), color: BLACK },
      { sdf: polygon(4, 0.62, Math.PI / 4), color: YELLOW },
      { sdf: union(box(0.07, 0.22, 0, -0.12), circle(0.08, 0, 0.26)), color: BLACK },
    ],
  },
  {
    name: 'danger',
    tilt: 0.12,
    layers: (rng) => [
      { sdf: polygon(3, 0.5, Math.PI / 2), color: RED },
      { sdf: polygon(3, 0.3, Math.PI / 2), color: WHITE },
      { sdf: rng.next() < 0.5 ? box(0.05, 0.16, 0, 0.1) : circle(0.12, 0, 0.15), color: BLACK },
    ],
  },
  {
    name: 'no-entry',
    tilt: 0.1,
    layers: () => [
      { sdf: circle(1), color: RED },
      { sdf: box(0.66, 0.16), color: WHITE },
    ],
  },
  {
    name: 'parking',
    tilt: 0.1,
    layers: () => [
      { sdf: polygon(4, 0.72, 0), color: BLUE },
      { sdf: union(box(0.07, 0.45, -0.2, 0), (u, v) => Math.abs(box(0.17, 0.15, 0, -0.23)(u, v)) - 0.06), color: WHITE },
    ],
  },
];

export const MAX_SIGN_CLASSES = SIGN_CLASSES.length;

const clamp01 = (x: number): number => (x < 0 ? 0 : x > 1 ? 1 : x);

function jitter(c: Rgb, rng: Random, amount: number, fade: number): Rgb {
  return c.map((x) => clamp01(x * (1 + amount * rng.normal()) * (1 - fade) + 0.5 * fade)) as Rgb;
}

function randomColor(rng: Random, lo: number, hi: number): Rgb {
  return [rng.uniform(lo, hi), rng.uniform(lo, hi), rng.uniform(lo, hi)];
}

/** Fills `img` (float RGB, size x size) with one of several background kinds. */
function background(img: Float32Array, size: number, rng: Random): void {
  const kind = rng.int(3);
  if (kind === 0) {
    // Sky above, ground below, horizon somewhere in the lower half.
    const sky = [rng.uniform(0.45, 0.7), rng.uniform(0.6, 0.8), rng.uniform(0.75, 0.98)];
    const ground = randomColor(rng, 0.15, 0.5);
    const horizon = rng.uniform(0.5, 0.9) * size;
    for (let y = 0; y < size; y++)
      for (let x = 0; x < size; x++) {
        const t = y < horizon ? y / horizon : 1;
        const col = y < horizon ? sky.map((s) => s * (1 - 0.3 * t)) : ground;
        for (let k = 0; k < 3; k++) img[(y * size + x) * 3 + k] = col[k];
      }
  } else if (kind === 1) {
    // Foliage or walls: a coarse random colour grid, bilinearly interpolated.
    const g = 4;
    const base = randomColor(rng, 0.1, 0.55);
    const grid = Array.from({ length: (g + 1) * (g + 1) }, () => base.map((b) => clamp01(b + 0.15 * rng.normal())));
    for (let y = 0; y < size; y++)
      for (let x = 0; x < size; x++) {
        const gx = (x / size) * g;
        const gy = (y / size) * g;
        const ix = Math.floor(gx);
        const iy = Math.floor(gy);
        const fx = gx - ix;
        const fy = gy - iy;
        for (let k = 0; k < 3; k++) {
          const a = grid[iy * (g + 1) + ix][k] * (1 - fx) + grid[iy * (g + 1) + ix + 1][k] * fx;
          const b = grid[(iy + 1) * (g + 1) + ix][k] * (1 - fx) + grid[(iy + 1) * (g + 1) + ix + 1][k] * fx;
          img[(y * size + x) * 3 + k] = a * (1 - fy) + b * fy;
        }
      }
  } else {
    // Urban: grey facade with darker and lighter rectangles (windows, doors).
    const grey = rng.uniform(0.3, 0.7);
    img.fill(grey);
    const rects = 2 + rng.int(5);
    for (let r = 0; r < rects; r++) {
      const x0 = rng.int(size);
      const y0 = rng.int(size);
      const w = 2 + rng.int(Math.max(2, size >> 2));
      const h = 2 + rng.int(Math.max(2, size >> 2));
      const col = randomColor(rng, grey - 0.25, grey + 0.2).map(clamp01);
      for (let y = y0; y < Math.min(size, y0 + h); y++)
        for (let x = x0; x < Math.min(size, x0 + w); x++) for (let k = 0; k < 3; k++) img[(y * size + x) * 3 + k] = col[k];
    }
  }
}

function boxBlur(img: Float32Array, size: number): void {
  const src = img.slice();
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++)
      for (let k = 0; k < 3; k++) {
        let s = 0;
        let n = 0;
        for (let dy = -1; dy <= 1; dy++)
          for (let dx = -1; dx <= 1; dx++) {
            const yy = y + dy;
            const xx = x + dx;
            if (yy < 0 || yy >= size || xx < 0 || xx >= size) continue;
            s += src[(yy * size + xx) * 3 + k];
            n++;
          }
        img[(y * size + x) * 3 + k] = s / n;
      }
}

/**
 * Draws image `index` of class `cls` into `out` (uint8 RGB, size x size) at `offset`.
 * `difficulty` in [0, 1] scales lighting, blur, noise, occlusion and clutter.
 */
export function drawSign(out: Uint8Array, offset: number, size: number, cls: number, seed: number, index: number, difficulty: number): void {
  const rng = createRandom(hashString(`${seed}:${index}`));
  const img = new Float32Array(size * size * 3);
  background(img, size, rng);

  // Distractor blobs behind the sign.
  const blobs = rng.int(1 + Math.round(3 * difficulty));
  for (let b = 0; b < blobs; b++) {
    const col = randomColor(rng, 0.1, 0.7);
    const bx = rng.uniform(0, size);
    const by = rng.uniform(0, size);
    const br = rng.uniform(0.05, 0.18) * size;
    for (let y = 0; y < size; y++)
      for (let x = 0; x < size; x++) {
        const a = clamp01(br - Math.sqrt((x + 0.5 - bx) ** 2 + (y + 0.5 - by) ** 2) + 0.5);
        for (let k = 0; k < 3; k++) img[(y * size + x) * 3 + k] += a * (col[k] - img[(y * size + x) * 3 + k]);
      }
  }

  const sign = SIGN_CLASSES[cls];
  const r = size * rng.uniform(0.26, 0.26 + 0.2 * (1 - 0.5 * difficulty));
  const margin = r * 0.9;
  const cx = rng.uniform(margin, size - margin);
  const cy = rng.uniform(margin, size - margin);
  const tilt = rng.uniform(-sign.tilt, sign.tilt);
  const fade = rng.uniform(0, 0.35 * difficulty);
  const layers = sign.layers(rng).map((l) => ({ sdf: l.sdf, color: jitter(l.color, rng, 0.08, fade) }));

  // A pole under most signs.
  if (rng.next() < 0.6) {
    const pw = Math.max(0.6, r * 0.1);
    const pole = randomColor(rng, 0.35, 0.6);
    for (let y = Math.floor(cy); y < size; y++)
      for (let x = 0; x < size; x++) {
        const a = clamp01(pw - Math.abs(x + 0.5 - cx) + 0.5);
        for (let k = 0; k < 3; k++) img[(y * size + x) * 3 + k] += a * (pole[k] - img[(y * size + x) * 3 + k]);
      }
  }

  const cos = Math.cos(tilt);
  const sin = Math.sin(tilt);
  const x0 = Math.max(0, Math.floor(cx - r - 1));
  const x1 = Math.min(size, Math.ceil(cx + r + 1));
  const y0 = Math.max(0, Math.floor(cy - r - 1));
  const y1 = Math.min(size, Math.ceil(cy + r + 1));
  // Light falls across the sign face from one side.
  const shadeDir = rng.uniform(0, 2 * Math.PI);
  const shadeAmount = rng.uniform(0, 0.25 * difficulty);
  for (let y = y0; y < y1; y++)
    for (let x = x0; x < x1; x++) {
      const px = (x + 0.5 - cx) / r;
      const py = (y + 0.5 - cy) / r;
      const u = cos * px + sin * py;
      const v = -sin * px + cos * py;
      const shade = 1 + shadeAmount * (u * Math.cos(shadeDir) + v * Math.sin(shadeDir));
      const at = (y * size + x) * 3;
      for (const layer of layers) {
        // Distance in pixels gives one pixel of anti-aliasing at any sign size.
        const a = clamp01(0.5 - layer.sdf(u, v) * r);
        if (a === 0) continue;
        for (let k = 0; k < 3; k++) img[at + k] += a * (layer.color[k] * shade - img[at + k]);
      }
    }

  // Occlusion: a branch or another object across part of the sign.
  if (rng.next() < 0.25 * difficulty) {
    const col = randomColor(rng, 0.05, 0.45);
    const ow = rng.uniform(0.3, 0.7) * r;
    const oh = rng.uniform(0.3, 0.7) * r;
    const ox = cx + rng.uniform(-1, 1) * r;
    const oy = cy + rng.uniform(-1, 1) * r;
    for (let y = Math.max(0, Math.floor(oy - oh)); y < Math.min(size, Math.ceil(oy + oh)); y++)
      for (let x = Math.max(0, Math.floor(ox - ow)); x < Math.min(size, Math.ceil(ox + ow)); x++)
        for (let k = 0; k < 3; k++) img[(y * size + x) * 3 + k] = col[k];
  }

  if (rng.next() < 0.4 * difficulty) boxBlur(img, size);

  // Lighting: overall brightness, a colour cast, a gradient across the frame, then sensor noise.
  const brightness = rng.uniform(1 - 0.55 * difficulty, 1 + 0.25 * difficulty);
  const cast = [0, 1, 2].map(() => 1 + 0.08 * difficulty * rng.normal());
  const gx = rng.uniform(-0.3, 0.3) * difficulty;
  const gy = rng.uniform(-0.3, 0.3) * difficulty;
  const noise = rng.uniform(0, 0.05 * difficulty);
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) {
      const light = brightness * (1 + gx * (x / size - 0.5) + gy * (y / size - 0.5));
      for (let k = 0; k < 3; k++) {
        const i = (y * size + x) * 3 + k;
        // Uniform noise with the same std as N(0, noise): a normal draw per channel is the slowest part.
        const value = img[i] * light * cast[k] + (noise > 0 ? noise * 3.464 * (rng.next() - 0.5) : 0);
        out[offset + i] = Math.round(clamp01(value) * 255);
      }
    }
}
