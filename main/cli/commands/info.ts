/** `dlflow info`: versions, the backend chosen (and why better ones were skipped), the cache. */
import { readFileSync } from 'node:fs';
import { formatBytes, table } from '../format.ts';
import { type CliIo, EXIT } from '../io.ts';
import { loadNodeList, type NodeList } from '../load-nodes.ts';
import { loadEngine } from './run.ts';

/** Version from package.json (the CLI runs from the source tree, so it is always beside us). */
export function dlflowVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

export async function infoCommand(opts: { json?: boolean; backend?: string; cacheDir?: string }, io: CliIo): Promise<number> {
  const { createEngine } = await loadEngine(opts.backend, io.env);
  let nodeList: NodeList | undefined;
  let nodesProblem: string | undefined;
  try {
    nodeList = await loadNodeList(io.env);
  } catch (error) {
    nodesProblem = error instanceof Error ? error.message : String(error);
  }
  const engine = await createEngine({
    nodes: nodeList?.nodes ?? [],
    portTypes: nodeList?.portTypes ?? [],
    cacheDir: opts.cacheDir,
    backend: opts.backend,
  });
  try {
    const info = await engine.info(undefined);
    const dlflow = dlflowVersion();
    const nodes = nodeList ? { count: nodeList.nodes.length, source: nodeList.source } : { count: 0, error: nodesProblem };
    if (opts.json) {
      io.stdout.write(`${JSON.stringify({ dlflow, ...info, nodes }, null, 2)}\n`);
      return EXIT.ok;
    }
    const rows: string[][] = [
      ['dlflow', dlflow],
      ['node', info.node],
      ['tfjs', info.tfjs],
      ['backend', `${info.backend.name}${info.backend.forced ? ' (forced)' : ''}`],
      ...info.backend.skipped.map((s) => ['', `skipped ${s.name}: ${s.reason}`]),
      ['cache', `${info.cacheDir} (${formatBytes(info.cacheBytes)})`],
      ['nodes', nodeList ? `${nodeList.nodes.length} types from ${nodeList.source}` : `unavailable: ${nodesProblem}`],
    ];
    io.stdout.write(`${table(rows).join('\n')}\n`);
    return EXIT.ok;
  } finally {
    await engine.dispose();
  }
}
