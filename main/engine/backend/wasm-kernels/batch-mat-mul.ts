/**
 * BatchMatMul for the wasm backend.
 *
 * Products that suit it run on dlflow's SIMD GEMM (gemm.ts), which reads both operands in place:
 * no XNNPACK repacking of a fresh right-hand operand (weights change every step). The rest:
 *
 * The stock kernel drops to a scalar loop when transposeA or transposeB is set (every dense
 * layer's backward pass), so transposes are materialised with the SIMD Transpose and the
 * fast untransposed product runs instead. For a single (unbatched) product there is a second
 * choice: XNNPACK packs the right-hand operand anew whenever its buffer is new (every training
 * step, since variables get a new buffer on each update), and packing costs ~4x a (SIMD) transpose
 * per element. So C = A·B may instead be computed as (Bᵀ·Aᵀ)ᵀ when that packs the smaller operand
 * (dX = dY·Wᵀ packs dYᵀ instead of Wᵀ; a dense layer's forward X·W with a large fresh W packs Xᵀ).
 * An operand already packed once (same buffer, e.g. weights at inference) is assumed cached and free.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { gemmAt, gemmSuits } from './gemm.ts';
import { emptyProduct } from './empty-safe.ts';
import { callKernel, heapAddress, isEmpty, type KernelArgs, type Scratch, type TensorInfo, view, withScratch } from './kernel-utils.ts';
import { transpose } from './transpose.ts';

const TRANSPOSE_COST = 1;
const PACK_COST = 4;
const packedBefore = new WeakSet<object>();

function transposeLastTwo(s: Scratch, t: TensorInfo): TensorInfo {
  const rank = t.shape.length;
  const rows = t.shape[rank - 2];
  const cols = t.shape[rank - 1];
  const outer = t.shape.slice(0, -2);
  const batch = outer.reduce((x, y) => x * y, 1);
  const tT = transpose(s, view(t, [batch, rows, cols]), [0, 2, 1]);
  return view(tT, [...outer, cols, rows]);
}

const prod = (dims: number[]) => dims.reduce((x, y) => x * y, 1);

/**
 * op(A)·op(B) by the SIMD GEMM (gemm.ts: no packing), per batch; transposed operands are
 * materialised first by the SIMD transpose. Batches must match or one side has a single one
 * (broadcast). Undefined where the shapes do not suit it (the other paths below run instead).
 */
function gemmProduct(backend: BackendWasm, a: TensorInfo, b: TensorInfo, tA: boolean, tB: boolean): TensorInfo | undefined {
  const [aR, aC] = a.shape.slice(-2);
  const [bR, bC] = b.shape.slice(-2);
  const m = tA ? aC : aR;
  const k = tA ? aR : aC;
  const n = tB ? bR : bC;
  if ((tB ? bC : bR) !== k || !gemmSuits(backend, m, k, n)) return undefined;
  const outerA = a.shape.slice(0, -2);
  const outerB = b.shape.slice(0, -2);
  const batchA = prod(outerA);
  const batchB = prod(outerB);
  const same = outerA.length === outerB.length && outerA.every((d, i) => d === outerB[i]);
  if (!same && batchA !== 1 && batchB !== 1) return undefined;
  const outer = batchA === 1 && !same ? outerB : outerA.length >= outerB.length ? outerA : outerB;
  const batch = Math.max(batchA, batchB);
  return withScratch(backend, (s) => {
    const left = tA ? transposeLastTwo(s, a) : a;
    const right = tB ? transposeLastTwo(s, b) : b;
    const out = backend.makeOutput([...outer, m, n], 'float32') as TensorInfo;
    const [la, rb, oc] = [heapAddress(backend, left), heapAddress(backend, right), heapAddress(backend, out)];
    for (let i = 0; i < batch; i++)
      gemmAt(backend, la + (batchA === 1 ? 0 : i * m * k * 4), rb + (batchB === 1 ? 0 : i * k * n * 4), oc + i * m * n * 4, m, k, n);
    return out;
  });
}

export function batchMatMul({
  inputs,
  backend,
  attrs,
}: KernelArgs): TensorInfo {
  const { a, b } = inputs;
  const tA = Boolean(attrs.transposeA);
  const tB = Boolean(attrs.transposeB);
  const plain = { transposeA: false, transposeB: false };
  if (a.dtype !== 'float32' || b.dtype !== 'float32' || a.shape.length < 2 || b.shape.length < 2)
    return callKernel(backend, 'BatchMatMul', { a, b }, { ...attrs });
  const outerA = a.shape.slice(0, -2);
  const outerB = b.shape.slice(0, -2);
  if (isEmpty(a) || isEmpty(b)) {
    // XNNPACK rejects an empty inner dimension and leaves the output uninitialised.
    const [aR, aC] = a.shape.slice(-2);
    const [bR, bC] = b.shape.slice(-2);
    const k = tA ? aR : aC;
    if (k === (tB ? bC : bR)) {
      const outer = tf.backend_util.assertAndGetBroadcastShape(outerA, outerB);
      const empty = emptyProduct(backend, [...outer, tA ? aC : aR, tB ? bR : bC], k);
      if (empty) return empty;
    }
  }
  const viaGemm = gemmProduct(backend, a, b, tA, tB);
  if (viaGemm) return viaGemm;
  if (prod(outerA) !== 1 || prod(outerB) !== 1) {
    if (!tA && !tB) return callKernel(backend, 'BatchMatMul', { a, b }, { ...attrs });
    return withScratch(backend, (s) =>
      callKernel(backend, 'BatchMatMul', { a: tA ? transposeLastTwo(s, a) : a, b: tB ? transposeLastTwo(s, b) : b }, plain),
    );
  }
  const [aR, aC] = a.shape.slice(-2);
  const [bR, bC] = b.shape.slice(-2);
  const m = tA ? aC : aR;
  const k = tA ? aR : aC;
  const n = tB ? bR : bC;
  if ((tA ? aR : aC) !== (tB ? bC : bR))
    return callKernel(backend, 'BatchMatMul', { a, b }, { ...attrs }); // let the stock kernel report the mismatch
  const outer = outerA.length >= outerB.length ? outerA : outerB;
  const outShape = [...outer, m, n];
  const sizeA = m * k;
  const sizeB = k * n;
  const direct =
    (tA ? TRANSPOSE_COST * sizeA : 0) +
    (tB ? TRANSPOSE_COST * sizeB : 0) +
    (!tB && packedBefore.has(b.dataId) ? 0 : PACK_COST * sizeB);
  const swapped =
    (tB ? 0 : TRANSPOSE_COST * sizeB) +
    (tA ? 0 : TRANSPOSE_COST * sizeA) +
    (tA && packedBefore.has(a.dataId) ? 0 : PACK_COST * sizeA) +
    TRANSPOSE_COST * m * n;
  return withScratch(backend, (s) => {
    const a2 = view(a, [aR, aC]);
    const b2 = view(b, [bR, bC]);
    if (direct <= swapped) {
      if (!tB) packedBefore.add(b.dataId);
      const left = tA ? transposeLastTwo(s, a2) : a2;
      const right = tB ? transposeLastTwo(s, b2) : b2;
      const out = callKernel(backend, 'BatchMatMul', { a: left, b: right }, plain);
      return { ...out, shape: outShape };
    }
    // Cᵀ = op(B)ᵀ · op(A)ᵀ: op(B)ᵀ is B itself when tB, op(A)ᵀ is A itself when tA.
    if (tA) packedBefore.add(a.dataId);
    const left = tB ? b2 : transposeLastTwo(s, b2);
    const right = tA ? a2 : transposeLastTwo(s, a2);
    const cT = s.call('BatchMatMul', { a: left, b: right }, plain);
    const c = s.keep(transpose(s, view(cT, [n, m]), [1, 0]));
    return view(c, outShape);
  });
}
