/** `dlflow nodes | info | validate | serve` argument handling through the real CLI, with stub nodes. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { chainDoc, dlflow, doc, hasStack, ROOT, tempDir, waitFor, writeDoc } from './helpers.ts';

let dir: string;

beforeAll(async () => {
  dir = await tempDir();
});

describe('dlflow nodes', () => {
  it('--json lists the catalogue: every node with its params and the port types', async () => {
    const r = await dlflow(['nodes', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const catalog = JSON.parse(r.stdout) as { nodes: { id: string; params: Record<string, { kind: string; default: unknown; min?: number }> }[]; portTypes: { id: string }[] };
    expect(catalog.nodes.map((n) => n.id)).toEqual(['stub:source', 'stub:add', 'stub:slow', 'stub:write', 'stub:fail']);
    expect(catalog.nodes.find((n) => n.id === 'stub:add')!.params.amount).toMatchObject({ kind: 'integer', default: 1, min: 0, max: 100 });
    expect(catalog.portTypes.map((p) => p.id)).toEqual(['stub-number']);
  });

  it('as text: grouped by category, with kind, default, range and description of each param', async () => {
    const r = await dlflow(['nodes']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^stub$/m);
    expect(r.stdout).toMatch(/^ {2}Source {2}stub:source$/m);
    expect(r.stdout).toMatch(/^ {4}Emits value\.$/m); // first paragraph only, markdown marks removed
    expect(r.stdout).not.toContain('Second paragraph');
    expect(r.stdout).toMatch(/^ {6}value +number +default 1 +-1000\.\.1000 +The number to emit$/m);
    expect(r.stdout).toMatch(/^ {6}mode +enum +default "plus" +one of plus, minus$/m);
    expect(r.stdout).toMatch(/^ {4}inputs: a \(stub-number\)$/m);
    expect(r.stdout).toMatch(/^ {2}Write {2}stub:write {2}\(side effects\)$/m);
  });
});

describe('dlflow validate', () => {
  it('ok: exit 0 and a closing line', async () => {
    const file = await writeDoc(dir, 'ok.dlflow', chainDoc());
    const r = await dlflow(['validate', file]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`${file}: ok (5 nodes, 4 edges)\n`);
  });

  it('every problem at once, one line each, then a count; exit 2', async () => {
    await writeDoc(
      dir,
      'broken.dlflow',
      doc(
        [
          { id: 'src', type: 'stub:source', params: { value: 'high' } },
          { id: 'x', type: 'stub:nope' },
          { id: 'add', type: 'stub:add' },
        ],
        [['src', 'x']],
      ),
    );
    const r = await dlflow(['validate', 'broken.dlflow'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trimEnd().split('\n')).toEqual([
      'error: broken.dlflow: node "src" (stub:source): param "value" must be a finite number, got string "high"',
      'error: broken.dlflow: node "x" (stub:nope): unknown node type "stub:nope"; kept as a placeholder, it cannot run',
      'error: broken.dlflow: node "add" (stub:add): required input "a" (stub-number) is not connected',
      'broken.dlflow: 3 errors',
    ]);
    expect(hasStack(r.stderr)).toBe(false);
  });

  it('--set is checked too, and --json prints the diagnostics', async () => {
    const file = await writeDoc(dir, 'set.dlflow', chainDoc());
    const r = await dlflow(['validate', file, '--json', '--set', 'add1.amount=-1']);
    expect(r.code).toBe(2);
    const out = JSON.parse(r.stdout) as { ok: boolean; nodes: number; diagnostics: { message: string }[] };
    expect(out).toMatchObject({ ok: false, nodes: 5 });
    expect(out.diagnostics.map((d) => d.message)).toEqual(['--set add1.amount=-1: node "add1" (stub:add): param "amount" is -1, outside 0..100']);
  });

  it('a file that is not a dlflow document', async () => {
    await writeDoc(dir, 'other.dlflow', { hello: 'world' });
    const r = await dlflow(['validate', 'other.dlflow'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('error: other.dlflow: not a dlflow document (no "format": "dlflow")\nother.dlflow: 1 error\n');
  });
});

describe('dlflow info', () => {
  it('names versions, the backend and the cache folder', async () => {
    const cache = join(dir, 'info-cache');
    const r = await dlflow(['info', '--backend', 'cpu', '--cache-dir', cache]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^dlflow +\d+\.\d+\.\d+$/m);
    expect(r.stdout).toMatch(/^tfjs +4\.\d+\.\d+$/m);
    expect(r.stdout).toMatch(/^backend +cpu \(forced\)$/m);
    expect(r.stdout).toContain(`cache    ${cache} (0 B)`);
    expect(r.stdout).toMatch(/^nodes +5 types from .*stub-nodes\.ts$/m);
  });

  it('--json, with the reasons better backends were skipped', async () => {
    const r = await dlflow(['info', '--json', '--cache-dir', join(dir, 'info-cache')]);
    expect(r.code, r.stderr).toBe(0);
    const info = JSON.parse(r.stdout) as { backend: { name: string; skipped: { name: string; reason: string }[]; forced: boolean } };
    expect(['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu']).toContain(info.backend.name);
    expect(info.backend.forced).toBe(false);
    for (const s of info.backend.skipped) expect(s.reason.length).toBeGreaterThan(0);
  });
});

describe('dlflow serve', () => {
  it('rejects a bad port before starting anything', async () => {
    const r = await dlflow(['serve', '--port', 'http']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('error: --port http: expected a whole number 0..65535\n');
  });

  it.skipIf(!existsSync(join(ROOT, 'out/renderer/index.html')))('serves the built editor with a token URL and stops on Ctrl-C with exit 0', async () => {
    const file = await writeDoc(dir, 'serve.dlflow', chainDoc());
    let status = 0;
    const r = await dlflow(['serve', file, '--port', '0', '--backend', 'cpu'], {
      onSpawn: (child, out) => {
        void waitFor(() => /press Ctrl\+C to stop/.test(out.stdout())).then(async () => {
          const url = /dlflow editor: (\S+)/.exec(out.stdout())![1];
          status = (await fetch(url)).status;
          child.kill('SIGINT');
        });
      },
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^dlflow editor: http:\/\/127\.0\.0\.1:\d+\/\?token=/m);
    expect(status).toBe(200);
  });
});

describe('dlflow (no command)', () => {
  it('prints usage and exits 2; --help exits 0', async () => {
    const none = await dlflow([]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('Usage: dlflow');
    const help = await dlflow(['run', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--set <node.param=value>');
  });
});
