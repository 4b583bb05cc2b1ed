/**
 * dlflow vs PyTorch on the reference CNN, side by side in one run, alternating rounds so
 * both see the same machine load. One JSON object per line, then a summary line with ratios.
 *
 *   node --import tsx bench/reference.ts [--rounds=2] [--seconds=5]
 *
 * PyTorch comes from Debian's python3-torch (/usr/bin/python3); without it only dlflow is measured
 * and the summary says why.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { runTrainingBench, type TrainingBenchResult } from './training.ts';
import { isMain, printJson } from './_util.ts';

const arg = (name: string, fallback: number): number => {
  const hit = process.argv.find((a) => a.startsWith(`--${name}=`));
  return hit ? Number(hit.split('=')[1]) : fallback;
};

interface TorchResult {
  framework: 'pytorch';
  threads: number;
  imagesPerSec: number;
  cpuSeconds: number;
  wallSeconds: number;
}

function pytorch(seconds: number): TorchResult[] | string {
  const script = fileURLToPath(new URL('./pytorch_reference.py', import.meta.url));
  const run = spawnSync('/usr/bin/python3', [script, String(seconds), '1,2'], { encoding: 'utf8', timeout: seconds * 10_000 });
  if (run.status !== 0) return (run.stderr || run.error?.message || 'python3 failed').trim().split('\n').at(-1)!;
  return run.stdout.trim().split('\n').map((l) => JSON.parse(l) as TorchResult);
}

export async function runReferenceBench(rounds = 2, seconds = 5): Promise<void> {
  const best = { dlflow1: 0, dlflow2: 0, torch1: 0, torch2: 0 };
  let torchMissing: string | undefined;
  for (let r = 0; r < rounds; r++) {
    const ours: TrainingBenchResult[] = [];
    await runTrainingBench({
      models: ['reference-cnn'],
      backends: ['wasm'],
      modes: ['train'],
      workers: [1, 2],
      seconds,
      onResult: (res) => {
        ours.push(res);
        printJson({ ...res, round: r + 1 });
      },
    });
    for (const res of ours) {
      const k = res.workers >= 2 ? 'dlflow2' : 'dlflow1';
      best[k] = Math.max(best[k], res.imagesPerSec);
    }
    const torch = pytorch(seconds);
    if (typeof torch === 'string') torchMissing = torch;
    else
      for (const res of torch) {
        printJson({ ...res, round: r + 1 });
        const k = res.threads >= 2 ? 'torch2' : 'torch1';
        best[k] = Math.max(best[k], res.imagesPerSec);
      }
  }
  const ratio = (a: number, b: number): number | null => (a > 0 && b > 0 ? Math.round((a / b) * 100) / 100 : null);
  printJson({
    bench: 'reference-summary',
    model: 'reference-cnn',
    bestImagesPerSec: best,
    oneCoreRatio: ratio(best.dlflow1, best.torch1),
    twoCoreRatio: ratio(Math.max(best.dlflow1, best.dlflow2), best.torch2),
    pytorch: torchMissing ? `not measured: ${torchMissing}` : 'measured',
  });
}

if (isMain(import.meta.url)) await runReferenceBench(arg('rounds', 2), arg('seconds', 5));
