/** `dlflow serve [FILE]`: the editor in a browser, backed by this process's engine (main/server). */
import { UserError } from '../../engine/errors.ts';
import { type CliIo, EXIT } from '../io.ts';
import { loadNodeList } from '../load-nodes.ts';
import { loadEngine } from './run.ts';

export interface ServeOptions {
  port?: string;
  host?: string;
  open?: boolean;
  allow: string[];
  backend?: string;
  cacheDir?: string;
}

type ServerModule = typeof import('../../server/index.ts');

/** Parses `--port`: a whole number 0..65535 (0 picks a free port). */
export function parsePort(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const port = Number(text);
  if (text.trim() === '' || !Number.isInteger(port) || port < 0 || port > 65535)
    throw new UserError(`--port ${text}: expected a whole number 0..65535`);
  return port;
}

/** Serves until SIGINT/SIGTERM, then closes the server and the engine; exit 0. */
export async function serveCommand(file: string | undefined, opts: ServeOptions, io: CliIo): Promise<number> {
  const port = parsePort(opts.port);
  let server: ServerModule;
  try {
    // Loaded on demand: `run` and `validate` should not pay for the HTTP/WebSocket stack.
    server = (await import('../../server/index.ts')) as ServerModule;
  } catch (error) {
    throw new Error(`dlflow serve is not available in this installation (main/server failed to load: ${(error as Error).message})`);
  }
  const { createEngine } = await loadEngine(opts.backend, io.env);
  const nodeList = await loadNodeList(io.env);
  const engine = await createEngine({ nodes: nodeList.nodes, portTypes: nodeList.portTypes, cacheDir: opts.cacheDir, backend: opts.backend });
  let running: Awaited<ReturnType<ServerModule['serveCommand']>>;
  try {
    running = await server.serveCommand({
      engine,
      file,
      port,
      host: opts.host,
      open: Boolean(opts.open),
      allow: opts.allow,
      print: (line) => io.stdout.write(`${line}\n`),
    });
  } catch (error) {
    await engine.dispose();
    throw error;
  }
  await new Promise<void>((done) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      done();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  io.stderr.write('stopping…\n');
  await running.close();
  await engine.dispose();
  return EXIT.ok;
}
