/** `dlflow validate FILE`: every problem in a document, one line each; exit 2 when it cannot run. */
import { readDocumentFile, validateDocument } from '../../engine/document/index.ts';
import { createRegistry } from '../../engine/registry.ts';
import { applySets, formatDiagnostic, InputProblems } from '../document.ts';
import { type CliIo, EXIT } from '../io.ts';
import { loadNodeList } from '../load-nodes.ts';

export interface ValidateCommandOptions {
  json?: boolean;
  set: string[];
}

/**
 * Prints each diagnostic (`error: FILE: node "id" (type): ...`) and a closing line; with
 * `--json`, one object `{ file, ok, nodes, edges, diagnostics }` on stdout. Exit 0 when the
 * document can run (warnings allowed), 2 otherwise.
 */
export async function validateCommand(file: string, opts: ValidateCommandOptions, io: CliIo): Promise<number> {
  const nodeList = await loadNodeList(io.env);
  const registry = createRegistry(nodeList.nodes, nodeList.portTypes);
  const parsed = await readDocumentFile(file, registry, { validate: opts.set.length === 0 });
  let diagnostics = parsed.diagnostics;
  let setProblems: string[] = [];
  let document = parsed.document;
  if (document && opts.set.length > 0) {
    const applied = applySets(document, opts.set, registry);
    document = applied.document;
    setProblems = applied.problems;
    diagnostics = [...diagnostics, ...validateDocument(document, registry)];
  }
  const errors = diagnostics.filter((d) => d.severity === 'error').length + setProblems.length;
  const ok = Boolean(document) && errors === 0;
  if (opts.json) {
    const set = setProblems.map((message) => ({ severity: 'error', code: 'bad-set', message }));
    io.stdout.write(
      `${JSON.stringify({ file, ok, nodes: document?.nodes.length ?? 0, edges: document?.edges.length ?? 0, diagnostics: [...diagnostics, ...set] }, null, 2)}\n`,
    );
    return ok ? EXIT.ok : EXIT.badInput;
  }
  const lines = [...diagnostics.map((d) => formatDiagnostic(file, d)), ...setProblems.map((p) => `error: ${p}`)];
  if (!ok) throw new InputProblems([...lines, `${file}: ${errors} error${errors === 1 ? '' : 's'}`]);
  for (const line of lines) io.stdout.write(`${line}\n`);
  const warnings = diagnostics.length;
  io.stdout.write(
    `${file}: ok (${document!.nodes.length} nodes, ${document!.edges.length} edges${warnings ? `, ${warnings} warning${warnings === 1 ? '' : 's'}` : ''})\n`,
  );
  return EXIT.ok;
}
