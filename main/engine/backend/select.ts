/** Picks the fastest TensorFlow.js backend this machine has, and says why better ones were skipped. */
import * as tf from '@tensorflow/tfjs';
import type { BackendInfo } from '../../protocol/index.ts';
import { UserError } from '../errors.ts';

/** Backend names accepted by `--backend` / `DLFLOW_BACKEND`, best first. */
export const BACKEND_NAMES = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

const PACKAGES: Partial<Record<BackendName, string>> = {
  'tensorflow-gpu': '@tensorflow/tfjs-node-gpu',
  tensorflow: '@tensorflow/tfjs-node',
};

let selected: BackendInfo | undefined;

function reasonOf(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  if (/Cannot find (package|module)/i.test(text)) return 'not installed (optional dependency; its install downloads libtensorflow)';
  return text.split('\n')[0].slice(0, 200);
}

async function tryBackend(name: BackendName): Promise<void> {
  const pkg = PACKAGES[name];
  if (pkg) {
    // Loading tfjs-node registers the native `tensorflow` backend with the shared tfjs-core.
    await import(/* @vite-ignore */ pkg);
    if (!(await tf.setBackend('tensorflow'))) throw new Error('the native backend failed to initialise');
    return;
  }
  if (name === 'wasm') {
    await import('@tensorflow/tfjs-backend-wasm');
    if (!(await tf.setBackend('wasm'))) throw new Error('the wasm backend failed to initialise');
    const kernels = await import('./wasm-kernels/index.ts').catch(() => undefined);
    kernels?.registerWasmTrainingKernels();
    return;
  }
  if (!(await tf.setBackend('cpu'))) throw new Error('the cpu backend failed to initialise');
}

/**
 * Selects a backend once per process. `force` (or env DLFLOW_BACKEND) picks exactly one and
 * fails with a UserError if it cannot start; otherwise tries best-first and records why each
 * better one was skipped.
 */
export async function selectBackend(force?: string): Promise<BackendInfo> {
  // dlflow reports the backend and why better ones were skipped itself; TF.js's own console
  // banners ("install our node backend") would only garble the CLI's live display.
  tf.env().set('PROD', true);
  const wanted = force ?? process.env.DLFLOW_BACKEND ?? undefined;
  if (selected && (!wanted || selected.name === wanted)) return selected;
  if (wanted !== undefined && wanted !== '') {
    if (!(BACKEND_NAMES as readonly string[]).includes(wanted))
      throw new UserError(`unknown backend "${wanted}"; choose one of ${BACKEND_NAMES.join(', ')}`);
    try {
      await tryBackend(wanted as BackendName);
    } catch (error) {
      throw new UserError(`backend "${wanted}" is not available: ${reasonOf(error)}`);
    }
    selected = { name: wanted, skipped: [], forced: true };
    return selected;
  }
  const skipped: BackendInfo['skipped'] = [];
  for (const name of BACKEND_NAMES) {
    try {
      await tryBackend(name);
      selected = { name, skipped, forced: false };
      return selected;
    } catch (error) {
      skipped.push({ name, reason: reasonOf(error) });
    }
  }
  throw new Error(`no TensorFlow.js backend could start: ${skipped.map((s) => `${s.name}: ${s.reason}`).join('; ')}`);
}

/** The backend chosen so far, if any. */
export function currentBackend(): BackendInfo | undefined {
  return selected;
}
