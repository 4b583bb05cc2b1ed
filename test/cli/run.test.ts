/** `dlflow run` through the real CLI with stub nodes: JSON lines, cache across processes, --set, Ctrl-C. */
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { chainDoc, dlflow, doc, hasStack, jsonLines, tempDir, waitFor, writeDoc } from './helpers.ts';

let dir: string;

beforeAll(async () => {
  dir = await tempDir();
});

const run = (file: string, cache: string, ...more: string[]) => ['run', file, '--backend', 'cpu', '--cache-dir', cache, ...more];

describe('dlflow run', () => {
  it('--json: one event per line, ending with run-finished; a second process is served from the disk cache', async () => {
    const file = await writeDoc(dir, 'json.dlflow', chainDoc());
    const cache = join(dir, 'cache-json');
    const first = await dlflow(run(file, cache, '--json'));
    expect(first.code, first.stderr).toBe(0);
    const events = jsonLines(first.stdout);
    expect(events[0].type).toBe('run-started');
    expect(events.at(-1)).toMatchObject({ type: 'run-finished', status: 'done' });
    expect(events.filter((e) => e.type === 'node-finished').map((e) => e.nodeId)).toEqual(['src', 'add1', 'slow', 'add2', 'write']);
    expect(events.filter((e) => e.type === 'node-progress').length).toBeGreaterThan(0);
    expect(events.some((e) => e.type === 'nodes-cached')).toBe(false);
    // The write node's console.log went to stderr, not into the event stream.
    expect(first.stderr).toContain(`wrote ${join(dir, 'result/out.txt')}`);
    // Relative paths resolve against the file's folder, not the cwd (the CLI ran from the repo root).
    expect(await readFile(join(dir, 'result/out.txt'), 'utf8')).toBe('9');

    const second = await dlflow(run(file, cache, '--json'));
    expect(second.code, second.stderr).toBe(0);
    const again = jsonLines(second.stdout);
    const cached = again.find((e) => e.type === 'nodes-cached');
    expect(cached).toMatchObject({ nodeIds: ['src', 'add1', 'slow', 'add2'], fromDisk: ['src', 'add1', 'slow', 'add2'] });
    // Only the side-effect node runs again.
    expect(again.filter((e) => e.type === 'node-finished').map((e) => e.nodeId)).toEqual(['write']);
    expect(again.at(-1)).toMatchObject({ type: 'run-finished', status: 'done', nodes: { src: 'cached', slow: 'cached', write: 'done' } });
  });

  it('human output: finished lines, a summary table, "cached" on the second run; --set downstream re-runs only downstream', async () => {
    const file = await writeDoc(dir, 'human.dlflow', chainDoc());
    const cache = join(dir, 'cache-human');
    const first = await dlflow(run(file, cache));
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).not.toContain('\u001b['); // no ANSI off a terminal
    expect(first.stdout).toMatch(/^✓ add1 {2}\d+\.\ds {2}sum 5$/m);
    expect(first.stdout).toMatch(/^ {2}node +status +time +cached +summary$/m);
    expect(first.stdout).toMatch(/^ {2}add2 +done +\d+\.\ds +no +sum 9$/m);
    expect(first.stdout).toMatch(/^done in \d+\.\ds$/m);

    const second = await dlflow(run(file, cache));
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toMatch(/^✓ slow {2}\(cached\)/m);
    expect(second.stdout).toMatch(/^ {2}add2 +cached +- +yes/m);
    expect(second.stdout).toMatch(/^done in .* \(4 of 5 nodes from cache\)$/m);

    // add2 is downstream of slow: src, add1 and slow come from cache, add2 and write re-run.
    const changed = await dlflow(run(file, cache, '--json', '--set', 'add2.amount=10'));
    expect(changed.code, changed.stderr).toBe(0);
    const events = jsonLines(changed.stdout);
    expect(events.find((e) => e.type === 'nodes-cached')).toMatchObject({ nodeIds: ['src', 'add1', 'slow'] });
    expect(events.filter((e) => e.type === 'node-started').map((e) => e.nodeId)).toEqual(['add2', 'write']);
    expect(events.find((e) => e.type === 'node-finished' && e.nodeId === 'add2')).toMatchObject({ summary: 'sum 15' });
    expect(await readFile(join(dir, 'result/out.txt'), 'utf8')).toBe('15');

    // A node can be named by its label; --no-cache recomputes everything.
    const byLabel = await dlflow(run(file, cache, '--json', '--no-cache', '--set', 'Slow one.steps=3'));
    expect(byLabel.code, byLabel.stderr).toBe(0);
    const all = jsonLines(byLabel.stdout);
    expect(all.some((e) => e.type === 'nodes-cached')).toBe(false);
    expect(all.filter((e) => e.type === 'node-finished')).toHaveLength(5);
  });

  it('--target runs only what the target needs', async () => {
    const file = await writeDoc(dir, 'target.dlflow', chainDoc());
    const r = await dlflow(run(file, join(dir, 'cache-target'), '--json', '--target', 'add1'));
    expect(r.code, r.stderr).toBe(0);
    const events = jsonLines(r.stdout);
    expect(events[0]).toMatchObject({ type: 'run-started', nodeIds: ['src', 'add1'] });
  });

  it('a failing node: exit 1, the error names the node and param, no stack trace', async () => {
    const file = await writeDoc(
      dir,
      'fail.dlflow',
      doc(
        [
          { id: 'src', type: 'stub:source' },
          { id: 'bad', type: 'stub:fail', params: { reason: 'out of cheese' } },
          { id: 'after', type: 'stub:add' },
        ],
        [
          ['src', 'bad'],
          ['bad', 'after'],
        ],
      ),
    );
    const r = await dlflow(run(file, join(dir, 'cache-fail')));
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('✗ bad  failed after');
    expect(r.stdout).toContain('node "bad" (stub:fail): param "reason": stub failure: out of cheese');
    expect(r.stdout).toMatch(/^ {2}after +skipped/m);
    expect(r.stdout).toMatch(/^failed after .*: node "bad" \(stub:fail\)/m);
    expect(hasStack(r.stdout + r.stderr)).toBe(false);
  });

  it('Ctrl-C during a slow node cancels cleanly: exit 130, nothing half-written, nothing downstream ran', async () => {
    const own = await tempDir();
    const file = await writeDoc(own, 'sigint.dlflow', chainDoc({ steps: 400, stepMs: 50 }));
    const cache = join(dir, 'cache-sigint');
    const r = await dlflow(run(file, cache), {
      onSpawn: (child, out) => {
        void waitFor(() => /· slow {2}started/.test(out.stdout())).then(() => setTimeout(() => child.kill('SIGINT'), 300));
      },
    });
    expect(r.code, r.stdout + r.stderr).toBe(130);
    expect(r.stdout).toContain('cancelling… (Ctrl-C again to quit now)');
    expect(r.stdout).toMatch(/^⊘ slow {2}cancelled after/m);
    expect(r.stdout).toMatch(/^cancelled after/m);
    expect(r.ms).toBeLessThan(15_000);
    expect(existsSync(join(own, 'result'))).toBe(false);
    // Only src and add1 finished: two complete cache entries, no temp folders left over.
    const entries = await readdir(join(cache, 'outputs'));
    expect(entries.filter((n) => n.startsWith('.'))).toEqual([]);
    expect(entries).toHaveLength(2);
    for (const e of entries) expect(existsSync(join(cache, 'outputs', e, 'entry.json'))).toBe(true);
  });

  it('a second Ctrl-C quits at once with 130 even if the node ignores cancel', async () => {
    const file = await writeDoc(dir, 'stubborn.dlflow', chainDoc({ steps: 2, stepMs: 20_000, stubborn: true }));
    let firstAt = 0;
    const r = await dlflow(run(file, join(dir, 'cache-stubborn'), '--json'), {
      onSpawn: (child, out) => {
        void waitFor(() => out.stdout().includes('"node-started","runId"') && out.stdout().includes('"nodeId":"slow"')).then(async () => {
          firstAt = Date.now();
          child.kill('SIGINT');
          await waitFor(() => out.stderr().includes('cancelling…'));
          child.kill('SIGINT');
        });
      },
    });
    expect(r.code).toBe(130);
    expect(Date.now() - firstAt).toBeLessThan(10_000);
    expect(r.stderr).toContain('cancelling… (Ctrl-C again to quit now)');
    // stdout stays pure JSON lines even when interrupted.
    expect(() => jsonLines(r.stdout)).not.toThrow();
  });
});
