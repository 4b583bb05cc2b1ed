/** Loading a document for the CLI: read, apply `--set`, validate, and print problems the way compilers do. */
import { isAbsolute, resolve } from 'node:path';
import type { Diagnostic, DlflowDocument, DocNode } from '../protocol/index.ts';
// Engine modules are imported one by one, not through engine/index.ts, so that checking a
// document does not load TensorFlow.js (bad input fails in well under a second).
import { nodeRef, readDocumentFile, validateDocument } from '../engine/document/index.ts';
import { checkParam, parseParamText } from '../engine/params.ts';
import type { Registry } from '../engine/registry.ts';

/** Bad input found while preparing a run: every problem is printed, then the CLI exits 2. */
export class InputProblems extends Error {
  override name = 'InputProblems';
  constructor(readonly lines: string[]) {
    super(lines.join('\n'));
  }
}

/**
 * One line per diagnostic, `error: FILE: node "id" (type): ...`, or for malformed JSON
 * `error: FILE:LINE:COL: malformed JSON: ...` (the form editors and terminals link).
 */
export function formatDiagnostic(file: string, d: Diagnostic): string {
  const level = d.severity === 'error' ? 'error' : 'warning';
  if (d.code === 'malformed-json' && d.line !== undefined) {
    const detail = /malformed JSON at line \d+, column \d+: ([\s\S]*)$/.exec(d.message)?.[1] ?? d.message;
    return `${level}: ${file}:${d.line}:${d.column ?? 1}: malformed JSON: ${detail}`;
  }
  const located = d.message.startsWith(`${file}:`) ? d.message : `${file}: ${d.message}`;
  return `${level}: ${located}`;
}

/** Finds a node by id, else by label; throws a message naming what exists when neither matches. */
export function findNode(doc: DlflowDocument, ref: string, what: string): DocNode {
  const byId = doc.nodes.find((n) => n.id === ref);
  if (byId) return byId;
  const byLabel = doc.nodes.filter((n) => n.label === ref);
  if (byLabel.length === 1) return byLabel[0];
  if (byLabel.length > 1)
    throw new Error(`${what}: ${byLabel.length} nodes are labelled "${ref}" (${byLabel.map((n) => n.id).join(', ')}); use the node id`);
  throw new Error(`${what}: no node "${ref}" in the document (nodes: ${doc.nodes.map((n) => n.id).join(', ') || 'none'})`);
}

/**
 * Applies `--set node.param=value` assignments to a copy of `doc`. The node is found by id or
 * label (the param is what follows the last dot, so ids with dots work), the value is parsed by
 * the param's kind and checked against its range. Path values are taken relative to the
 * current folder, as a shell user expects, and stored absolute.
 */
export function applySets(doc: DlflowDocument, sets: readonly string[], registry: Registry): { document: DlflowDocument; problems: string[] } {
  const document = structuredClone(doc);
  const problems: string[] = [];
  for (const assignment of sets) {
    const what = `--set ${assignment}`;
    try {
      const eq = assignment.indexOf('=');
      const lhs = eq < 0 ? assignment : assignment.slice(0, eq);
      const dot = lhs.lastIndexOf('.');
      if (eq < 0 || dot <= 0 || dot === lhs.length - 1) throw new Error(`${what}: expected node.param=value`);
      const text = assignment.slice(eq + 1);
      const node = findNode(document, lhs.slice(0, dot), what);
      const key = lhs.slice(dot + 1);
      const type = registry.get(node.type);
      if (!type) throw new Error(`${what}: ${nodeRef(node)}: unknown node type, its params cannot be set`);
      const schema = type.params[key];
      if (!schema) {
        const known = Object.keys(type.params);
        throw new Error(`${what}: ${nodeRef(node)}: has no param "${key}" (params: ${known.join(', ') || 'none'})`);
      }
      let value: unknown;
      try {
        value = parseParamText(key, schema, text);
      } catch (error) {
        throw new Error(`${what}: ${nodeRef(node)}: ${error instanceof Error ? error.message : String(error)}`);
      }
      const problem = checkParam(key, schema, value);
      if (problem) throw new Error(`${what}: ${nodeRef(node)}: ${problem.message}`);
      if (schema.kind === 'path' && typeof value === 'string' && value !== '' && !isAbsolute(value)) value = resolve(value);
      node.params = { ...node.params, [key]: value };
    } catch (error) {
      problems.push(error instanceof Error ? error.message : String(error));
    }
  }
  return { document, problems };
}

export interface LoadedDocument {
  document: DlflowDocument;
  /** Warnings to show (errors were thrown as InputProblems). */
  warnings: string[];
}

/**
 * Reads `file` (as the user typed it; messages name it that way), applies `sets`, and
 * validates. Throws `UserError` when the file cannot be read and `InputProblems` listing
 * every error (file, --set, graph, params) when it cannot run.
 */
export async function loadDocument(file: string, registry: Registry, sets: readonly string[] = []): Promise<LoadedDocument> {
  const parsed = await readDocumentFile(file, registry, { validate: false });
  const lines = (ds: Diagnostic[]): string[] => ds.map((d) => formatDiagnostic(file, d));
  const errors = (ds: Diagnostic[]): Diagnostic[] => ds.filter((d) => d.severity === 'error');
  const warnings = (ds: Diagnostic[]): Diagnostic[] => ds.filter((d) => d.severity !== 'error');
  if (!parsed.document) throw new InputProblems(lines(errors(parsed.diagnostics)));
  const { document, problems } = applySets(parsed.document, sets, registry);
  // A node left unmigrated is already reported; its params would only add noise (as parseDocumentText does).
  const unmigrated = new Set(parsed.diagnostics.map((d) => d.nodeId).filter(Boolean));
  const found = [
    ...parsed.diagnostics,
    ...validateDocument(document, registry).filter((d) => !(d.nodeId && unmigrated.has(d.nodeId) && d.code.startsWith('param-'))),
  ];
  const bad = [...lines(errors(found)), ...problems.map((p) => `error: ${p}`)];
  if (bad.length > 0) throw new InputProblems([...lines(warnings(found)), ...bad]);
  return { document, warnings: lines(warnings(found)) };
}

/** Resolves `--target` references (id or label) to node ids. */
export function resolveTargets(doc: DlflowDocument, targets: readonly string[]): string[] {
  const problems: string[] = [];
  const ids: string[] = [];
  for (const t of targets) {
    try {
      ids.push(findNode(doc, t, `--target ${t}`).id);
    } catch (error) {
      problems.push(`error: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  if (problems.length > 0) throw new InputProblems(problems);
  return ids;
}

