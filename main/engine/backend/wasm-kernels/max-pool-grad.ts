/**
 * MaxPoolGrad for the wasm backend. The stock kernel starts its running max at FLT_MIN (the
 * smallest positive float), so a window whose values are all <= 0 routes its gradient to the
 * wrong pixel. This one starts at -Infinity and, like the cpu backend, sends each output's
 * gradient to the first maximum of its window in row-major order. Channels are the inner loop,
 * so the scan is contiguous; it runs directly on the wasm heap.
 */
import { heapF32, isEmpty, type KernelArgs, poolInfo, type Scratch, type TensorInfo, withScratch, zeroOutput } from './kernel-utils.ts';
import { heapAddress, simdKernels } from './simd.ts';

let bestValue = new Float32Array(64);
let bestIndex = new Int32Array(64);

export function maxPoolGrad({
  inputs,
  backend,
  attrs,
}: KernelArgs): TensorInfo {
  const { dy, input, output } = inputs;
  if (isEmpty(dy) || isEmpty(input)) return zeroOutput(backend, [...input.shape]);
  const info = poolInfo(input.shape, attrs);
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: c, outHeight: ho, outWidth: wo } = info;
  const { strideHeight: sh, strideWidth: sw, filterHeight: fh, filterWidth: fw } = info;
  const pt = info.padInfo.top;
  const pl = info.padInfo.left;
  if (sh === fh && sw === fw && pt === 0 && pl === 0 && h === ho * fh && w === wo * fw && output && fh * fw > 1)
    return withScratch(backend, (s) => s.keep(tiledMaxPoolGrad(s, input, output, dy, n * ho, fh, wo, fw, c)));
  if (bestValue.length < c) {
    bestValue = new Float32Array(c);
    bestIndex = new Int32Array(c);
  }
  const bv = bestValue;
  const bi = bestIndex;
  return withScratch(backend, (s) => {
    const out = s.alloc([...input.shape]);
    const dx = heapF32(backend, out);
    const x = heapF32(backend, input);
    const g = heapF32(backend, dy);
    dx.fill(0);
    for (let b = 0; b < n; b++) {
      for (let oh = 0; oh < ho; oh++) {
        const h0 = oh * sh - pt;
        const hStart = Math.max(0, h0);
        const hEnd = Math.min(h, h0 + fh);
        for (let ow = 0; ow < wo; ow++) {
          const w0 = ow * sw - pl;
          const wStart = Math.max(0, w0);
          const wEnd = Math.min(w, w0 + fw);
          for (let k = 0; k < c; k++) {
            bv[k] = -Infinity;
            bi[k] = -1;
          }
          for (let ih = hStart; ih < hEnd; ih++) {
            for (let iw = wStart; iw < wEnd; iw++) {
              const base = ((b * h + ih) * w + iw) * c;
              for (let k = 0; k < c; k++) {
                const v = x[base + k];
                if (v > bv[k]) {
                  bv[k] = v;
                  bi[k] = base + k;
                }
              }
            }
          }
          const gBase = ((b * ho + oh) * wo + ow) * c;
          for (let k = 0; k < c; k++) {
            const at = bi[k];
            if (at >= 0) dx[at] += g[gBase + k];
          }
        }
      }
    }
    return s.keep(out);
  });
}

/**
 * Non-overlapping windows (stride = window, no padding, exact tiling: the usual 2x2/2 pool).
 * The forward output `y` holds each window's max, so one pass compares each window against it
 * and writes every dx element exactly once (no zero fill, no scatter-add); the first match in
 * row-major order gets the gradient, as on the cpu backend.
 */
function tiledMaxPoolGrad(
  s: Scratch,
  x: TensorInfo,
  y: TensorInfo,
  dy: TensorInfo,
  rows: number,
  fh: number,
  wo: number,
  fw: number,
  c: number,
): TensorInfo {
  const backend = s.backend;
  const out = s.alloc([...x.shape]);
  const dx = heapF32(backend, out);
  const xs = heapF32(backend, x);
  const ys = heapF32(backend, y);
  const gs = heapF32(backend, dy);
  const rowLen = wo * fw * c;
  const fast = fh === 2 && fw === 2 && c % 4 === 0 ? simdKernels(backend) : undefined;
  if (fast) {
    const at = (t: TensorInfo) => heapAddress(backend, t);
    fast.maxPoolGrad2x2(at(x), at(y), at(dy), at(out), rows, wo, c * 4);
    return out;
  }
  if (fh === 2 && fw === 2) {
    for (let r = 0; r < rows; r++) {
      for (let ow = 0; ow < wo; ow++) {
        const o = (r * wo + ow) * c;
        const p00 = (r * 2 * wo * 2 + ow * 2) * c;
        const p01 = p00 + c;
        const p10 = p00 + rowLen;
        const p11 = p10 + c;
        for (let k = 0; k < c; k++) {
          const v = ys[o + k];
          const g = gs[o + k];
          if (xs[p00 + k] === v) {
            dx[p00 + k] = g;
            dx[p01 + k] = 0;
            dx[p10 + k] = 0;
            dx[p11 + k] = 0;
          } else if (xs[p01 + k] === v) {
            dx[p00 + k] = 0;
            dx[p01 + k] = g;
            dx[p10 + k] = 0;
            dx[p11 + k] = 0;
          } else if (xs[p10 + k] === v) {
            dx[p00 + k] = 0;
            dx[p01 + k] = 0;
            dx[p10 + k] = g;
            dx[p11 + k] = 0;
          } else {
            dx[p00 + k] = 0;
            dx[p01 + k] = 0;
            dx[p10 + k] = 0;
            dx[p11 + k] = xs[p11 + k] === v ? g : 0;
          }
        }
      }
    }
    return out;
  }
  for (let r = 0; r < rows; r++) {
    for (let ow = 0; ow < wo; ow++) {
      const o = (r * wo + ow) * c;
      const corner = (r * fh * wo * fw + ow * fw) * c;
      for (let k = 0; k < c; k++) {
        const v = ys[o + k];
        const g = gs[o + k];
        let found = false;
        for (let i = 0; i < fh; i++) {
          for (let j = 0; j < fw; j++) {
            const at = corner + i * rowLen + j * c + k;
            if (!found && xs[at] === v) {
              dx[at] = g;
              found = true;
            } else dx[at] = 0;
          }
        }
      }
    }
  }
  return out;
}

/**
 * MaxPoolWithArgmax with the running max starting at -Infinity (the stock kernel shares
 * MaxPoolGrad's FLT_MIN start, so windows <= 0 get a wrong max and index). Indexes are flattened
 * as in TensorFlow: ((b * H + y) * W + x) * C + c, without the batch term unless
 * includeBatchInIndex.
 */
export function maxPoolWithArgmax({
  inputs,
  backend,
  attrs,
}: KernelArgs): TensorInfo[] {
  const { x } = inputs;
  const info = poolInfo(x.shape, { ...attrs, dimRoundingMode: undefined });
  const withBatch = Boolean(attrs.includeBatchInIndex);
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: c, outHeight: ho, outWidth: wo } = info;
  const { strideHeight: sh, strideWidth: sw, filterHeight: fh, filterWidth: fw } = info;
  const pt = info.padInfo.top;
  const pl = info.padInfo.left;
  return withScratch(backend, (s) => {
    const values = s.alloc([n, ho, wo, c]);
    const indexes = s.track(backend.makeOutput([n, ho, wo, c], 'int32') as TensorInfo);
    const vs = heapF32(backend, values);
    const is = backend.typedArrayFromHeap(indexes) as Int32Array;
    const xs = heapF32(backend, x);
    for (let b = 0; b < n; b++)
      for (let oh = 0; oh < ho; oh++) {
        const h0 = oh * sh - pt;
        for (let ow = 0; ow < wo; ow++) {
          const w0 = ow * sw - pl;
          const o = ((b * ho + oh) * wo + ow) * c;
          for (let k = 0; k < c; k++) {
            let best = -Infinity;
            let at = -1;
            for (let ih = Math.max(0, h0); ih < Math.min(h, h0 + fh); ih++)
              for (let iw = Math.max(0, w0); iw < Math.min(w, w0 + fw); iw++) {
                const v = xs[((b * h + ih) * w + iw) * c + k];
                if (v > best) {
                  best = v;
                  at = ((withBatch ? b * h : 0) + ih) * w * c + iw * c + k;
                }
              }
            vs[o + k] = best;
            is[o + k] = at;
          }
        }
      }
    s.keep(values);
    s.keep(indexes);
    return [values, indexes];
  });
}
