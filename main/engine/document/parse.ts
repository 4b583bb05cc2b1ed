/** Text → document: JSON syntax, format and version, migrations, structure, then validation. */
import type { Diagnostic, DlflowDocument } from '../../protocol/index.ts';
import { DOCUMENT_FORMAT, DOCUMENT_VERSION } from '../../protocol/index.ts';
import type { Registry } from '../registry.ts';
import { locateJsonError } from './json-error.ts';
import { migrateDocument, migrateNodeParams, MigrationError } from './migrations.ts';
import { checkStructure, describeValue } from './structure.ts';
import { validateDocument } from './validate.ts';

export interface ParseOptions {
  registry: Registry;
  /** Names the file in document-level messages (as given, e.g. `samples/hello.dlflow`). */
  path?: string;
  /** Also run `validateDocument` (default true). */
  validate?: boolean;
}

export interface ParseResult {
  /** Present unless the file is unusable (bad JSON, not dlflow, newer version, broken shape). */
  document?: DlflowDocument;
  diagnostics: Diagnostic[];
}

/**
 * Parses the text of a `.dlflow` file. Malformed JSON is reported with line and column; a
 * file from a newer dlflow is refused ('newer-version'), never downgraded; older versions go
 * through the document migrations, then each node's param migrations. A document comes back
 * whenever its shape is usable, even if validation found problems (unknown node types are
 * kept as placeholders), so an editor can open it and show them on the nodes.
 */
export function parseDocumentText(text: string, options: ParseOptions): ParseResult {
  const { registry, path } = options;
  const file = path ?? 'document';
  const fail = (code: Diagnostic['code'], message: string, extra: Partial<Diagnostic> = {}): ParseResult => ({
    diagnostics: [{ severity: 'error', code, message, ...extra }],
  });

  // Editors on Windows like to prepend a byte-order mark; JSON.parse rejects it.
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  let raw: unknown;
  try {
    raw = JSON.parse(body);
  } catch (error) {
    const where = locateJsonError(body, error);
    return fail('malformed-json', `${file}: malformed JSON at line ${where.line}, column ${where.column}: ${where.message}`, {
      line: where.line,
      column: where.column,
    });
  }

  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    return fail('invalid-document', `${file}: not a dlflow document (the top level is ${describeValue(raw)}, expected an object)`);
  const top = raw as Record<string, unknown>;
  if (top.format !== DOCUMENT_FORMAT)
    return fail(
      'invalid-document',
      top.format === undefined
        ? `${file}: not a dlflow document (no "format": "${DOCUMENT_FORMAT}")`
        : `${file}: not a dlflow document ("format" is ${describeValue(top.format)}, expected "${DOCUMENT_FORMAT}")`,
    );
  const version = top.version;
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 0)
    return fail('invalid-document', `${file}: "version" must be a whole number, got ${describeValue(version)}`);
  if (version > DOCUMENT_VERSION)
    return fail(
      'newer-version',
      `${file}: written by a newer dlflow (document version ${version}; this dlflow reads up to version ${DOCUMENT_VERSION}); update dlflow to open it`,
    );

  const diagnostics: Diagnostic[] = [];
  let migrated: Record<string, unknown> = top;
  if (version < DOCUMENT_VERSION) {
    try {
      migrated = migrateDocument(structuredClone(top), {
        registry,
        warn: (message, nodeId) => diagnostics.push({ severity: 'warning', code: 'invalid-document', message, nodeId }),
      });
    } catch (error) {
      if (!(error instanceof MigrationError)) throw error;
      return { diagnostics: [...diagnostics, { severity: 'error', code: 'invalid-document', message: `${file}: ${error.message}` }] };
    }
  }

  const structure = checkStructure(migrated);
  diagnostics.push(...structure.diagnostics);
  if (!structure.document) return { diagnostics };

  const nodes = migrateNodeParams(structure.document, registry);
  diagnostics.push(...nodes.diagnostics);
  if (options.validate !== false) {
    // A node left unmigrated (newer or failed) is already reported; its params would only add noise.
    const skip = new Set(nodes.diagnostics.map((d) => d.nodeId));
    diagnostics.push(
      ...validateDocument(nodes.document, registry).filter((d) => !(d.nodeId && skip.has(d.nodeId) && d.code.startsWith('param-'))),
    );
  }
  return { document: nodes.document, diagnostics };
}
