// Every sample runs through the real CLI with small settings (DESIGN: "every sample runs in CI as
// a CLI smoke test"). Samples run in a temporary copy of samples/, so outputs they write (saved
// models) land there; pretrain-signs runs before transfer-learning, which loads its model.
import { cpSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DlflowDocument } from '../../main/protocol/index.ts';
import { ROOT, dlflow } from '../cli/helpers.ts';

/** Samples that others depend on run first. */
const FIRST = ['pretrain-signs.dlflow'];
const samples = readdirSync(join(ROOT, 'samples'))
  .filter((f) => f.endsWith('.dlflow'))
  .sort((a, b) => Number(FIRST.includes(b)) - Number(FIRST.includes(a)) || a.localeCompare(b));

/** Small settings: fewer images and epochs, same graph. */
const SMALL: Record<string, number> = { count: 240, epochs: 1, fineTuneEpochs: 1, copies: 1, steps: 5, iterations: 5 };

function smallSettings(doc: DlflowDocument): string[] {
  const sets: string[] = [];
  for (const node of doc.nodes)
    for (const [param, small] of Object.entries(SMALL)) {
      const current = node.params[param];
      if (typeof current === 'number' && current > small) sets.push('--set', `${node.id}.${param}=${small}`);
    }
  return sets;
}

let work: string;
let cache: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'dlflow-samples-'));
  cache = join(work, '.cache');
  cpSync(join(ROOT, 'samples'), join(work, 'samples'), { recursive: true });
});

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('samples run through the CLI with small settings', () => {
  it('there are samples, including hello.dlflow', () => {
    expect(samples).toContain('hello.dlflow');
  });

  for (const sample of samples) {
    it(sample, { timeout: 240_000 }, async () => {
      const file = join(work, 'samples', sample);
      const doc = JSON.parse(readFileSync(file, 'utf8')) as DlflowDocument;
      const result = await dlflow(['run', file, '--cache-dir', cache, '--json', ...smallSettings(doc)], {
        stub: false,
        cwd: work,
        timeoutMs: 230_000,
      });
      const events = result.stdout
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as { type: string; status?: string; nodes?: Record<string, string>; error?: string });
      const finished = events.find((e) => e.type === 'run-finished');
      expect(result.stderr.includes('Error:') ? result.stderr : '', 'no stack traces').not.toMatch(/\n\s+at /);
      expect(finished?.error ?? '', `${sample} failed`).toBe('');
      expect(finished?.status).toBe('done');
      expect(result.code).toBe(0);
      for (const node of doc.nodes) expect(['done', 'cached'], `node ${node.id}`).toContain(finished?.nodes?.[node.id]);
    });
  }
});
