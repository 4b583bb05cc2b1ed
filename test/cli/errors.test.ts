/** Bad input through the real CLI: one clear line each, exit 2, never a stack trace. */
import { beforeAll, describe, expect, it } from 'vitest';
import { chainDoc, dlflow, doc, hasStack, tempDir, writeDoc } from './helpers.ts';

let dir: string;
let chain: string;

beforeAll(async () => {
  dir = await tempDir();
  chain = await writeDoc(dir, 'chain.dlflow', chainDoc());
});

/** Runs `dlflow run` with a throwaway cache and checks the shared contract for bad input. */
async function runBad(args: string[], backend = ['--backend', 'cpu']): Promise<string[]> {
  const r = await dlflow(['run', ...args, ...backend, '--cache-dir', `${dir}/cache`], { cwd: dir });
  expect(r.code, r.stderr).toBe(2);
  expect(hasStack(r.stderr)).toBe(false);
  expect(r.stdout).toBe('');
  return r.stderr.trimEnd().split('\n');
}

describe('dlflow run: bad input exits 2 with one line per problem', () => {
  it('missing file', async () => {
    expect(await runBad(['nope.dlflow'])).toEqual(['error: file not found: nope.dlflow']);
  });

  it('malformed JSON names file, line and column', async () => {
    await writeDoc(dir, 'bad.dlflow', '{\n  "format": "dlflow",\n  "version": 1,,\n  "nodes": []\n}\n');
    const lines = await runBad(['bad.dlflow']);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^error: bad\.dlflow:3:16: malformed JSON: /);
  });

  it('unknown node type names the node', async () => {
    await writeDoc(dir, 'unknown.dlflow', doc([{ id: 'mystery', type: 'stub:does-not-exist' }]));
    expect(await runBad(['unknown.dlflow'])).toEqual([
      'error: unknown.dlflow: node "mystery" (stub:does-not-exist): unknown node type "stub:does-not-exist"; kept as a placeholder, it cannot run',
    ]);
  });

  it('a cycle', async () => {
    await writeDoc(
      dir,
      'cycle.dlflow',
      doc(
        [
          { id: 'a', type: 'stub:add' },
          { id: 'b', type: 'stub:add' },
        ],
        [
          ['a', 'b'],
          ['b', 'a'],
        ],
      ),
    );
    const lines = await runBad(['cycle.dlflow']);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^error: cycle\.dlflow: cycle "(a|b)" → "(a|b)" → "(a|b)"; a pipeline cannot feed back into itself$/);
  });

  it('a param out of range in the file', async () => {
    await writeDoc(dir, 'range.dlflow', doc([{ id: 'src', type: 'stub:source', params: { value: 5000 } }]));
    expect(await runBad(['range.dlflow'])).toEqual(['error: range.dlflow: node "src" (stub:source): param "value" is 5000, outside -1000..1000']);
  });

  it('bad --set: unknown node, unknown param, out of range, not a number — every one reported', async () => {
    const lines = await runBad([
      'chain.dlflow',
      '--set',
      'nosuch.value=1',
      '--set',
      'add1.amuont=2',
      '--set',
      'add1.amount=101',
      '--set',
      'src.value=abc',
      '--set',
      'add1',
    ]);
    expect(lines).toEqual([
      'error: --set nosuch.value=1: no node "nosuch" in the document (nodes: src, add1, slow, add2, write)',
      'error: --set add1.amuont=2: node "add1" (stub:add): has no param "amuont" (params: amount, label, mode)',
      'error: --set add1.amount=101: node "add1" (stub:add): param "amount" is 101, outside 0..100',
      'error: --set src.value=abc: node "src" (stub:source): param "value" expects a number, got "abc"',
      'error: --set add1: expected node.param=value',
    ]);
  });

  it('bad --set for an enum and a boolean', async () => {
    expect(await runBad(['chain.dlflow', '--set', 'add1.mode=times', '--set', 'slow.stubborn=maybe'])).toEqual([
      'error: --set add1.mode=times: node "add1" (stub:add): param "mode" is "times", expected one of plus, minus',
      'error: --set slow.stubborn=maybe: node "slow" (stub:slow): param "stubborn" expects true or false, got "maybe"',
    ]);
  });

  it('unknown --target', async () => {
    expect(await runBad([chain, '--target', 'ghost'])).toEqual([
      'error: --target ghost: no node "ghost" in the document (nodes: src, add1, slow, add2, write)',
    ]);
  });

  it('bad --backend, and a bad DLFLOW_BACKEND', async () => {
    expect(await runBad([chain], ['--backend', 'gpu9'])).toEqual([
      'error: --backend: unknown backend "gpu9"; choose one of tensorflow-gpu, tensorflow, wasm, cpu',
    ]);
    const r = await dlflow(['run', chain], { env: { DLFLOW_BACKEND: 'quantum' } });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('error: DLFLOW_BACKEND: unknown backend "quantum"; choose one of tensorflow-gpu, tensorflow, wasm, cpu\n');
  });

  it('unknown option and missing argument are usage errors (2)', async () => {
    const unknown = await dlflow(['run', chain, '--fast']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^error: unknown option '--fast'/);
    const missing = await dlflow(['run']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/error: missing required argument 'file'/);
  });
});
