/**
 * Shared plumbing for the wasm training kernels: calling stock wasm kernels on TensorInfos,
 * freeing intermediates, and reading/writing the wasm heap directly.
 *
 * These kernels rely on tfjs-backend-wasm 4.22.0 internals (`dataIdMap`, `makeOutput`,
 * `typedArrayFromHeap`, Reshape sharing the dataId); package.json pins that version.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

export type TensorInfo = tf.TensorInfo;
export type Attrs = Record<string, unknown>;
export type Inputs = Record<string, TensorInfo>;
export type Shape4 = [number, number, number, number];
/** What a registered kernel function receives. */
export interface KernelArgs {
  inputs: Inputs;
  backend: BackendWasm;
  attrs: Attrs;
}
type RawKernelFunc = (args: { inputs: Inputs; backend: BackendWasm; attrs?: Attrs }) => TensorInfo | TensorInfo[];

const stockKernels = new Map<string, tf.KernelConfig>();

/**
 * The stock wasm kernel `name`, captured the first time it is asked for — so a stock kernel we
 * later replace with `tf.registerKernel` stays callable by our replacement.
 */
export function stockKernel(name: string): tf.KernelConfig {
  let config = stockKernels.get(name);
  if (!config) {
    config = tf.getKernel(name, 'wasm');
    if (!config) throw new Error(`wasm training kernels: the wasm backend has no "${name}" kernel (tfjs-backend-wasm must be 4.22.0)`);
    stockKernels.set(name, config);
  }
  return config;
}

/** Runs a stock wasm kernel on TensorInfos; the caller owns (and must free) the result. */
export function callKernel(backend: BackendWasm, name: string, inputs: Inputs, attrs: Attrs = {}): TensorInfo {
  const fn = stockKernel(name).kernelFunc as unknown as RawKernelFunc;
  const out = fn({ inputs, backend, attrs });
  return Array.isArray(out) ? out[0] : out;
}

/**
 * Tracks intermediates made inside one kernel call so they are freed in a `finally`, also when
 * something throws half-way. `keep` hands one of them to the caller instead.
 */
export class Scratch {
  private readonly owned: TensorInfo[] = [];
  private readonly borrowed: TensorInfo[] = [];
  constructor(readonly backend: BackendWasm) {}

  /**
   * A tensor over part of `info`'s memory (from float `offset`, `shape`), registered with a
   * fresh id so stock kernels can read or write a slice in place; unregistered (never freed) at
   * dispose. A fresh id matters: XNNPACK caches packed right-hand operands by tensor id.
   */
  borrow(info: TensorInfo, offset: number, shape: number[]): TensorInfo {
    const at = heapAddress(this.backend, info) + offset * 4;
    const out = this.backend.makeOutput(shape, 'float32', at) as TensorInfo;
    this.borrowed.push(out);
    return out;
  }

  /** Runs a stock kernel and tracks its output. */
  call(name: string, inputs: Inputs, attrs: Attrs = {}): TensorInfo {
    return this.track(callKernel(this.backend, name, inputs, attrs));
  }

  /** Allocates an uninitialised float32 buffer on the wasm heap and tracks it. */
  alloc(shape: number[]): TensorInfo {
    return this.track(this.backend.makeOutput(shape, 'float32') as TensorInfo);
  }

  track(info: TensorInfo): TensorInfo {
    this.owned.push(info);
    return info;
  }

  /** Stops tracking `info`: the caller now owns it (typically the kernel's result). */
  keep(info: TensorInfo): TensorInfo {
    const at = this.owned.indexOf(info);
    if (at >= 0) this.owned.splice(at, 1);
    return info;
  }

  /** Frees one tracked intermediate early (large temporaries inside a loop). */
  free(info: TensorInfo): void {
    const at = this.owned.indexOf(info);
    if (at >= 0) this.owned.splice(at, 1);
    this.backend.disposeData(info.dataId);
  }

  dispose(): void {
    for (const info of this.borrowed) {
      const data = this.backend.dataIdMap.get(info.dataId) as unknown as { id: number } | undefined;
      if (!data) continue;
      this.backend.wasm.tfjs.disposeData(data.id);
      this.backend.dataIdMap.delete(info.dataId);
    }
    this.borrowed.length = 0;
    for (const info of this.owned) this.backend.disposeData(info.dataId);
    this.owned.length = 0;
  }
}

/** Runs `body` with a Scratch that is always disposed afterwards. */
export function withScratch<T>(backend: BackendWasm, body: (s: Scratch) => T): T {
  const scratch = new Scratch(backend);
  try {
    return body(scratch);
  } finally {
    scratch.dispose();
  }
}

/** Same data, another shape, no refCount change: only for use while the owner is alive. */
export function view(info: TensorInfo, shape: number[]): TensorInfo {
  return { dataId: info.dataId, shape, dtype: info.dtype };
}

export const isEmpty = (info: TensorInfo) => info.shape.some((d) => d === 0);

/**
 * A new float32 output filled with zeros: the gradient where the forward output was empty (an
 * input smaller than the filter). XNNPACK must not be called on empty tensors: it writes past them.
 */
export function zeroOutput(backend: BackendWasm, shape: number[]): TensorInfo {
  const out = backend.makeOutput(shape, 'float32') as TensorInfo;
  if (!isEmpty(out)) heapF32(backend, out).fill(0);
  return out;
}

/** Byte address of a tensor's data on the wasm heap. */
export function heapAddress(backend: BackendWasm, info: { dataId: object }): number {
  return (backend.dataIdMap.get(info.dataId) as unknown as { memoryOffset: number }).memoryOffset;
}

/** A live Float32Array over a tensor's wasm memory. Re-fetch after any allocation (the heap may grow). */
export function heapF32(backend: BackendWasm, info: TensorInfo): Float32Array {
  if (info.dtype !== 'float32') throw new Error(`wasm training kernels: expected a float32 tensor, got ${info.dtype}`);
  return backend.typedArrayFromHeap(info) as Float32Array;
}

export function pair(v: number | [number, number] | undefined, fallback = 1): [number, number] {
  if (v == null) return [fallback, fallback];
  return typeof v === 'number' ? [v, v] : [v[0], v[1]];
}

export function assertNHWC(kernel: string, dataFormat: unknown): void {
  if (dataFormat != null && dataFormat !== 'NHWC' && dataFormat !== 'channelsLast')
    throw new Error(`wasm backend ${kernel} supports only NHWC (channelsLast) data, got dataFormat "${String(dataFormat)}"`);
}

/** Explicit 4-D padding attr for the stock conv kernels. */
export function explicitPad(top: number, bottom: number, left: number, right: number): [[number, number], [number, number], [number, number], [number, number]] {
  return [
    [0, 0],
    [top, bottom],
    [left, right],
    [0, 0],
  ];
}

/**
 * Writes `x` [N,H,W,C] into a new zeroed buffer with (strideH-1, strideW-1) zeros between
 * pixels and the given padding on each side (negative padding crops). This turns a strided
 * transposed convolution into a plain stride-1 convolution.
 */
export function dilateAndPad(
  s: Scratch,
  x: TensorInfo,
  strideH: number,
  strideW: number,
  top: number,
  bottom: number,
  left: number,
  right: number,
): TensorInfo {
  const [n, h, w, c] = x.shape;
  const outH = (h - 1) * strideH + 1 + top + bottom;
  const outW = (w - 1) * strideW + 1 + left + right;
  if (outH <= 0 || outW <= 0) throw new Error(`wasm training kernels: empty padded tensor (${outH}x${outW})`);
  const out = s.alloc([n, outH, outW, c]);
  const dst = heapF32(s.backend, out);
  const src = heapF32(s.backend, x);
  dst.fill(0);
  for (let b = 0; b < n; b++) {
    for (let i = 0; i < h; i++) {
      const oi = i * strideH + top;
      if (oi < 0 || oi >= outH) continue;
      for (let j = 0; j < w; j++) {
        const oj = j * strideW + left;
        if (oj < 0 || oj >= outW) continue;
        const from = ((b * h + i) * w + j) * c;
        const to = ((b * outH + oi) * outW + oj) * c;
        if (c >= 16) dst.set(src.subarray(from, from + c), to);
        else for (let k = 0; k < c; k++) dst[to + k] = src[from + k];
      }
    }
  }
  return out;
}

/** Pooling geometry from a pool kernel's attrs (filterSize, strides, pad, dimRoundingMode), NHWC. */
export function poolInfo(xShape: readonly number[], attrs: Attrs): tf.backend_util.Conv2DInfo {
  return tf.backend_util.computePool2DInfo(
    xShape as Shape4,
    attrs.filterSize as number | [number, number],
    attrs.strides as number | [number, number],
    1,
    attrs.pad as 'valid' | 'same' | number,
    attrs.dimRoundingMode as 'floor' | 'round' | 'ceil' | undefined,
  );
}

/**
 * Conv geometry from a conv kernel's attrs (strides, dilations, pad, dimRoundingMode), NHWC.
 * One place, so the forward fixes and both gradient kernels agree on padding and rounding.
 */
export function convInfo(
  xShape: readonly number[],
  filterShape: readonly number[],
  attrs: Attrs,
  depthwise: boolean,
  dimRoundingMode = attrs.dimRoundingMode as 'floor' | 'round' | 'ceil' | undefined,
): tf.backend_util.Conv2DInfo {
  return tf.backend_util.computeConv2DInfo(
    xShape as Shape4,
    filterShape as Shape4,
    attrs.strides as number | [number, number],
    pair(attrs.dilations as number | [number, number] | undefined),
    attrs.pad as 'valid' | 'same' | number | tf.backend_util.ExplicitPadding,
    dimRoundingMode,
    depthwise,
    'channelsLast',
  );
}
