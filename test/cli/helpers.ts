/** Spawns the real `dlflow` CLI and writes small documents for it. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(fileURLToPath(new URL('../../', import.meta.url)));
export const CLI = join(ROOT, 'main/cli/dlflow.mjs');
export const STUB_NODES = join(ROOT, 'test/cli/stub-nodes.ts');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export interface CliOptions {
  cwd?: string;
  /** Use the stub node list (default true). */
  stub?: boolean;
  env?: Record<string, string | undefined>;
  /** Called once the child exists (to send signals). */
  onSpawn?: (child: ChildProcess, output: { stdout: () => string; stderr: () => string }) => void;
  timeoutMs?: number;
}

/** Runs `node main/cli/dlflow.mjs ...args` and collects its output. */
export function dlflow(args: string[], options: CliOptions = {}): Promise<CliResult> {
  const env: Record<string, string | undefined> = { ...process.env, NO_COLOR: '1', DLFLOW_DEBUG: undefined, DLFLOW_BACKEND: undefined };
  if (options.stub !== false) env.DLFLOW_NODES_MODULE = STUB_NODES;
  else delete env.DLFLOW_NODES_MODULE;
  Object.assign(env, options.env);
  for (const key of Object.keys(env)) if (env[key] === undefined) delete env[key];
  const started = Date.now();
  const child = spawn(process.execPath, [CLI, ...args], { cwd: options.cwd ?? ROOT, env: env as NodeJS.ProcessEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  options.onSpawn?.(child, { stdout: () => stdout, stderr: () => stderr });
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
  return new Promise((done, fail) => {
    child.on('error', fail);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      done({ code, signal, stdout, stderr, ms: Date.now() - started });
    });
  });
}

/** Resolves once `predicate(output)` holds, polling. */
export async function waitFor(predicate: () => boolean, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > until) throw new Error('timed out waiting for CLI output');
    await new Promise((r) => setTimeout(r, 25));
  }
}

export async function tempDir(prefix = 'dlflow-cli-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

interface NodeSpec {
  id: string;
  type: string;
  params?: Record<string, unknown>;
  label?: string;
}

/** A document from nodes and `[source, target]` edges (handles `out` → `a`). */
export function doc(nodes: NodeSpec[], edges: [string, string][] = []): object {
  return {
    format: 'dlflow',
    version: 1,
    nodes: nodes.map((n, i) => ({ ...n, params: n.params ?? {}, position: { x: i * 200, y: 0 } })),
    edges: edges.map(([source, target], i) => ({ id: `e${i}`, source, sourceHandle: 'out', target, targetHandle: 'a' })),
  };
}

export async function writeDoc(dir: string, name: string, content: object | string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, typeof content === 'string' ? content : `${JSON.stringify(content, null, 2)}\n`);
  return path;
}

/** src(value 2) → add1(+3) → slow → add2(+4) → write(result/out.txt). */
export function chainDoc(slow: { steps?: number; stepMs?: number; stubborn?: boolean } = {}): object {
  return doc(
    [
      { id: 'src', type: 'stub:source', params: { value: 2 } },
      { id: 'add1', type: 'stub:add', params: { amount: 3 } },
      { id: 'slow', type: 'stub:slow', params: { steps: 2, stepMs: 10, ...slow }, label: 'Slow one' },
      { id: 'add2', type: 'stub:add', params: { amount: 4 } },
      { id: 'write', type: 'stub:write', params: { path: 'result/out.txt' } },
    ],
    [
      ['src', 'add1'],
      ['add1', 'slow'],
      ['slow', 'add2'],
      ['add2', 'write'],
    ],
  );
}

/** Parses JSON-lines output; throws naming the line that is not one JSON object. */
export function jsonLines(stdout: string): { type: string; [k: string]: unknown }[] {
  const lines = stdout.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines.map((line, i) => {
    try {
      const value = JSON.parse(line) as { type: string };
      if (typeof value !== 'object' || value === null || typeof value.type !== 'string') throw new Error('not an event');
      return value;
    } catch (error) {
      throw new Error(`stdout line ${i + 1} is not one JSON event: ${line.slice(0, 200)} (${(error as Error).message})`);
    }
  });
}

/** True when text contains a JS stack frame. */
export const hasStack = (text: string): boolean => /\n\s+at .+:\d+:\d+/.test(text);
