/** Test helpers for node tests: a minimal RunContext that records what a node reported, and backend set-up. */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { RunContext } from '../../main/engine/node-api.ts';
import { CancelledError } from '../../main/engine/errors.ts';
import { createRandom } from '../../main/engine/random.ts';
import type { PreviewPayload } from '../../main/protocol/index.ts';

export interface TestContext extends RunContext {
  progressCalls: { fraction: number; note?: string }[];
  previews: PreviewPayload[];
  logs: { message: string; level?: 'info' | 'warn' }[];
  cleanups: (() => void | Promise<void>)[];
  abort(): void;
}

/** A RunContext with `random` seeded from `seed`, a fresh temp cacheDir, and recorded calls. */
export function makeContext(opts: { seed?: number; signal?: AbortSignal; onProgress?: (fraction: number) => void } = {}): TestContext {
  const controller = new AbortController();
  const signal = opts.signal ?? controller.signal;
  const dir = mkdtempSync(join(tmpdir(), 'dlflow-node-test-'));
  const ctx: TestContext = {
    signal,
    progressCalls: [],
    previews: [],
    logs: [],
    cleanups: [],
    progress(fraction, note) {
      ctx.progressCalls.push({ fraction, note });
      opts.onProgress?.(fraction);
    },
    preview(payload) {
      ctx.previews.push(payload);
    },
    log(message, level) {
      ctx.logs.push({ message, level });
    },
    random: createRandom(opts.seed ?? 1),
    cacheDir: dir,
    baseDir: dir,
    nodeId: 'test-node',
    allowCode: false,
    onCleanup(fn) {
      ctx.cleanups.push(fn);
    },
    throwIfCancelled() {
      if (signal.aborted) throw new CancelledError();
    },
    abort: () => controller.abort(),
  };
  return ctx;
}

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'dlflow-node-test-'));
}

const KERNELS = new URL('../../main/engine/backend/wasm-kernels/index.ts', import.meta.url);

/**
 * Uses the wasm backend with the training kernels when they are present (the fast path the app
 * uses), else the cpu backend (also when DLFLOW_TEST_BACKEND=cpu). Returns the backend name; tests keep sizes tiny either way.
 */
export async function setupBackend(): Promise<string> {
  if (process.env.DLFLOW_TEST_BACKEND !== 'cpu' && existsSync(KERNELS)) {
    try {
      await import('@tensorflow/tfjs-backend-wasm');
      const kernels = (await import(KERNELS.href)) as { registerWasmTrainingKernels(): void };
      if (await tf.setBackend('wasm')) {
        await tf.ready();
        kernels.registerWasmTrainingKernels();
        return 'wasm';
      }
    } catch {
      // Fall through to cpu: the kernels may be mid-change in a working tree.
    }
  }
  await tf.setBackend('cpu');
  await tf.ready();
  return 'cpu';
}
