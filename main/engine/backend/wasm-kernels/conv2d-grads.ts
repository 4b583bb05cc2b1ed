/**
 * Conv2D gradients for the wasm backend.
 *
 * - Filter gradient, by shape: a 1x1 conv is one product xᵀ·dy; few input channels (a first
 *   layer) one SIMD pass over dy; 3x3 stride 1 with enough channels Winograd (winograd.ts);
 *   other stride-1 "same" convs a shifted-plane patch matrix times dy; few taps an im2col
 *   product; the rest a convolution of the transposed input with the transposed output
 *   gradient as filter, dilated by the forward stride. Products run on the SIMD GEMM.
 * - Input gradient: a stride-1 convolution of the output gradient with the spatially reversed,
 *   in/out-swapped filter (Winograd for 3x3), or for strides > 1 one such convolution per output
 *   phase (sub-pixel). This kernel is also the forward pass of conv2dTranspose.
 */
import * as tf from '@tensorflow/tfjs';
import {
  assertNHWC,
  dilateAndPad,
  explicitPad,
  heapF32,
  isEmpty,
  zeroOutput,
  type Scratch,
  convInfo,
  type KernelArgs,
  type Shape4,
  type TensorInfo,
  view,
  withScratch,
} from './kernel-utils.ts';
import { matmul } from './gemm.ts';
import { heapAddress, simdKernels } from './simd.ts';
import { transpose, transposeAt } from './transpose.ts';
import { winogradApplies, winogradConv, winogradFilterGrad, winogradOptions } from './winograd.ts';


/** Largest im2col patch matrix (floats) the stride-1 filter gradient builds on the wasm heap. */
const MAX_PATCH_FLOATS = 2 ** 26;

/** filter [fh,fw,A,B] → [fh,fw,B,A] (swap) or [fh,fw,A,B], reversed in both spatial axes. */
export function flipFilter(s: Scratch, filter: TensorInfo, swap: boolean): TensorInfo {
  const [fh, fw, a, b] = filter.shape;
  const out = s.alloc(swap ? [fh, fw, b, a] : [fh, fw, a, b]);
  const dst = heapF32(s.backend, out);
  const src = heapF32(s.backend, filter);
  const ab = a * b;
  for (let i = 0; i < fh; i++) {
    for (let j = 0; j < fw; j++) {
      const from = ((fh - 1 - i) * fw + (fw - 1 - j)) * ab;
      const to = (i * fw + j) * ab;
      if (!swap) {
        dst.set(src.subarray(from, from + ab), to);
        continue;
      }
      for (let p = 0; p < a; p++) {
        const row = from + p * b;
        for (let q = 0; q < b; q++) dst[to + q * a + p] = src[row + q];
      }
    }
  }
  return out;
}

/**
 * Filter gradient of a 2-D convolution by the transposed-convolution trick. `dilations` are the
 * forward conv's (tfjs passes none for Conv2DBackpropFilter, i.e. 1).
 */
export function convFilterGrad(
  s: Scratch,
  x: TensorInfo,
  dy: TensorInfo,
  info: tf.backend_util.Conv2DInfo,
): TensorInfo {
  const { inHeight: h, inWidth: w, inChannels: ci, outChannels: co } = info;
  // dy's own size, not info's: tfjs's conv2d gradient drops dimRoundingMode for the input grad.
  const [, ho, wo] = dy.shape;
  const { strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw, filterHeight: fh, filterWidth: fw } = info;
  const pt = info.padInfo.top;
  const pl = info.padInfo.left;
  const pointwise = fh === 1 && fw === 1 && sh === 1 && sw === 1 && pt === 0 && pl === 0 && ho === h && wo === w;
  if (pointwise && ci > co) {
    // dW = xᵀ·dy, packing dy (the smaller operand).
    const p = x.shape[0] * h * w;
    const xT = transpose(s, view(x, [p, ci]), [1, 0]);
    const r = s.keep(matmul(s, xT, dy, ci, p, co));
    return view(r, [1, 1, ci, co]);
  }
  const simd = !pointwise && ci <= 4 && co % 4 === 0 ? simdKernels(s.backend) : undefined;
  if (simd) {
    // Few input channels (a first layer): one pass over dy with every tap's accumulator in L1,
    // reading a zero-padded copy of x so no tap needs a bounds check.
    const hp = (ho - 1) * sh + (fh - 1) * dh + 1;
    const wp = (wo - 1) * sw + (fw - 1) * dw + 1;
    const xp = s.alloc([x.shape[0], hp, wp, ci]);
    const out = s.alloc([fh, fw, ci, co]);
    const dst = heapF32(s.backend, xp);
    const src = heapF32(s.backend, x);
    dst.fill(0);
    heapF32(s.backend, out).fill(0);
    const rows = Math.min(h, hp - pt);
    const cols = Math.min(w, wp - pl) * ci;
    for (let b = 0; b < x.shape[0]; b++)
      for (let i = 0; i < rows; i++) {
        const from = (b * h + i) * w * ci;
        dst.set(src.subarray(from, from + cols), ((b * hp + i + pt) * wp + pl) * ci);
      }
    const [xpAt, dyAt, outAt] = [heapAddress(s.backend, xp), heapAddress(s.backend, dy), heapAddress(s.backend, out)];
    const pix = ci * 4;
    const step = sw * pix;
    const rowAdvance = (sh * wp - wo * sw) * pix;
    const rowSkip = (hp - ho * sh) * wp * pix;
    if (fh === 3 && fw === 3 && dh === 1 && dw === 1)
      for (let c = 0; c < ci; c++) simd.taps3x3(xpAt, dyAt, outAt, x.shape[0], ho, wo, wp, ci, co * 4, c, rowSkip, step, rowAdvance);
    else simd.tapsOuter(xpAt, dyAt, outAt, x.shape[0], ho, wo, dh * wp * pix, ci, co * 4, fh, fw, rowSkip, step, rowAdvance, dw * pix);
    return s.keep(out);
  }
  if (pointwise || ci * fh * fw < co) return s.keep(im2colFilterGrad(s, x, dy, info));
  if (sh === 1 && sw === 1 && dh === 1 && dw === 1) {
    const pads = [pt, ho + 2 - h - pt, pl, wo + 2 - w - pl];
    if (winogradOptions.filterGrad && winogradApplies(s, x, { ...dy, shape: [fh, fw, ci, co] }, pads, 'filterGrad')) return s.keep(winogradFilterGrad(s, x, dy, pt, pl));
  }
  // The patch matrix is fh*fw times x: above 256 MiB the (leaner) transposed-conv trick runs instead.
  const patchFloats = fh * fw * ci * x.shape[0] * h * w;
  if (sh === 1 && sw === 1 && dh === 1 && dw === 1 && ho === h && wo === w && patchFloats <= MAX_PATCH_FLOATS) return view(s.keep(shiftedPlanesFilterGrad(s, x, dy, info)), [fh, fw, ci, co]);
  // The trick conv must produce at least fh x fw taps; rows past what the forward conv read are
  // cropped from the (small) result instead of the input.
  const pb = Math.max(0, (fh - 1) * dh + (ho - 1) * sh + 1 - h - pt);
  const pr = Math.max(0, (fw - 1) * dw + (wo - 1) * sw + 1 - w - pl);
  const xT = s.call('Transpose', { x }, { perm: [3, 1, 2, 0] });
  const dyT = s.call('Transpose', { x: dy }, { perm: [1, 2, 0, 3] });
  const r = s.call(
    'Conv2D',
    { x: xT, filter: dyT },
    { strides: [dh, dw], dilations: [sh, sw], pad: explicitPad(pt, pb, pl, pr), dataFormat: 'NHWC' },
  );
  const [, rh, rw] = r.shape;
  const out = s.alloc([fh, fw, ci, co]);
  const dst = heapF32(s.backend, out);
  const src = heapF32(s.backend, r);
  for (let i = 0; i < fh; i++) {
    for (let j = 0; j < fw; j++) {
      for (let c = 0; c < ci; c++) {
        const from = ((c * rh + i) * rw + j) * co;
        dst.set(src.subarray(from, from + co), ((i * fw + j) * ci + c) * co);
      }
    }
  }
  return s.keep(out);
}

/**
 * Filter gradient of a stride-1, dilation-1 convolution whose output is the input's size (3x3
 * 'same', the usual hidden conv layer): patchesᵀ [fh*fw*ci, N*H*W] is built from the
 * channel-major input ([ci, N*H*W]) as one shifted copy of each channel plane per tap, with the
 * rows and columns that crossed an image edge zeroed; then dW = patchesᵀ·dy is one XNNPACK product
 * whose [fh*fw*ci, co] result is already the filter layout, packing dy (as the transposed-conv trick
 * does) but without that trick's large-K convolution. Measured on 64x14x14x32 → 64: 23 ms vs 32 ms.
 */
function shiftedPlanesFilterGrad(s: Scratch, x: TensorInfo, dy: TensorInfo, info: tf.backend_util.Conv2DInfo): TensorInfo {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: ci, outChannels: co, filterHeight: fh, filterWidth: fw } = info;
  const pt = info.padInfo.top;
  const pl = info.padInfo.left;
  const plane = n * h * w;
  const patchesT = s.alloc([fh * fw * ci, plane]);
  // The unshifted tap's rows are x channel-major; written by one transpose, the source of the others.
  const centre = pt < fh && pl < fw ? (pt * fw + pl) * ci * plane : -1;
  let xC: TensorInfo | undefined;
  if (centre < 0) xC = transpose(s, x, [3, 0, 1, 2]);
  const dst = heapF32(s.backend, patchesT);
  const src = xC ? heapF32(s.backend, xC) : dst;
  const srcAt = xC ? 0 : centre;
  if (!xC) transposeAt(s.backend, heapAddress(s.backend, x), heapAddress(s.backend, patchesT) + centre * 4, plane, ci);
  for (let i = 0; i < fh; i++) {
    const offH = i - pt;
    // Output rows oy whose source row oy + offH lies outside the image.
    const rowLo = Math.min(h, Math.max(0, -offH));
    const rowHi = Math.max(rowLo, Math.min(h, h - offH));
    for (let j = 0; j < fw; j++) {
      const offW = j - pl;
      const colLo = Math.min(w, Math.max(0, -offW));
      const colHi = Math.max(colLo, Math.min(w, w - offW));
      const shift = offH * w + offW;
      const from = Math.max(0, shift);
      const to = Math.min(plane, Math.max(0, -shift));
      const len = Math.max(0, plane - Math.abs(shift));
      if (shift === 0 && colLo === 0 && colHi === w && rowLo === 0 && rowHi === h && !xC) continue; // the centre tap
      for (let c = 0; c < ci; c++) {
        const row = ((i * fw + j) * ci + c) * plane;
        const at = srcAt + c * plane + from;
        if (len > 0) {
          if (xC) dst.set(src.subarray(at, at + len), row + to);
          else dst.copyWithin(row + to, at, at + len);
        }
        if (shift > 0) dst.fill(0, row + len, row + plane);
        else if (shift < 0) dst.fill(0, row, row + to);
        if (rowLo > 0 || rowHi < h)
          for (let b = 0; b < n; b++) {
            const img = row + b * h * w;
            if (rowLo > 0) dst.fill(0, img, img + rowLo * w);
            if (rowHi < h) dst.fill(0, img + rowHi * w, img + h * w);
          }
        if (colLo > 0 || colHi < w)
          for (let r = row, end = row + plane; r < end; r += w) {
            for (let k = 0; k < colLo; k++) dst[r + k] = 0;
            for (let k = colHi; k < w; k++) dst[r + k] = 0;
          }
      }
    }
  }
  if (xC) s.free(xC);
  return matmul(s, patchesT, dy, fh * fw * ci, plane, co);
}

/**
 * Filter gradient for few input taps (ci*fh*fw < co, e.g. a first layer on 1-3 channels):
 * patches [P, ci*fh*fw] from one depthwise conv with a one-hot filter, then
 * dWᵀ = dyᵀ·patches. XNNPACK packs the right-hand operand of every new product, and here the
 * patches are smaller than dy, which the transposed-conv trick would pack instead.
 */
function im2colFilterGrad(s: Scratch, x: TensorInfo, dy: TensorInfo, info: tf.backend_util.Conv2DInfo): TensorInfo {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: ci, outChannels: co } = info;
  const { strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw, filterHeight: fh, filterWidth: fw } = info;
  const [, ho, wo] = dy.shape;
  const taps = fh * fw;
  const pt = info.padInfo.top;
  const pl = info.padInfo.left;
  const pb = Math.max(0, (ho - 1) * sh + (fh - 1) * dh + 1 - h - pt);
  const pr = Math.max(0, (wo - 1) * sw + (fw - 1) * dw + 1 - w - pl);
  let patches = x; // a 1x1 stride-1 unpadded conv's patches are x itself
  if (taps > 1 || sh > 1 || sw > 1 || pt > 0 || pl > 0 || ho !== h || wo !== w) {
    const oneHot = s.alloc([fh, fw, ci, taps]);
    const oh = heapF32(s.backend, oneHot);
    oh.fill(0);
    for (let t = 0; t < taps; t++) for (let c = 0; c < ci; c++) oh[(t * ci + c) * taps + t] = 1;
    patches = s.call(
      'DepthwiseConv2dNative',
      { x, filter: oneHot },
      { strides: [sh, sw], dilations: [dh, dw], pad: explicitPad(pt, pb, pl, pr), dataFormat: 'NHWC' },
    );
  }
  const p = n * ho * wo;
  const dyT = transpose(s, view(dy, [p, co]), [1, 0]);
  const r = matmul(s, dyT, patches, co, p, ci * taps);
  const out = s.alloc([fh, fw, ci, co]);
  const dst = heapF32(s.backend, out);
  const src = heapF32(s.backend, r);
  const row = ci * taps;
  for (let t = 0; t < taps; t++)
    for (let c = 0; c < ci; c++) {
      const to = (t * ci + c) * co;
      const from = c * taps + t;
      for (let o = 0; o < co; o++) dst[to + o] = src[o * row + from];
    }
  return out;
}

/**
 * Input gradient of a 2-D convolution (dilation 1 in `info`'s filter sense is not required:
 * `info.dilation*` is honoured). `filterForConv` is the flipped filter laid out as the stock
 * kernel needs it; `depthwise` selects DepthwiseConv2dNative instead of Conv2D.
 */
export function convInputGrad(
  s: Scratch,
  dy: TensorInfo,
  flipped: TensorInfo,
  info: tf.backend_util.Conv2DInfo,
  depthwise: boolean,
): TensorInfo {
  const { inHeight: h, inWidth: w, strideHeight: sh, strideWidth: sw } = info;
  const [, ho, wo] = dy.shape;
  const { dilationHeight: dh, dilationWidth: dw, filterHeight: fh, filterWidth: fw } = info;
  const efh = (fh - 1) * dh + 1;
  const efw = (fw - 1) * dw + 1;
  const pt = efh - 1 - info.padInfo.top;
  const pl = efw - 1 - info.padInfo.left;
  const pb = h - ((ho - 1) * sh + 1) - pt + efh - 1;
  const pr = w - ((wo - 1) * sw + 1) - pl + efw - 1;
  const kernel = depthwise ? 'DepthwiseConv2dNative' : 'Conv2D';
  const common = { strides: [1, 1], dilations: [dh, dw], dataFormat: 'NHWC' };
  if (sh === 1 && sw === 1 && pt >= 0 && pb >= 0 && pl >= 0 && pr >= 0) {
    if (!depthwise && dh === 1 && dw === 1 && winogradOptions.forward && winogradApplies(s, dy, flipped, [pt, pb, pl, pr])) return winogradConv(s, dy, flipped, [pt, pb, pl, pr]);
    return s.call(kernel, { x: dy, filter: flipped }, { ...common, pad: explicitPad(pt, pb, pl, pr) });
  }
  const padded = dilateAndPad(s, dy, sh, sw, pt, pb, pl, pr);
  return s.call(kernel, { x: padded, filter: flipped }, { ...common, pad: 'valid' });
}

export function conv2DBackpropFilter({ inputs, backend, attrs }: KernelArgs): TensorInfo {
  const { x, dy } = inputs;
  assertNHWC('Conv2DBackpropFilter', attrs.dataFormat);
  const info = convInfo(x.shape, attrs.filterShape as Shape4, attrs, false);
  // An empty output (input smaller than the filter) has a zero gradient; XNNPACK rejects it.
  if (isEmpty(dy) || isEmpty(x)) return zeroOutput(backend, attrs.filterShape as Shape4);
  return withScratch(backend, (s) => convFilterGrad(s, x, dy, info));
}

export function conv2DBackpropInput({ inputs, backend, attrs }: KernelArgs): TensorInfo {
  const { dy, filter } = inputs;
  assertNHWC('Conv2DBackpropInput', attrs.dataFormat);
  const info = convInfo(attrs.inputShape as Shape4, filter.shape, attrs, false);
  if (isEmpty(dy) || isEmpty(filter)) return zeroOutput(backend, attrs.inputShape as Shape4);
  return withScratch(backend, (s) => {
    if ((info.strideHeight > 1 || info.strideWidth > 1) && info.dilationHeight === 1 && info.dilationWidth === 1) {
      const out = subPixelInputGrad(s, dy, filter, info);
      if (out) return s.keep(out);
    }
    const flipped = flipFilter(s, filter, true);
    return s.keep(convInputGrad(s, dy, flipped, info, false));
  });
}

interface Phase {
  /** First output row/col of this phase, its source index q0, taps T and conv top padding. */
  first: number;
  q0: number;
  count: number;
  taps: number;
  pad: number;
}

/** Rows i = q*s + r - p (0 <= i < size) that phase r of a stride-s transposed conv produces. */
function phaseOf(r: number, s: number, p: number, f: number, size: number): Phase {
  const taps = r < f ? Math.ceil((f - r) / s) : 0;
  const q0 = Math.ceil((p - r) / s);
  const qEnd = Math.floor((size - 1 + p - r) / s);
  return { first: q0 * s + r - p, q0, count: Math.max(0, qEnd - q0 + 1), taps, pad: taps - 1 - q0 };
}

/**
 * Strided input gradient (= conv2dTranspose forward) as s*s stride-1 convolutions, one per output
 * phase, each with the taps of the filter that reach that phase; the results are interleaved into
 * dx. Zero-inserting dy instead would spend (s*s - 1)/(s*s) of the multiply-adds on zeros.
 * Returns undefined when a phase would need negative padding (padding wider than the filter).
 */
function subPixelInputGrad(s: Scratch, dy: TensorInfo, filter: TensorInfo, info: tf.backend_util.Conv2DInfo): TensorInfo | undefined {
  const { batchSize: n, inHeight: h, inWidth: w, strideHeight: sh, strideWidth: sw, filterHeight: fh, filterWidth: fw } = info;
  const [, ho, wo, co] = dy.shape;
  const ci = filter.shape[2];
  const rows = Array.from({ length: sh }, (_, r) => phaseOf(r, sh, info.padInfo.top, fh, h));
  const cols = Array.from({ length: sw }, (_, r) => phaseOf(r, sw, info.padInfo.left, fw, w));
  if ([...rows, ...cols].some((p) => p.taps > 0 && p.count > 0 && p.pad < 0)) return undefined;
  const out = s.alloc([n, h, w, ci]);
  heapF32(s.backend, out).fill(0);
  for (let rh = 0; rh < sh; rh++) {
    const ph = rows[rh];
    if (ph.taps === 0 || ph.count === 0) continue;
    for (let rw = 0; rw < sw; rw++) {
      const pw = cols[rw];
      if (pw.taps === 0 || pw.count === 0) continue;
      // Sub-filter [th, tw, co, ci]: taps r + s*t, reversed, in/out channels swapped.
      const sub = s.alloc([ph.taps, pw.taps, co, ci]);
      const subF = heapF32(s.backend, sub);
      const filt = heapF32(s.backend, filter);
      for (let u = 0; u < ph.taps; u++) {
        const kh = rh + sh * (ph.taps - 1 - u);
        for (let v = 0; v < pw.taps; v++) {
          const kw = rw + sw * (pw.taps - 1 - v);
          const from = (kh * fw + kw) * ci * co;
          const to = (u * pw.taps + v) * co * ci;
          for (let a = 0; a < ci; a++) for (let b = 0; b < co; b++) subF[to + b * ci + a] = filt[from + a * co + b];
        }
      }
      const bottom = Math.max(0, ph.count - ho - ph.pad + ph.taps - 1);
      const right = Math.max(0, pw.count - wo - pw.pad + pw.taps - 1);
      const part = s.call('Conv2D', { x: dy, filter: sub }, { strides: [1, 1], dilations: [1, 1], pad: explicitPad(ph.pad, bottom, pw.pad, right), dataFormat: 'NHWC' });
      const [, partH, partW] = part.shape;
      const dst = heapF32(s.backend, out);
      const got = heapF32(s.backend, part);
      for (let b = 0; b < n; b++)
        for (let q = 0; q < ph.count; q++) {
          const i = ph.first + q * sh;
          for (let q2 = 0; q2 < pw.count; q2++) {
            const j = pw.first + q2 * sw;
            const from = ((b * partH + q) * partW + q2) * ci;
            const to = ((b * h + i) * w + j) * ci;
            if (ci >= 16) dst.set(got.subarray(from, from + ci), to);
            else for (let c = 0; c < ci; c++) dst[to + c] = got[from + c];
          }
        }
      s.free(part);
      s.free(sub);
    }
  }
  return out;
}
