/** The `.dlflow` text form: pretty JSON with a stable key order so files diff well. */
import { savedGroups, type DlflowDocument, type DocEdge, type DocNode } from '../../../main/protocol/index.ts';

/** Object keys sorted at every depth, as the engine writes params. */
function sortedDeep(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedDeep);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) out[key] = sortedDeep((value as Record<string, unknown>)[key]);
    return out;
  }
  return value;
}

function orderNode(n: DocNode): Record<string, unknown> {
  const out: Record<string, unknown> = { id: n.id, type: n.type };
  if (n.typeVersion !== undefined) out.typeVersion = n.typeVersion;
  if (n.label !== undefined) out.label = n.label;
  out.position = { x: n.position.x, y: n.position.y };
  out.params = sortedDeep(n.params);
  return out;
}

function orderEdge(e: DocEdge): DocEdge {
  return { id: e.id, source: e.source, sourceHandle: e.sourceHandle, target: e.target, targetHandle: e.targetHandle };
}

/**
 * The same text the engine writes: format, version, nodes {id, type, typeVersion?, label?,
 * position, params sorted}, edges {id, source, sourceHandle, target, targetHandle}, groups? (dangling
 * member ids and empty groups dropped), viewport?.
 */
export function serializeDocument(doc: DlflowDocument): string {
  const out: Record<string, unknown> = { format: doc.format, version: doc.version, nodes: doc.nodes.map(orderNode), edges: doc.edges.map(orderEdge) };
  const groups = savedGroups(doc.groups, doc.nodes);
  if (groups.length > 0) out.groups = groups;
  if (doc.viewport) out.viewport = { x: doc.viewport.x, y: doc.viewport.y, zoom: doc.viewport.zoom };
  return `${JSON.stringify(out, null, 2)}\n`;
}

/** Structural equality of two documents as saved (ignores key order). */
export function sameDocument(a: DlflowDocument, b: DlflowDocument): boolean {
  return a === b || serializeDocument(a) === serializeDocument(b);
}
