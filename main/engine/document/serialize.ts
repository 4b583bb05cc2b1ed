/** The on-disk text of a document: stable key order, 2-space indent, trailing newline. */
import type { DlflowDocument } from '../../protocol/index.ts';
import { DOCUMENT_FORMAT, DOCUMENT_VERSION, savedGroups } from '../../protocol/index.ts';
import { derivedEdgeId, structureProblems } from './structure.ts';

/** Object keys sorted at every depth, so param values diff stably whatever built them. */
function sortedDeep(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedDeep);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) out[key] = sortedDeep((value as Record<string, unknown>)[key]);
    return out;
  }
  return value;
}

/**
 * Serialises a current-version document with a fixed key order: format, version, nodes (id,
 * type, typeVersion?, label?, position {x, y}, params sorted by key), edges (id, source,
 * sourceHandle, target, targetHandle), groups? (id, label, color?, nodeIds; member ids that name
 * no node and empty groups dropped), viewport (x, y, zoom). Fields outside the format are
 * dropped. Parsing the result and serialising again gives the same bytes. Throws if the
 * document is not structurally valid (a bug in the caller, not a user error).
 */
export function serializeDocument(doc: DlflowDocument): string {
  const problems = structureProblems(doc);
  if (problems.length > 0) throw new Error(`cannot serialise an invalid document: ${problems.join('; ')}`);
  if (doc.version !== DOCUMENT_VERSION)
    throw new Error(`cannot serialise a version ${doc.version} document; this dlflow writes version ${DOCUMENT_VERSION}`);
  const out: Record<string, unknown> = {
    format: DOCUMENT_FORMAT,
    version: DOCUMENT_VERSION,
    nodes: doc.nodes.map((n) => {
      const node: Record<string, unknown> = { id: n.id, type: n.type };
      if (n.typeVersion !== undefined) node.typeVersion = n.typeVersion;
      if (n.label !== undefined) node.label = n.label;
      node.position = { x: n.position.x, y: n.position.y };
      node.params = sortedDeep(n.params ?? {});
      return node;
    }),
    edges: (doc.edges ?? []).map((e) => ({
      id: e.id ?? derivedEdgeId(e),
      source: e.source,
      sourceHandle: e.sourceHandle,
      target: e.target,
      targetHandle: e.targetHandle,
    })),
  };
  const groups = savedGroups(doc.groups, doc.nodes);
  if (groups.length > 0) out.groups = groups;
  if (doc.viewport) out.viewport = { x: doc.viewport.x, y: doc.viewport.y, zoom: doc.viewport.zoom };
  return `${JSON.stringify(out, null, 2)}\n`;
}
