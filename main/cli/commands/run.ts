/** `dlflow run FILE`: validate, then execute a pipeline with live progress, JSON lines or plain lines. */
import { dirname, resolve } from 'node:path';
import { format } from 'node:util';
import type { EngineEvent } from '../../protocol/index.ts';
import type { Engine } from '../../engine/index.ts';
import { UserError } from '../../engine/errors.ts';
import { createRegistry } from '../../engine/registry.ts';
import { loadDocument, resolveTargets } from '../document.ts';
import { type CliIo, EXIT } from '../io.ts';
import { createJsonSink } from '../json-sink.ts';
import { loadNodeList } from '../load-nodes.ts';
import { createTerminalSink, type TerminalSink } from '../terminal-sink.ts';

export interface RunCommandOptions {
  set: string[];
  target: string[];
  backend?: string;
  json?: boolean;
  /** false with --no-cache. */
  cache: boolean;
  cacheDir?: string;
  allowCode?: boolean;
}

const CANCEL_NOTICE = 'cancelling… (Ctrl-C again to quit now)';

/**
 * Loads the engine (and with it TensorFlow.js, the slow part of start-up) and checks the
 * backend asked for by `--backend` or DLFLOW_BACKEND: an unknown name is a UserError.
 */
export async function loadEngine(backend: string | undefined, env: NodeJS.ProcessEnv): Promise<typeof import('../../engine/index.ts')> {
  const engine = await import('../../engine/index.ts');
  const [name, from] = backend !== undefined ? [backend, '--backend'] : [env.DLFLOW_BACKEND, 'DLFLOW_BACKEND'];
  if (name !== undefined && name !== '' && !(engine.BACKEND_NAMES as readonly string[]).includes(name))
    throw new UserError(`${from}: unknown backend "${name}"; choose one of ${engine.BACKEND_NAMES.join(', ')}`);
  return engine;
}

/**
 * With `--json`, stdout must carry events only: anything else that writes there (a node's
 * console.log, a library banner) is sent to stderr until the run ends. Returns the undo.
 */
function guardStdout(io: CliIo): () => void {
  if (io.stdout !== process.stdout) return () => undefined;
  const original = process.stdout.write;
  process.stdout.write = ((...args: Parameters<typeof process.stderr.write>) => process.stderr.write(...args)) as typeof process.stdout.write;
  return () => {
    process.stdout.write = original;
  };
}

/**
 * While the live display owns the terminal, console output from nodes and libraries (TF.js
 * warnings) is printed above the live area instead of through it. Returns the undo.
 */
function routeConsole(display: TerminalSink): () => void {
  const methods = ['log', 'info', 'warn', 'error', 'debug'] as const;
  const saved = methods.map((m) => console[m]);
  for (const m of methods) console[m] = (...args: unknown[]) => display.notice(format(...args).replace(/\n+$/, ''));
  return () => methods.forEach((m, i) => (console[m] = saved[i]));
}

/**
 * Runs FILE and returns the exit code: 0 done, 1 failed, 2 bad input, 130 cancelled. The first
 * SIGINT cancels the run (the engine stops at the next check and writes nothing half-done); a
 * second one exits at once with 130.
 */
export async function runCommand(file: string, opts: RunCommandOptions, io: CliIo): Promise<number> {
  const runId = `cli-${process.pid}-${Date.now().toString(36)}`;
  let engine: Engine | undefined;
  let display: TerminalSink | undefined;
  let cancelRequested = false;
  const notice = (text: string): void => {
    if (display) display.notice(text);
    else io.stderr.write(`${text}\n`);
  };
  const onSigint = (): void => {
    if (cancelRequested) {
      display?.close();
      io.stderr.write('quit\n');
      process.exit(EXIT.cancelled);
    }
    cancelRequested = true;
    notice(CANCEL_NOTICE);
    if (engine) void engine.cancel({ runId });
  };
  process.on('SIGINT', onSigint);
  let restoreStdout = (): void => undefined;
  try {
    const nodeList = await loadNodeList(io.env);
    const registry = createRegistry(nodeList.nodes, nodeList.portTypes);
    // Bad input fails fast, before the (slower) backend start.
    const { document, warnings } = await loadDocument(file, registry, opts.set);
    const targets = resolveTargets(document, opts.target);
    for (const line of warnings) io.stderr.write(`${line}\n`);
    if (cancelRequested) return EXIT.cancelled;

    let sink: (event: EngineEvent) => void;
    if (opts.json) {
      sink = createJsonSink(io.stdout === process.stdout ? { write: process.stdout.write.bind(process.stdout) } : io.stdout);
      restoreStdout = guardStdout(io);
    }
    else {
      const tty = Boolean(io.stdout.isTTY);
      const live = tty && io.env.TERM !== 'dumb';
      display = createTerminalSink({
        out: io.stdout,
        live,
        colour: tty && !io.env.NO_COLOR,
      });
      sink = display;
      if (live) restoreStdout = routeConsole(display);
    }
    const { createEngine } = await loadEngine(opts.backend, io.env);
    if (cancelRequested) return EXIT.cancelled;
    engine = await createEngine({
      nodes: nodeList.nodes,
      portTypes: nodeList.portTypes,
      sink,
      cacheDir: opts.cacheDir,
      backend: opts.backend,
    });
    if (cancelRequested) return EXIT.cancelled;
    const result = await engine.run({
      document,
      runId,
      options: {
        targets: targets.length > 0 ? targets : undefined,
        noCache: !opts.cache,
        baseDir: dirname(resolve(file)),
        allowCode: Boolean(opts.allowCode),
      },
    });
    switch (result.status) {
      case 'done':
        return EXIT.ok;
      case 'failed':
        return EXIT.failed;
      case 'cancelled':
        return EXIT.cancelled;
      default: {
        const never: never = result.status;
        throw new Error(`unknown run status ${String(never)}`);
      }
    }
  } finally {
    restoreStdout();
    display?.close();
    process.off('SIGINT', onSigint);
    await engine?.dispose();
  }
}
