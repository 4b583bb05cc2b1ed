/**
 * 3x3 stride-1 convolutions by Winograd's F(2x2, 3x3) for the wasm backend: 16 multiplies per
 * 2x2 output tile and channel pair instead of 36. It runs the forward Conv2D (and FusedConv2D
 * with a linear or ReLU activation), the input gradient (a 3x3 stride-1 convolution of dy with
 * the reversed filter) and the filter gradient (the adjoint of the forward transform) of a 3x3
 * hidden layer: the largest costs of training a small CNN.
 *
 *   U = G g Gᵀ (filter, JS: tiny)          [16, ci, co]
 *   V = Bᵀ d B (input tiles, SIMD)         [16, T, ci]   T = n * ceil(ho/2) * ceil(wo/2)
 *   M_xi = V_xi · U_xi (16 products)       [T, co] each
 *   Y = Aᵀ M A (+ bias, ReLU) (SIMD)       [n, ho, wo, co]
 *
 * The products run on the SIMD GEMM (gemm.ts) in place on slices of V and U where the shapes
 * suit it, else on XNNPACK through borrowed tensors; chunks of images keep the temporaries in
 * cache. Rounding differs from the direct convolution by a few ulps of the operands' scale (the
 * transforms only add, subtract and halve).
 */
import { heapAddress, heapF32, type Scratch, type TensorInfo } from './kernel-utils.ts';
import { gemmAt, gemmSuits } from './gemm.ts';
import { transposeAt } from './transpose.ts';
import { simdKernels } from './simd.ts';

/**
 * Switches for benchmarks and tests (same-run comparisons); the defaults are the fast paths.
 * `maxTempFloats`: most floats of Winograd temporaries (input tiles plus products, 4x the input
 * plus 4x the output) one pass holds (128 MiB): larger batches run in chunks of images, and a
 * single image past it (e.g. 1024x1024x64) takes the direct convolution instead.
 * `cacheFloats`: with the SIMD GEMM (no per-call packing, so chunks cost nothing extra) chunks are
 * sized so the temporaries stay in cache (4 MiB measured best on the reference CNN: ~5% faster
 * than one pass over the batch, and less memory traffic for the other core).
 */
export const winogradOptions = { forward: true, filterGrad: true, maxTempFloats: 2 ** 25, cacheFloats: 2 ** 20 };

/** Calls taken by Winograd so far (tests check which path a shape takes). */
export const winogradCalls = { conv: 0, filterGrad: 0 };

/** Images per chunk for tiles of th x tw and ci + co channels (0: not even one fits). */
function imagesPerChunk(th: number, tw: number, ci: number, co: number): number {
  return Math.floor(winogradOptions.maxTempFloats / (16 * th * tw * (ci + co)));
}

/** Images per chunk when the products run on the SIMD GEMM: temporaries sized to stay in cache. */
function cachedChunk(n: number, th: number, tw: number, ci: number, co: number): number {
  const fit = Math.floor(Math.min(winogradOptions.cacheFloats, winogradOptions.maxTempFloats) / (16 * th * tw * (ci + co)));
  return Math.max(1, Math.min(n, fit));
}

/**
 * Whether Winograd takes a 3x3 stride-1 conv of x [n,h,w,ci] with filter [3,3,ci,co] and the
 * given padding: as a convolution (forward, or the input gradient) or for its filter gradient.
 * The thresholds are where it won in training steps here (scratch A/B per shape, one process,
 * alternating): the convolution from 8 channels when its products run on the SIMD GEMM, else
 * from 16 channels (ci + co >= 48) with at least 64 tiles mostly inside the output; the filter
 * gradient, whose products are 4x larger than the direct path's, from ci * co >= 2048 (32 -> 64
 * gained 1.1-1.2x, 16 -> 32 lost 0.88x, 32 -> 32 was even).
 */
export function winogradApplies(s: Scratch, x: TensorInfo, filter: TensorInfo, pads: number[], use: 'conv' | 'filterGrad' = 'conv'): boolean {
  const [fh, fw, ci, co] = filter.shape;
  if (fh !== 3 || fw !== 3 || x.dtype !== 'float32' || filter.dtype !== 'float32' || x.shape.length !== 4 || x.shape[3] !== ci) return false;
  if (ci % 4 !== 0 || co % 4 !== 0 || !pads.every((p) => p >= 0 && p <= 2)) return false;
  const ho = x.shape[1] + pads[0] + pads[1] - 2;
  const wo = x.shape[2] + pads[2] + pads[3] - 2;
  if (ho < 1 || wo < 1) return false;
  const th = Math.ceil(ho / 2);
  const tw = Math.ceil(wo / 2);
  // With its products on the SIMD GEMM (no packing) the convolution won at every size measured,
  // from 8 -> 8 channels (1.06x) and 3x3 images (1.33x) up; with XNNPACK's products it needs more.
  const onGemm = gemmSuits(s.backend, th * tw * cachedChunk(x.shape[0], th, tw, ci, co), ci, co);
  const worth =
    use === 'conv'
      ? onGemm
        ? ci >= 8 && co >= 8
        : ci >= 16 && co >= 16 && ci + co >= 48 && x.shape[0] * th * tw >= 64 && (ho * wo) / (4 * th * tw) >= 0.75
      : ci * co >= 2048 && (ho * wo) / (4 * th * tw) >= 0.75;
  return worth && imagesPerChunk(th, tw, ci, co) >= 1 && simdKernels(s.backend) !== undefined;
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
 * x [n,h,w,c] in a zeroed [n, 2th+2, 2tw+2, c] buffer at (top, left), so that every 4x4 tile
 * (2ty, 2tx) lies inside it (rows or columns of x past the last tile are not copied).
 */
function paddedForTiles(s: Scratch, x: TensorInfo, top: number, left: number, th: number, tw: number): TensorInfo {
  const [n, h, w, c] = x.shape;
  const hp = 2 * th + 2;
  const wp = 2 * tw + 2;
  const xp = s.alloc([n, hp, wp, c]);
  const dst = heapF32(s.backend, xp);
  const src = heapF32(s.backend, x);
  dst.fill(0);
  const rows = Math.min(h, hp - top);
  const cols = Math.min(w, wp - left) * c;
  for (let b = 0; b < n; b++)
    for (let i = 0; i < rows; i++) {
      const from = (b * h + i) * w * c;
      dst.set(src.subarray(from, from + cols), ((b * hp + i + top) * wp + left) * c);
    }
  return xp;
}

/** V = Bᵀ d B of every 4x4 input tile: [16, n*th*tw, c]. */
function inputTiles(s: Scratch, x: TensorInfo, top: number, left: number, th: number, tw: number): TensorInfo {
  const [n, , , c] = x.shape;
  const xp = paddedForTiles(s, x, top, left, th, tw);
  const tiles = n * th * tw;
  const v = s.alloc([16, tiles, c]);
  simdKernels(s.backend)!.winogradIn(heapAddress(s.backend, xp), heapAddress(s.backend, v), n, 2 * th + 2, 2 * tw + 2, c * 4, th, tw, tiles * c * 4);
  s.free(xp);
  return v;
}

/**
 * Stride-1, dilation-1 3x3 convolution of x [n,h,w,ci] with filter [3,3,ci,co], explicit padding
 * (top, bottom, left, right), optionally + bias [co] and a ReLU fused into the output transform.
 * Only call when `winogradApplies`. The result is tracked by `s`; `keep` it to return it.
 */
export function winogradConv(
  s: Scratch,
  x: TensorInfo,
  filter: TensorInfo,
  pads: [number, number, number, number],
  epilogue: { bias?: TensorInfo; relu?: boolean } = {},
): TensorInfo {
  const simd = simdKernels(s.backend)!;
  winogradCalls.conv++;
  const [n, h, w, ci] = x.shape;
  const co = filter.shape[3];
  const [pt, pb, pl, pr] = pads;
  const ho = h + pt + pb - 2;
  const wo = w + pl + pr - 2;
  if (ho <= 0 || wo <= 0) throw new Error(`wasm Winograd conv: empty output (${ho}x${wo})`);
  const th = Math.ceil(ho / 2);
  const tw = Math.ceil(wo / 2);
  const cached = cachedChunk(n, th, tw, ci, co);
  const per = gemmSuits(s.backend, cached * th * tw, ci, co) ? cached : Math.max(1, Math.min(n, imagesPerChunk(th, tw, ci, co)));
  const u = transformFilter(s, filter);
  // Without the SIMD GEMM: the same right-hand tensors for every chunk, so XNNPACK packs each U
  // slice once.
  let uSlices: TensorInfo[] | undefined;
  let bias = epilogue.bias;
  if (!bias) {
    bias = s.alloc([co]);
    heapF32(s.backend, bias).fill(0);
  }
  const plain = { transposeA: false, transposeB: false };
  const y = s.alloc([n, ho, wo, co]);
  for (let b0 = 0; b0 < n; b0 += per) {
    const nb = Math.min(per, n - b0);
    const xc = nb === n ? x : s.borrow(x, b0 * h * w * ci, [nb, h, w, ci]);
    const tiles = nb * th * tw;
    const v = inputTiles(s, xc, pt, pl, th, tw);
    const at = heapAddress(s.backend, y) + b0 * ho * wo * co * 4;
    const biasAt = heapAddress(s.backend, bias);
    const lo = epilogue.relu ? 0 : -Infinity;
    if (gemmSuits(s.backend, tiles, ci, co)) {
      // The 16 products straight into one buffer, no packing.
      const m = s.alloc([16, tiles, co]);
      const [vAt, uAt, mAt] = [heapAddress(s.backend, v), heapAddress(s.backend, u), heapAddress(s.backend, m)];
      for (let xi = 0; xi < 16; xi++) gemmAt(s.backend, vAt + xi * tiles * ci * 4, uAt + xi * ci * co * 4, mAt + xi * tiles * co * 4, tiles, ci, co);
      s.free(v);
      simd.winogradOut(...Array.from({ length: 16 }, (_, xi) => mAt + xi * tiles * co * 4), at, nb, ho, wo, co * 4, th, tw, biasAt, lo);
      s.free(m);
      continue;
    }
    uSlices ??= Array.from({ length: 16 }, (_, xi) => s.borrow(u, xi * ci * co, [ci, co]));
    const products = uSlices.map((b, xi) => s.call('BatchMatMul', { a: s.borrow(v, xi * tiles * ci, [tiles, ci]), b }, plain));
    s.free(v);
    simd.winogradOut(...products.map((p) => heapAddress(s.backend, p)), at, nb, ho, wo, co * 4, th, tw, biasAt, lo);
    for (const p of products) s.free(p);
  }
  return y;
}

/**
 * Filter gradient [3,3,ci,co] of a stride-1 3x3 convolution of x [n,h,w,ci] whose output
 * gradient is dy [n,ho,wo,co], with the forward's top/left padding. The adjoint of the forward
 * transform: dW = Gᵀ [Σ_tiles (A dY Aᵀ) ⊙ (Bᵀ d B)] G, where the sum over tiles (and the outer
 * product over channels) is one product per Winograd element, Dᵀ [co, T] · V [T, ci], on the
 * SIMD GEMM accumulating over chunks of images (or XNNPACK, summed in JS). 205 instead of 461
 * MFLOP on the reference CNN's conv2.
 */
export function winogradFilterGrad(s: Scratch, x: TensorInfo, dy: TensorInfo, top: number, left: number): TensorInfo {
  const simd = simdKernels(s.backend)!;
  winogradCalls.filterGrad++;
  const [n, h, w, ci] = x.shape;
  const [, ho, wo, co] = dy.shape;
  const th = Math.ceil(ho / 2);
  const tw = Math.ceil(wo / 2);
  const perImage = th * tw;
  const cached = cachedChunk(n, th, tw, ci, co);
  const per = gemmSuits(s.backend, co, cached * perImage, ci) ? cached : Math.max(1, Math.min(n, imagesPerChunk(th, tw, ci, co)));
  // dy padded to whole tiles where a size is odd (the extra outputs get a zero gradient).
  let dyEven = dy;
  if (ho !== 2 * th || wo !== 2 * tw) dyEven = paddedForTiles(s, dy, 0, 0, th - 1, tw - 1);
  const imageBytes = 4 * th * tw * co * 4;
  const plain = { transposeA: false, transposeB: false };
  // Σ over chunks of the 16 products Dᵀ·V ([co, ci] each): on the heap when the SIMD product
  // suits every chunk's shape, else in JS arrays.
  const onHeap = gemmSuits(s.backend, co, per * perImage, ci) && gemmSuits(s.backend, co, (((n - 1) % per) + 1) * perImage, ci);
  const sumsBuf = onHeap ? s.alloc([16, co, ci]) : undefined;
  const sums = onHeap ? [] : Array.from({ length: 16 }, () => new Float32Array(co * ci));
  const chunk = s.alloc([16, perImage, co]);
  for (let b0 = 0; b0 < n; b0 += per) {
    const nb = Math.min(per, n - b0);
    const tiles = nb * perImage;
    const v = inputTiles(s, nb === n ? x : s.borrow(x, b0 * h * w * ci, [nb, h, w, ci]), top, left, th, tw);
    // D = A dY Aᵀ per tile, one image at a time into a small buffer that stays in cache, then
    // written transposed (Dᵀ [16, co, tiles], the products' left operand) block by block.
    const dT = s.alloc([16, co, tiles]);
    const chunkAt = heapAddress(s.backend, chunk);
    const dTAt = heapAddress(s.backend, dT);
    const dyAt = heapAddress(s.backend, dyEven);
    const sumsAt = sumsBuf ? heapAddress(s.backend, sumsBuf) : undefined;
    for (let b = 0; b < nb; b++) {
      simd.winogradGrad(dyAt + (b0 + b) * imageBytes, chunkAt, 1, 2 * th, 2 * tw, co * 4, th, tw, perImage * co * 4);
      for (let xi = 0; xi < 16; xi++)
        transposeAt(s.backend, chunkAt + xi * perImage * co * 4, dTAt + (xi * co * tiles + b * perImage) * 4, perImage, co, tiles);
    }
    for (let xi = 0; xi < 16; xi++) {
      if (sumsAt !== undefined) {
        // Dᵀ·V added straight into the running sum (no packing).
        gemmAt(s.backend, dTAt + xi * co * tiles * 4, heapAddress(s.backend, v) + xi * tiles * ci * 4, sumsAt + xi * co * ci * 4, co, tiles, ci, { accumulate: b0 > 0 });
        continue;
      }
      const a = s.borrow(dT, xi * co * tiles, [co, tiles]);
      const b = s.borrow(v, xi * tiles * ci, [tiles, ci]);
      const product = s.call('BatchMatMul', { a, b }, plain);
      const values = heapF32(s.backend, product);
      const sum = sums[xi];
      for (let i = 0; i < values.length; i++) sum[i] += values[i];
      s.free(product);
    }
    s.free(v);
    s.free(dT);
  }
  s.free(chunk);
  if (dyEven !== dy) s.free(dyEven);
  const out = s.alloc([3, 3, ci, co]);
  // Views of the heap only after the last allocation (a growing heap detaches older views).
  const dst = heapF32(s.backend, out);
  const heapSums = sumsBuf ? heapF32(s.backend, sumsBuf) : undefined;
  const m = heapSums ? Array.from({ length: 16 }, (_, xi) => heapSums.subarray(xi * co * ci, (xi + 1) * co * ci)) : sums;
  const q = ci * co;
  const t = new Float32Array(12);
  for (let k = 0; k < co; k++)
    for (let c = 0; c < ci; c++) {
      const at = k * ci + c;
      // t[a][j] = Σ_b M[a][b] G[b][j]
      for (let a = 0; a < 4; a++) {
        const m0 = m[a * 4][at];
        const m1 = m[a * 4 + 1][at];
        const m2 = m[a * 4 + 2][at];
        const m3 = m[a * 4 + 3][at];
        t[a * 3] = m0 + 0.5 * (m1 + m2);
        t[a * 3 + 1] = 0.5 * (m1 - m2);
        t[a * 3 + 2] = 0.5 * (m1 + m2) + m3;
      }
      // dW[i][j] = Σ_a G[a][i] t[a][j]
      const o = c * co + k;
      for (let j = 0; j < 3; j++) {
        const t0 = t[j];
        const t1 = t[3 + j];
        const t2 = t[6 + j];
        const t3 = t[9 + j];
        dst[j * q + o] = t0 + 0.5 * (t1 + t2);
        dst[(3 + j) * q + o] = 0.5 * (t1 - t2);
        dst[(6 + j) * q + o] = 0.5 * (t1 + t2) + t3;
      }
    }
  return out;
}
