/**
 * Transpose for the wasm backend. The stock kernel moves one element at a time (~3.4 ns per
 * float here); most transposes in training swap two groups of axes ([N*H*W, C] → [C, N*H*W],
 * the last two axes of a batched matrix), which is a (batched) 2-D transpose: 4x4 SIMD blocks
 * do it at a fraction of the cost. Other permutations and dtypes go to the stock kernel.
 */
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { callKernel, heapAddress, type KernelArgs, type Scratch, type TensorInfo } from './kernel-utils.ts';
import { simdKernels } from './simd.ts';

/** Below this many elements the stock kernel's per-call cost is lower. */
const MIN_ELEMENTS = 256;

interface GroupSwap {
  batch: number;
  rows: number;
  cols: number;
}

/**
 * perm = [0..p-1, q..r-1, p..q-1] (keep p leading axes, swap the groups [p,q) and [q,r)) as
 * batch x [rows, cols] → [cols, rows]; undefined for any other permutation.
 */
export function groupSwap(shape: readonly number[], perm: readonly number[]): GroupSwap | undefined {
  const r = shape.length;
  if (perm.length !== r) return undefined;
  let p = 0;
  while (p < r && perm[p] === p) p++;
  if (p === r) return undefined;
  const q = perm[p];
  if (q <= p) return undefined;
  for (let k = 0; k < r - q; k++) if (perm[p + k] !== q + k) return undefined;
  for (let k = 0; k < q - p; k++) if (perm[p + (r - q) + k] !== p + k) return undefined;
  const prod = (from: number, to: number) => shape.slice(from, to).reduce((a, b) => a * b, 1);
  return { batch: prod(0, p), rows: prod(p, q), cols: prod(q, r) };
}

/** The transpose of `x` by `perm` as a new tensor the caller owns. */
export function transposeInfo(backend: BackendWasm, x: TensorInfo, perm: number[]): TensorInfo {
  const swap = x.dtype === 'float32' || x.dtype === 'int32' ? groupSwap(x.shape, perm) : undefined;
  const simd = swap && swap.rows >= 4 && swap.cols >= 4 && swap.batch * swap.rows * swap.cols >= MIN_ELEMENTS ? simdKernels(backend) : undefined;
  if (!swap || !simd) return callKernel(backend, 'Transpose', { x }, { perm });
  const out = backend.makeOutput(
    perm.map((a) => x.shape[a]),
    x.dtype,
  ) as TensorInfo;
  const { batch, rows, cols } = swap;
  const src = heapAddress(backend, x);
  const dst = heapAddress(backend, out);
  for (let b = 0; b < batch; b++) transposeAt(backend, src + b * rows * cols * 4, dst + b * rows * cols * 4, rows, cols);
  return out;
}

/**
 * Writes the transpose of the 32-bit [rows, cols] matrix at byte address `src` to `dst` (both on
 * the wasm heap, not overlapping): SIMD 4x4 blocks, then the ragged edge element by element.
 * `dstRow` is the distance in elements between destination rows (default `rows`: a plain
 * transpose; larger writes the result as a block of a wider matrix).
 */
export function transposeAt(backend: BackendWasm, src: number, dst: number, rows: number, cols: number, dstRow = rows): void {
  const simd = simdKernels(backend);
  const rows4 = simd ? rows & ~3 : 0;
  const cols4 = simd ? cols & ~3 : 0;
  if (simd && rows4 >= 4 && cols4 >= 4) simd.transpose4(src, dst, rows, cols, rows4, cols4, dstRow * 4);
  if (rows4 === rows && cols4 === cols) return;
  const heap = (backend.wasm as unknown as { HEAP32: Int32Array }).HEAP32;
  const si = src >> 2;
  const di = dst >> 2;
  for (let i = 0; i < rows; i++) {
    const from = i < rows4 && cols4 >= 4 ? cols4 : 0;
    for (let j = from; j < cols; j++) heap[di + j * dstRow + i] = heap[si + i * cols + j];
  }
}

/** Scratch-tracked transpose for use inside other kernels. */
export function transpose(s: Scratch, x: TensorInfo, perm: number[]): TensorInfo {
  return s.track(transposeInfo(s.backend, x, perm));
}

export function transposeKernel({ inputs, backend, attrs }: KernelArgs): TensorInfo {
  return transposeInfo(backend, inputs.x, attrs.perm as number[]);
}
