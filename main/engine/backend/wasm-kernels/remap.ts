/**
 * DlflowRemap: one bilinear resampling pass per batch for the augmentations' geometric warp and
 * lens distortion together. For each output pixel (x, y) of image b:
 *
 * 1. lens (radial) distortion in centred coordinates normalised to the half-diagonal:
 *    s = centre + d * (1 + k r^2) * fit, fit = 1 / (1 + k) for barrel (k > 0) so the corners stay
 *    in view, else 1; clamped to the image. k = 0 leaves the point as it is.
 * 2. the projective map of `tf.image.transform` (8 coefficients a0 a1 a2 b0 b1 b2 c0 c1):
 *    (a0 x + a1 y + a2, b0 x + b1 y + b2) / (c0 x + c1 y + 1);
 * 3. the fill mode (reflect / nearest / constant) and bilinear interpolation with 0 outside,
 *    exactly as `tf.image.transform` does.
 *
 * So sampling the source once gives (warp then lens) in one pass, where the two-step version
 * interpolates twice and builds [n, h*w] index tensors for four gathers. `params` is
 * [n, REMAP_PARAMS] float32: the 8 coefficients, then k. The loop runs on the wasm heap.
 */
import { heapF32, type KernelArgs, type TensorInfo, withScratch } from './kernel-utils.ts';

export const REMAP_KERNEL = 'DlflowRemap';
/** Numbers per image in the params input: 8 projective coefficients and the lens k. */
export const REMAP_PARAMS = 9;
export type RemapFill = 'reflect' | 'constant' | 'nearest';

function reflect(v: number, len: number): number {
  let u = v;
  if (u < 0) {
    if (len <= 1) u = 0;
    else {
      const sz2 = 2 * len;
      if (u < sz2) u = sz2 * Math.trunc(-u / sz2) + u;
      u = u < -len ? u + sz2 : -u - 1;
    }
  } else if (u > len - 1) {
    if (len <= 1) u = 0;
    else {
      const sz2 = 2 * len;
      u -= sz2 * Math.trunc(u / sz2);
      if (u >= len) u = sz2 - u - 1;
    }
  }
  return u < 0 ? 0 : u > len - 1 ? len - 1 : u;
}

/**
 * The remap on plain arrays: `src` and `dst` are [n, h, w, c] float32 (distinct), `params`
 * [n, REMAP_PARAMS]. Shared by the wasm kernel and the fallback used on other backends.
 */
export function remapBilinear(src: Float32Array, dst: Float32Array, n: number, h: number, w: number, c: number, params: Float32Array, fill: RemapFill): void {
  const cx = (w - 1) / 2;
  const cy = (h - 1) / 2;
  const norm = Math.hypot(cx, cy) || 1;
  const per = h * w * c;
  const rowStride = w * c;
  const mode = fill === 'reflect' ? 0 : fill === 'nearest' ? 1 : 2;
  for (let b = 0; b < n; b++) {
    const p = b * REMAP_PARAMS;
    const a0 = params[p];
    const a1 = params[p + 1];
    const a2 = params[p + 2];
    const b0 = params[p + 3];
    const b1 = params[p + 4];
    const b2 = params[p + 5];
    const c0 = params[p + 6];
    const c1 = params[p + 7];
    const k = params[p + 8];
    const base = b * per;
    if (k === 0 && a0 === 1 && a1 === 0 && a2 === 0 && b0 === 0 && b1 === 1 && b2 === 0 && c0 === 0 && c1 === 0) {
      dst.set(src.subarray(base, base + per), base);
      continue;
    }
    const fit = k > 0 ? 1 / (1 + k) : 1;
    const kn = k / (norm * norm);
    // Affine with no lens (the usual case): source points step by (a0, b0) along a row.
    const stepped = k === 0 && c0 === 0 && c1 === 0;
    let o = base;
    for (let y = 0; y < h; y++) {
      const dy = y - cy;
      let rowX = a1 * y + a2;
      let rowY = b1 * y + b2;
      // The sampling is written out here rather than called: a call per pixel that is not
      // inlined boxes its double arguments (two heap allocations per pixel).
      for (let x = 0; x < w; x++, o += c) {
        let mx: number;
        let my: number;
        if (stepped) {
          mx = rowX;
          my = rowY;
          rowX += a0;
          rowY += b0;
        } else {
          let sx = x;
          let sy = y;
          if (k !== 0) {
            const dx = x - cx;
            const f = (1 + kn * (dx * dx + dy * dy)) * fit;
            sx = cx + dx * f;
            sy = cy + dy * f;
            sx = sx < 0 ? 0 : sx > w - 1 ? w - 1 : sx;
            sy = sy < 0 ? 0 : sy > h - 1 ? h - 1 : sy;
          }
          const proj = c0 * sx + c1 * sy + 1;
          if (proj === 0) {
            for (let ch = 0; ch < c; ch++) dst[o + ch] = 0;
            continue;
          }
          mx = (a0 * sx + a1 * sy + a2) / proj;
          my = (b0 * sx + b1 * sy + b2) / proj;
        }
        if (mx >= 0 && my >= 0 && mx < w - 1 && my < h - 1) {
          // Inside: all four taps exist.
          const x0 = mx | 0;
          const y0 = my | 0;
          const fx = mx - x0;
          const fy = my - y0;
          const i00 = base + y0 * rowStride + x0 * c;
          const i10 = i00 + rowStride;
          if (c === 3) {
            const t0 = src[i00] + (src[i00 + 3] - src[i00]) * fx;
            const t1 = src[i00 + 1] + (src[i00 + 4] - src[i00 + 1]) * fx;
            const t2 = src[i00 + 2] + (src[i00 + 5] - src[i00 + 2]) * fx;
            const u0 = src[i10] + (src[i10 + 3] - src[i10]) * fx;
            const u1 = src[i10 + 1] + (src[i10 + 4] - src[i10 + 1]) * fx;
            const u2 = src[i10 + 2] + (src[i10 + 5] - src[i10 + 2]) * fx;
            dst[o] = t0 + (u0 - t0) * fy;
            dst[o + 1] = t1 + (u1 - t1) * fy;
            dst[o + 2] = t2 + (u2 - t2) * fy;
          } else
            for (let ch = 0; ch < c; ch++) {
              const t = src[i00 + ch] + (src[i00 + c + ch] - src[i00 + ch]) * fx;
              const u = src[i10 + ch] + (src[i10 + c + ch] - src[i10 + ch]) * fx;
              dst[o + ch] = t + (u - t) * fy;
            }
          continue;
        }
        if (mode === 0) {
          // One reflection covers points less than a size outside; farther ones take the general path.
          mx = mx < 0 && mx >= -w ? -mx - 1 : mx > w - 1 && mx < 2 * w ? 2 * w - mx - 1 : reflect(mx, w);
          my = my < 0 && my >= -h ? -my - 1 : my > h - 1 && my < 2 * h ? 2 * h - my - 1 : reflect(my, h);
        }
        if (mode !== 2) {
          mx = mx < 0 ? 0 : mx > w - 1 ? w - 1 : mx;
          my = my < 0 ? 0 : my > h - 1 ? h - 1 : my;
        }
        // Border: taps outside the image read the fill value 0.
        const x0 = Math.floor(mx);
        const y0 = Math.floor(my);
        const fx = mx - x0;
        const fy = my - y0;
        const inX0 = x0 >= 0 && x0 < w;
        const inX1 = x0 + 1 >= 0 && x0 + 1 < w;
        const inY0 = y0 >= 0 && y0 < h;
        const inY1 = y0 + 1 >= 0 && y0 + 1 < h;
        const i00 = base + y0 * rowStride + x0 * c;
        const i10 = i00 + rowStride;
        for (let ch = 0; ch < c; ch++)
          dst[o + ch] =
            (inX0 && inY0 ? (1 - fx) * (1 - fy) * src[i00 + ch] : 0) +
            (inX1 && inY0 ? fx * (1 - fy) * src[i00 + c + ch] : 0) +
            (inX0 && inY1 ? (1 - fx) * fy * src[i10 + ch] : 0) +
            (inX1 && inY1 ? fx * fy * src[i10 + c + ch] : 0);
      }
    }
  }
}

/** The wasm kernel: inputs `image` [n, h, w, c] and `params` [n, REMAP_PARAMS], attr `fillMode`. */
export function remap({ inputs, backend, attrs }: KernelArgs): TensorInfo {
  const { image, params } = inputs;
  const [n, h, w, c] = image.shape;
  if (image.shape.length !== 4 || params.shape.length !== 2 || params.shape[0] !== n || params.shape[1] !== REMAP_PARAMS)
    throw new Error(`${REMAP_KERNEL}: expected image [n, h, w, c] and params [n, ${REMAP_PARAMS}], got [${image.shape.join(', ')}] and [${params.shape.join(', ')}]`);
  const fill = (attrs.fillMode ?? 'reflect') as RemapFill;
  return withScratch(backend, (s) => {
    const out = s.alloc([n, h, w, c]);
    // Views after the allocation: it may grow (and so move) the heap.
    remapBilinear(heapF32(backend, image), heapF32(backend, out), n, h, w, c, heapF32(backend, params), fill);
    return s.keep(out);
  });
}
