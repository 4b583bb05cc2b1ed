/**
 * 3x3 stride-1 convolution by Winograd's F(2x2, 3x3) for the wasm backend: 16 multiplies per
 * 2x2 output tile and channel pair instead of 36, so the XNNPACK products do 2.25x less work
 * than the direct convolution. It runs the forward Conv2D of a 3x3 hidden layer and the input
 * gradient of one (a 3x3 stride-1 convolution of dy with the reversed filter), the two largest
 * costs of training a small CNN after the filter gradient.
 *
 *   U = G g Gᵀ (filter, JS: tiny)          [16, ci, co]
 *   V = Bᵀ d B (input tiles, SIMD)         [16, T, ci]   T = n * ceil(ho/2) * ceil(wo/2)
 *   M_xi = V_xi · U_xi (16 XNNPACK products) [T, co] each
 *   Y = Aᵀ M A (SIMD)                      [n, ho, wo, co]
 *
 * Products are formed in place on slices of V and U (borrowed tensors), so nothing is copied
 * between the stages. Rounding differs from the direct convolution by a few ulps of the
 * operands' scale (the transforms only add, subtract and halve).
 */
import { heapAddress, heapF32, type Scratch, type TensorInfo } from './kernel-utils.ts';
import { simdKernels } from './simd.ts';

/** Below these channel counts XNNPACK's direct convolution wins (measured, see bench). */
const MIN_CHANNELS = 8;

/** Whether `winogradConv` takes a 3x3 conv of x [n,h,w,ci] with filter [3,3,ci,co]. */
export function winogradApplies(s: Scratch, x: TensorInfo, filter: TensorInfo, pads: number[]): boolean {
  const [fh, fw, ci, co] = filter.shape;
  return (
    fh === 3 &&
    fw === 3 &&
    x.dtype === 'float32' &&
    filter.dtype === 'float32' &&
    x.shape.length === 4 &&
    x.shape[3] === ci &&
    ci % 4 === 0 &&
    co % 4 === 0 &&
    ci >= MIN_CHANNELS &&
    co >= MIN_CHANNELS &&
    pads.every((p) => p >= 0 && p <= 2) &&
    x.shape[1] + pads[0] + pads[1] >= 3 &&
    x.shape[2] + pads[2] + pads[3] >= 3 &&
    simdKernels(s.backend) !== undefined
  );
}

/** Filter transform U = G g Gᵀ, G = [[1,0,0],[½,½,½],[½,-½,½],[0,0,1]]: [3,3,ci,co] → [16,ci,co]. */
function transformFilter(s: Scratch, filter: TensorInfo): TensorInfo {
  const [, , ci, co] = filter.shape;
  const q = ci * co;
  const u = s.alloc([16, ci, co]);
  const g = heapF32(s.backend, filter);
  const out = heapF32(s.backend, u);
  const t = new Float32Array(12);
  for (let p = 0; p < q; p++) {
    // t[a][j] = Σ_i G[a][i] g[i][j]
    for (let j = 0; j < 3; j++) {
      const g0 = g[j * q + p];
      const g1 = g[(3 + j) * q + p];
      const g2 = g[(6 + j) * q + p];
      t[j] = g0;
      t[3 + j] = 0.5 * (g0 + g1 + g2);
      t[6 + j] = 0.5 * (g0 - g1 + g2);
      t[9 + j] = g2;
    }
    // U[a][b] = Σ_j t[a][j] G[b][j]
    for (let a = 0; a < 4; a++) {
      const t0 = t[a * 3];
      const t1 = t[a * 3 + 1];
      const t2 = t[a * 3 + 2];
      const at = a * 4 * q + p;
      out[at] = t0;
      out[at + q] = 0.5 * (t0 + t1 + t2);
      out[at + 2 * q] = 0.5 * (t0 - t1 + t2);
      out[at + 3 * q] = t2;
    }
  }
  return u;
}

/**
 * Stride-1, dilation-1 3x3 convolution of x [n,h,w,ci] with filter [3,3,ci,co], explicit padding
 * (top, bottom, left, right). Only call when `winogradApplies`. The result is tracked by `s`;
 * `keep` it to return it.
 */
export function winogradConv(s: Scratch, x: TensorInfo, filter: TensorInfo, pads: [number, number, number, number]): TensorInfo {
  const simd = simdKernels(s.backend)!;
  const [n, h, w, ci] = x.shape;
  const co = filter.shape[3];
  const [pt, pb, pl, pr] = pads;
  const ho = h + pt + pb - 2;
  const wo = w + pl + pr - 2;
  if (ho <= 0 || wo <= 0) throw new Error(`wasm Winograd conv: empty output (${ho}x${wo})`);
  const th = Math.ceil(ho / 2);
  const tw = Math.ceil(wo / 2);
  const hp = 2 * th + 2;
  const wp = 2 * tw + 2;
  // Zero-padded input: every tile reads a full 4x4 patch.
  const xp = s.alloc([n, hp, wp, ci]);
  {
    const dst = heapF32(s.backend, xp);
    const src = heapF32(s.backend, x);
    dst.fill(0);
    const rowLen = w * ci;
    const rows = Math.min(h, hp - pt);
    const cols = Math.min(w, wp - pl) * ci;
    for (let b = 0; b < n; b++)
      for (let i = 0; i < rows; i++) {
        const from = (b * h + i) * rowLen;
        dst.set(src.subarray(from, from + cols), ((b * hp + i + pt) * wp + pl) * ci);
      }
  }
  const tiles = n * th * tw;
  const v = s.alloc([16, tiles, ci]);
  simd.winogradIn(heapAddress(s.backend, xp), heapAddress(s.backend, v), n, hp, wp, ci * 4, th, tw, tiles * ci * 4);
  s.free(xp);
  const u = transformFilter(s, filter);
  const plain = { transposeA: false, transposeB: false };
  const m: number[] = [];
  for (let xi = 0; xi < 16; xi++) {
    const a = s.borrow(v, xi * tiles * ci, [tiles, ci]);
    const b = s.borrow(u, xi * ci * co, [ci, co]);
    m.push(heapAddress(s.backend, s.call('BatchMatMul', { a, b }, plain)));
  }
  s.free(v);
  const y = s.alloc([n, ho, wo, co]);
  simd.winogradOut(...m, heapAddress(s.backend, y), n, ho, wo, co * 4, th, tw);
  return y;
}
