/**
 * BatchMatMul for the wasm backend: the stock kernel drops to a scalar loop when transposeA or
 * transposeB is set (every dense layer's backward pass), so materialise the transpose with the
 * stock Transpose kernel first and run the fast untransposed product.
 */
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { callKernel, type TensorInfo, view, withScratch } from './kernel-utils.ts';

function transposeLastTwo(s: import('./kernel-utils.ts').Scratch, t: TensorInfo): TensorInfo {
  const rank = t.shape.length;
  const rows = t.shape[rank - 2];
  const cols = t.shape[rank - 1];
  const outer = t.shape.slice(0, -2);
  const batch = outer.reduce((a, b) => a * b, 1);
  const tT = s.call('Transpose', { x: view(t, [batch, rows, cols]) }, { perm: [0, 2, 1] });
  return view(tT, [...outer, cols, rows]);
}

export function batchMatMul({
  inputs,
  backend,
  attrs,
}: {
  inputs: Record<string, TensorInfo>;
  backend: BackendWasm;
  attrs: Record<string, unknown>;
}): TensorInfo {
  const { a, b } = inputs;
  const transposeA = Boolean(attrs.transposeA);
  const transposeB = Boolean(attrs.transposeB);
  const plain = { transposeA: false, transposeB: false };
  if ((!transposeA && !transposeB) || a.dtype !== 'float32' || b.dtype !== 'float32')
    return callKernel(backend, 'BatchMatMul', { a, b }, { ...attrs });
  return withScratch(backend, (s) => {
    const a2 = transposeA ? transposeLastTwo(s, a) : a;
    const b2 = transposeB ? transposeLastTwo(s, b) : b;
    return callKernel(backend, 'BatchMatMul', { a: a2, b: b2 }, plain);
  });
}
