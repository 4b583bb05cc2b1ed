// cli: composition root without Electron; imports main/engine, main/protocol, main/server and the node list (nodes/index.ts).
/**
 * `dlflow run | validate | nodes | info | serve`. `main(argv)` parses the arguments, runs one
 * command and resolves to the exit code: 0 done, 1 the run failed, 2 bad input (file, args,
 * params, backend), 130 cancelled. It never calls process.exit itself except for a second Ctrl-C.
 */
import { Command, CommanderError, Option } from 'commander';
import { infoCommand, dlflowVersion } from './commands/info.ts';
import { nodesCommand } from './commands/nodes.ts';
import { runCommand } from './commands/run.ts';
import { serveCommand } from './commands/serve.ts';
import { validateCommand } from './commands/validate.ts';
import { type CliIo, EXIT, processIo, reportError } from './io.ts';

const collect = (value: string, previous: string[]): string[] => [...previous, value];
const collectList = (value: string, previous: string[]): string[] => [...previous, ...value.split(',').filter(Boolean)];

function program(io: CliIo, setCode: (code: number) => void): Command {
  const cli = new Command('dlflow')
    .description('Visual pipelines for deep learning on images, headless: run, check and inspect .dlflow files.')
    .version(dlflowVersion(), '-V, --version')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    });
  const backendOption = (): Option =>
    new Option('--backend <name>', 'TensorFlow.js backend: tensorflow-gpu, tensorflow, wasm or cpu (default: the best available; env DLFLOW_BACKEND)');
  const cacheDirOption = (): Option => new Option('--cache-dir <dir>', 'cache folder (default: $DLFLOW_CACHE_DIR or ~/.cache/dlflow)');

  cli
    .command('run')
    .description('run a pipeline: live progress per node, a summary at the end')
    .argument('<file>', 'the .dlflow file')
    .option('--set <node.param=value>', 'override a param of a node (by id or label); repeatable; paths are relative to the current folder', collect, [])
    .option('--target <node>', 'run only what these nodes need; repeatable or comma-separated', collectList, [])
    .addOption(backendOption())
    .option('--json', 'one JSON event per line on stdout (preview PNGs as {"$png": base64})')
    .option('--no-cache', 'recompute every node (the cache is refreshed)')
    .addOption(cacheDirOption())
    .option('--allow-code', 'allow code nodes to run (only for files you trust)')
    .action(async (file: string, opts) => setCode(await runCommand(file, opts, io)));

  cli
    .command('validate')
    .description('check a pipeline without running it; prints every problem, exit 2 if it cannot run')
    .argument('<file>', 'the .dlflow file')
    .option('--set <node.param=value>', 'check with a param overridden; repeatable', collect, [])
    .option('--json', 'print the diagnostics as JSON')
    .action(async (file: string, opts) => setCode(await validateCommand(file, opts, io)));

  cli
    .command('nodes')
    .description('list the node catalogue: ports, params (kind, default, range) and descriptions')
    .option('--json', 'print the catalogue as JSON (what the editor gets)')
    .option('--markdown', "print the catalogue as a markdown list (README's node section)")
    .action(async (opts) => setCode(await nodesCommand(opts, io)));

  cli
    .command('info')
    .description('versions, the backend chosen and why better ones were skipped, the cache folder and size')
    .option('--json', 'print as JSON')
    .addOption(backendOption())
    .addOption(cacheDirOption())
    .action(async (opts) => setCode(await infoCommand(opts, io)));

  cli
    .command('serve')
    .description('open the editor in a browser (browser mode), served from this machine')
    .argument('[file]', 'a .dlflow file to open first')
    .option('--port <port>', 'port (default: a free one)')
    .option('--host <host>', 'interface to listen on (default 127.0.0.1)')
    .option('--open', 'open the page in the default browser')
    .option('--allow <dir>', 'another folder the editor may open and save in; repeatable', collect, [])
    .addOption(backendOption())
    .addOption(cacheDirOption())
    .action(async (file: string | undefined, opts) => setCode(await serveCommand(file, opts, io)));

  return cli;
}

/** Runs the CLI on `argv` (without node and script) and resolves to the exit code. */
export async function main(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  let code: number = EXIT.ok;
  const cli = program(io, (c) => (code = c));
  if (argv.length === 0) {
    cli.outputHelp({ error: true });
    return EXIT.badInput;
  }
  try {
    await cli.parseAsync([...argv], { from: 'user' });
    return code;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and --version are successes; everything else commander rejects is a bad argument.
      return ['commander.helpDisplayed', 'commander.version'].includes(error.code) || error.exitCode === 0 ? EXIT.ok : EXIT.badInput;
    }
    return reportError(error, io);
  }
}
