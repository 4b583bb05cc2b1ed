/**
 * Adam with the whole per-variable update in one kernel call on wasm.
 *
 * tfjs's AdamOptimizer issues ~12 element-wise kernels per variable per step, each with engine
 * bookkeeping and a fresh output buffer; on the reference CNN that is a sixth of a training step.
 * Here one pass over the wasm heap updates both moments in place and writes the new value, which
 * is then assigned to the variable (a new buffer each step: XNNPACK caches packed weights by
 * buffer id, so variables must never be mutated in place). Other backends run the same formula
 * with tf ops. Same maths and defaults as tf.train.adam.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { heapAddress, simdKernels } from './simd.ts';

const KERNEL = 'DlflowFusedAdamUpdate';

interface NamedTensor {
  name: string;
  tensor: tf.Tensor;
}

interface Slot {
  name: string;
  m: tf.Variable;
  v: tf.Variable;
}

function fusedAdamKernel({
  inputs,
  backend,
  attrs,
}: {
  inputs: Record<string, tf.TensorInfo>;
  backend: BackendWasm;
  attrs: Record<string, unknown>;
}): tf.TensorInfo {
  const { x, g, m, v } = inputs;
  for (const [name, t] of Object.entries({ x, g, m, v }))
    if (t.dtype !== 'float32') throw new Error(`FusedAdam: ${name} must be float32, got ${t.dtype}`);
  const lr = attrs.learningRate as number;
  const b1 = attrs.beta1 as number;
  const b2 = attrs.beta2 as number;
  const eps = attrs.epsilon as number;
  const k1 = attrs.firstCorrection as number;
  const k2 = attrs.secondCorrection as number;
  const out = backend.makeOutput([...x.shape], 'float32') as tf.TensorInfo;
  // Views only after makeOutput: an allocation may grow (and so replace) the heap buffer.
  const o = backend.typedArrayFromHeap(out) as Float32Array;
  const xs = backend.typedArrayFromHeap(x) as Float32Array;
  const gs = backend.typedArrayFromHeap(g) as Float32Array;
  const ms = backend.typedArrayFromHeap(m) as Float32Array;
  const vs = backend.typedArrayFromHeap(v) as Float32Array;
  const c1 = 1 - b1;
  const c2 = 1 - b2;
  const n = o.length;
  // SIMD over the multiple-of-4 prefix, JS for the rest.
  const simd = n >= 4 ? simdKernels(backend) : undefined;
  const head = simd ? n - (n % 4) : 0;
  if (simd) {
    const at = (t: tf.TensorInfo) => heapAddress(backend, t);
    simd.adam(at(x), at(g), at(m), at(v), at(out), head * 4, lr, b1, b2, eps, k1, k2);
  }
  for (let i = head; i < n; i++) {
    const gi = gs[i];
    const mi = b1 * ms[i] + c1 * gi;
    const vi = b2 * vs[i] + c2 * gi * gi;
    ms[i] = mi;
    vs[i] = vi;
    o[i] = xs[i] - (lr * mi * k1) / (Math.sqrt(vi * k2) + eps);
  }
  return out;
}

function ensureKernel(): void {
  if (tf.getKernel(KERNEL, 'wasm')) return;
  tf.registerKernel({ kernelName: KERNEL, backendName: 'wasm', kernelFunc: fusedAdamKernel as unknown as tf.KernelFunc });
}

/** Adam (same update and defaults as `tf.train.adam`) with a fused per-variable update on wasm. */
export class FusedAdam extends tf.Optimizer {
  static get className(): string {
    return 'FusedAdam';
  }
  private readonly slots = new Map<string, Slot>();
  private step = 0;

  constructor(
    readonly learningRate = 0.001,
    readonly beta1 = 0.9,
    readonly beta2 = 0.999,
    readonly epsilon: number | null = null,
  ) {
    super();
    ensureKernel();
  }

  private slotFor(name: string, variable: tf.Variable): Slot {
    let slot = this.slots.get(name);
    if (!slot) {
      slot = tf.tidy(() => ({
        name,
        m: tf.variable(tf.zerosLike(variable), false),
        v: tf.variable(tf.zerosLike(variable), false),
      }));
      this.slots.set(name, slot);
    }
    return slot;
  }

  override applyGradients(variableGradients: tf.NamedTensorMap | NamedTensor[]): void {
    const entries: [string, tf.Tensor][] = Array.isArray(variableGradients)
      ? variableGradients.map((v) => [v.name, v.tensor])
      : Object.entries(variableGradients);
    this.step++;
    const eps = this.epsilon ?? tf.backend().epsilon();
    const firstCorrection = 1 / (1 - this.beta1 ** this.step);
    const secondCorrection = 1 / (1 - this.beta2 ** this.step);
    const onWasm = tf.getBackend() === 'wasm';
    for (const [name, grad] of entries) {
      if (grad == null) continue;
      const variable = tf.engine().registeredVariables[name];
      if (!variable) throw new Error(`FusedAdam: no variable named "${name}" to update`);
      const slot = this.slotFor(name, variable);
      if (onWasm && variable.dtype === 'float32') {
        // The moments are updated in place: give them a private buffer if anything shares it.
        for (const key of ['m', 'v'] as const)
          if (tf.backend().refCount(slot[key].dataId) > 1) {
            const copy = tf.tidy(() => slot[key].add(0));
            slot[key].assign(copy);
            copy.dispose();
          }
        const next = tf.engine().runKernel(
          KERNEL,
          { x: variable, g: grad, m: slot.m, v: slot.v },
          {
            learningRate: this.learningRate,
            beta1: this.beta1,
            beta2: this.beta2,
            epsilon: eps,
            firstCorrection,
            secondCorrection,
          },
        ) as tf.Tensor;
        variable.assign(next);
        next.dispose();
        continue;
      }
      tf.tidy(() => {
        const m = slot.m.mul(this.beta1).add(grad.mul(1 - this.beta1));
        const v = slot.v.mul(this.beta2).add(grad.square().mul(1 - this.beta2));
        slot.m.assign(m);
        slot.v.assign(v);
        const update = m.mul(firstCorrection).div(v.mul(secondCorrection).sqrt().add(eps)).mul(this.learningRate);
        variable.assign(variable.sub(update));
      });
    }
    this.incrementIterations();
  }

  override dispose(): void {
    for (const slot of this.slots.values()) tf.dispose([slot.m, slot.v]);
    this.slots.clear();
  }

  override async getWeights(): Promise<NamedTensor[]> {
    const weights: NamedTensor[] = [await this.saveIterations()];
    for (const slot of this.slots.values())
      weights.push({ name: `${slot.name}/m`, tensor: slot.m }, { name: `${slot.name}/v`, tensor: slot.v });
    return weights;
  }

  override async setWeights(weightValues: NamedTensor[]): Promise<void> {
    const rest = await this.extractIterations(weightValues);
    this.step = this.iterations;
    this.dispose();
    for (let i = 0; i + 1 < rest.length; i += 2) {
      const name = rest[i].name.replace(/\/m$/, '');
      this.slots.set(name, { name, m: tf.variable(rest[i].tensor, false), v: tf.variable(rest[i + 1].tensor, false) });
    }
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { learningRate: this.learningRate, beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon };
  }

  static override fromConfig<T extends tf.serialization.Serializable>(
    cls: tf.serialization.SerializableConstructor<T>,
    config: tf.serialization.ConfigDict,
  ): T {
    return new cls(config.learningRate, config.beta1, config.beta2, config.epsilon);
  }
}

tf.serialization.registerClass(FusedAdam);
