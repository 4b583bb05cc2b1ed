/** The `.dlflow` text form: pretty JSON with a stable key order so files diff well. */
import type { DlflowDocument, DocEdge, DocNode } from '../../../main/protocol/index.ts';

function orderNode(n: DocNode): DocNode {
  const out: DocNode = { id: n.id, type: n.type, params: n.params, position: { x: n.position.x, y: n.position.y } };
  if (n.label !== undefined) out.label = n.label;
  return out;
}

function orderEdge(e: DocEdge): DocEdge {
  return { id: e.id, source: e.source, sourceHandle: e.sourceHandle, target: e.target, targetHandle: e.targetHandle };
}

/** Key order: format, version, nodes {id, type, params, position, label?}, edges, viewport?. */
export function serializeDocument(doc: DlflowDocument): string {
  const out: DlflowDocument = { format: doc.format, version: doc.version, nodes: doc.nodes.map(orderNode), edges: doc.edges.map(orderEdge) };
  if (doc.viewport) out.viewport = { x: doc.viewport.x, y: doc.viewport.y, zoom: doc.viewport.zoom };
  return `${JSON.stringify(out, null, 2)}\n`;
}

/** Structural equality of two documents as saved (ignores key order). */
export function sameDocument(a: DlflowDocument, b: DlflowDocument): boolean {
  return a === b || serializeDocument(a) === serializeDocument(b);
}
