import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { BACKEND_NAMES, selectBackend } from '../../main/engine/index.ts';

describe('backend selection', () => {
  it('picks the best available backend and says why better ones were skipped', async () => {
    const info = await selectBackend('');
    expect(BACKEND_NAMES).toContain(info.name);
    expect(tf.getBackend()).toBe(info.name === 'tensorflow-gpu' ? 'tensorflow' : info.name);
    const tried = BACKEND_NAMES.slice(0, BACKEND_NAMES.indexOf(info.name as (typeof BACKEND_NAMES)[number]));
    expect(info.skipped.map((s) => s.name)).toEqual(tried);
    for (const s of info.skipped) expect(s.reason.length).toBeGreaterThan(5);
    expect(info.forced).toBe(false);
  });

  it('a forced backend is used as asked', async () => {
    const info = await selectBackend('cpu');
    expect(info).toEqual({ name: 'cpu', skipped: [], forced: true });
    expect(tf.getBackend()).toBe('cpu');
  });

  it('an unknown or unavailable forced backend is a clear user error', async () => {
    await expect(selectBackend('cuda')).rejects.toThrow('unknown backend "cuda"; choose one of tensorflow-gpu, tensorflow, wasm, cpu');
    let nativeInstalled = true;
    try {
      await import(/* @vite-ignore */ '@tensorflow/tfjs-node' + '');
    } catch {
      nativeInstalled = false;
    }
    if (!nativeInstalled) await expect(selectBackend('tensorflow')).rejects.toThrow(/backend "tensorflow" is not available: not installed/);
  });
});
