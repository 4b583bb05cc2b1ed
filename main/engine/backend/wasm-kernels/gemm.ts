/**
 * Matrix products for the wasm training kernels without XNNPACK's weight packing.
 *
 * The stock BatchMatMul hands the right-hand operand to XNNPACK, which repacks it whenever its
 * buffer is new: ~8 ns per float here, i.e. every training step for weights and always for
 * gradients and transform planes. A 4x8 register-tiled SIMD loop (simd.ts `gemm4x8`) reading B
 * in place reaches the same 9-13 GMAC/s as XNNPACK's micro-kernels on this machine, so products
 * whose operands are fresh run here; the ragged edge (rows past a multiple of 4, columns past a
 * multiple of 8) is finished in JS, and shapes where that edge would be most of the work go to
 * the stock kernel.
 */
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { heapAddress, type Scratch, type TensorInfo, view } from './kernel-utils.ts';
import { simdKernels } from './simd.ts';

/** Whether `gemmAt` runs an [m,k]·[k,n] product mostly in SIMD. */
export function gemmSuits(backend: BackendWasm, m: number, k: number, n: number): boolean {
  if (m < 4 || n < 8 || k < 1 || !simdKernels(backend)) return false;
  const m4 = m & ~3;
  const n8 = n & ~7;
  // The JS edge costs ~10x per multiply-add: keep it under ~1/4 of the SIMD part's time.
  return (m * n - m4 * n8) * 10 <= m4 * n8 * 2.5;
}

/**
 * C (+)= A·B on the wasm heap at byte addresses a [m, k], b [k, n], c [m, n] (row-major, leading
 * dimensions lda/ldb/ldc in elements). Only call where `gemmSuits`.
 */
export function gemmAt(
  backend: BackendWasm,
  a: number,
  b: number,
  c: number,
  m: number,
  k: number,
  n: number,
  opts: { lda?: number; ldb?: number; ldc?: number; accumulate?: boolean } = {},
): void {
  const { lda = k, ldb = n, ldc = n, accumulate = false } = opts;
  const m4 = m & ~3;
  const n8 = n & ~7;
  simdKernels(backend)!.gemm4x8(a, b, c, m4, n8, k, lda, ldb, ldc, accumulate ? 1 : 0);
  if (m4 === m && n8 === n) return;
  const heap = (backend.wasm as unknown as { HEAPF32: Float32Array }).HEAPF32;
  const ai = a >> 2;
  const bi = b >> 2;
  const ci = c >> 2;
  for (let i = 0; i < m; i++) {
    const from = i < m4 ? n8 : 0;
    if (from >= n) continue;
    for (let j = from; j < n; j++) {
      let sum = accumulate ? heap[ci + i * ldc + j] : 0;
      for (let p = 0; p < k; p++) sum += heap[ai + i * lda + p] * heap[bi + p * ldb + j];
      heap[ci + i * ldc + j] = sum;
    }
  }
}

/**
 * C = A·B for float32 [m,k] and [k,n] tensors (any shape with those sizes): the SIMD loop where
 * it suits, else the stock kernel. The result ([m, n]) is tracked by `s`.
 */
export function matmul(s: Scratch, a: TensorInfo, b: TensorInfo, m: number, k: number, n: number): TensorInfo {
  if (!gemmSuits(s.backend, m, k, n))
    return s.call('BatchMatMul', { a: view(a, [m, k]), b: view(b, [k, n]) }, { transposeA: false, transposeB: false });
  const c = s.alloc([m, n]);
  gemmAt(s.backend, heapAddress(s.backend, a), heapAddress(s.backend, b), heapAddress(s.backend, c), m, k, n);
  return c;
}
