/**
 * Pure, immutable edits of a DlflowDocument. Untouched nodes and edges keep their object
 * identity, so the canvas can skip re-rendering them and history snapshots share structure.
 */
import {
  DOCUMENT_FORMAT,
  DOCUMENT_VERSION,
  type DlflowDocument,
  type DocEdge,
  type DocNode,
  type DocPosition,
} from '../../../main/protocol/index.ts';
import { edgeIdFor, freshNodeId } from './ids.ts';

export function emptyDocument(): DlflowDocument {
  return { format: DOCUMENT_FORMAT, version: DOCUMENT_VERSION, nodes: [], edges: [] };
}

export function nodeIds(doc: DlflowDocument): Set<string> {
  return new Set(doc.nodes.map((n) => n.id));
}

export function addNode(
  doc: DlflowDocument,
  type: string,
  params: Record<string, unknown>,
  position: DocPosition,
  typeVersion?: number,
): { doc: DlflowDocument; id: string } {
  const id = freshNodeId(type, nodeIds(doc));
  const node: DocNode = { id, type, params: { ...params }, position: { x: Math.round(position.x), y: Math.round(position.y) } };
  // Params are written in the type's current shape; absent means version 1 to the migrations.
  if (typeVersion !== undefined && typeVersion !== 1) node.typeVersion = typeVersion;
  return { doc: { ...doc, nodes: [...doc.nodes, node] }, id };
}

/** Removes nodes (and every edge touching them) and edges. */
export function removeElements(doc: DlflowDocument, nodeIdsToRemove: Iterable<string>, edgeIdsToRemove: Iterable<string> = []): DlflowDocument {
  const nodes = new Set(nodeIdsToRemove);
  const edges = new Set(edgeIdsToRemove);
  if (nodes.size === 0 && edges.size === 0) return doc;
  const keptNodes = doc.nodes.filter((n) => !nodes.has(n.id));
  const keptEdges = doc.edges.filter((e) => !edges.has(e.id) && !nodes.has(e.source) && !nodes.has(e.target));
  if (keptNodes.length === doc.nodes.length && keptEdges.length === doc.edges.length) return doc;
  const out: DlflowDocument = { ...doc, nodes: keptNodes, edges: keptEdges };
  // Deleted nodes leave their groups; a group left empty goes too.
  if (doc.groups?.some((g) => g.nodeIds.some((id) => nodes.has(id)))) {
    const groups = doc.groups
      .map((g) => (g.nodeIds.some((id) => nodes.has(id)) ? { ...g, nodeIds: g.nodeIds.filter((id) => !nodes.has(id)) } : g))
      .filter((g) => g.nodeIds.length > 0);
    if (groups.length > 0) out.groups = groups;
    else delete out.groups;
  }
  return out;
}

/** Moves nodes to new positions (rounded to whole pixels so files diff well). */
export function moveNodes(doc: DlflowDocument, positions: ReadonlyMap<string, DocPosition>): DlflowDocument {
  let changed = false;
  const nodes = doc.nodes.map((n) => {
    const p = positions.get(n.id);
    if (!p) return n;
    const x = Math.round(p.x);
    const y = Math.round(p.y);
    if (x === n.position.x && y === n.position.y) return n;
    changed = true;
    return { ...n, position: { x, y } };
  });
  return changed ? { ...doc, nodes } : doc;
}

export function setParam(doc: DlflowDocument, nodeId: string, key: string, value: unknown): DlflowDocument {
  const node = doc.nodes.find((n) => n.id === nodeId);
  if (!node || Object.is(node.params[key], value)) return doc;
  return { ...doc, nodes: doc.nodes.map((n) => (n === node ? { ...n, params: { ...n.params, [key]: value } } : n)) };
}

/** Sets or (with an empty string) clears a node's label. */
export function setLabel(doc: DlflowDocument, nodeId: string, label: string): DlflowDocument {
  const node = doc.nodes.find((n) => n.id === nodeId);
  if (!node) return doc;
  const trimmed = label.trim();
  if ((node.label ?? '') === trimmed) return doc;
  const next: DocNode = { ...node };
  if (trimmed === '') delete next.label;
  else next.label = trimmed;
  return { ...doc, nodes: doc.nodes.map((n) => (n === node ? next : n)) };
}

/**
 * Adds an edge; an input takes one wire, so an edge already on that input is replaced.
 * Callers check types first (connections.ts).
 */
export function connect(doc: DlflowDocument, c: Omit<DocEdge, 'id'>): { doc: DlflowDocument; edgeId: string } {
  const edge: DocEdge = { id: edgeIdFor(c), source: c.source, sourceHandle: c.sourceHandle, target: c.target, targetHandle: c.targetHandle };
  const taken = new Set(doc.edges.map((e) => e.id));
  if (taken.has(edge.id)) {
    // The same wire again: nothing to do unless its id is held by a different edge.
    const same = doc.edges.find((e) => e.id === edge.id)!;
    if (same.source === c.source && same.sourceHandle === c.sourceHandle && same.target === c.target && same.targetHandle === c.targetHandle)
      return { doc, edgeId: edge.id };
    let i = 2;
    while (taken.has(`${edge.id}#${i}`)) i++;
    edge.id = `${edge.id}#${i}`;
  }
  const edges = doc.edges.filter((e) => !(e.target === c.target && e.targetHandle === c.targetHandle));
  return { doc: { ...doc, edges: [...edges, edge] }, edgeId: edge.id };
}

export type AlignMode = 'left' | 'right' | 'top' | 'bottom' | 'center-x' | 'center-y' | 'distribute-x' | 'distribute-y';

export interface NodeBox {
  id: string;
  x: number;
  y: number;
  width: number;
  height: number;
}

/** New positions for aligning or distributing the given boxes (sizes as measured on screen). */
export function alignPositions(boxes: readonly NodeBox[], mode: AlignMode): Map<string, DocPosition> {
  const out = new Map<string, DocPosition>();
  if (boxes.length < 2) return out;
  const minX = Math.min(...boxes.map((b) => b.x));
  const minY = Math.min(...boxes.map((b) => b.y));
  const maxR = Math.max(...boxes.map((b) => b.x + b.width));
  const maxB = Math.max(...boxes.map((b) => b.y + b.height));
  const cx = (minX + maxR) / 2;
  const cy = (minY + maxB) / 2;
  switch (mode) {
    case 'left':
      for (const b of boxes) out.set(b.id, { x: minX, y: b.y });
      break;
    case 'right':
      for (const b of boxes) out.set(b.id, { x: maxR - b.width, y: b.y });
      break;
    case 'top':
      for (const b of boxes) out.set(b.id, { x: b.x, y: minY });
      break;
    case 'bottom':
      for (const b of boxes) out.set(b.id, { x: b.x, y: maxB - b.height });
      break;
    case 'center-x':
      for (const b of boxes) out.set(b.id, { x: cx - b.width / 2, y: b.y });
      break;
    case 'center-y':
      for (const b of boxes) out.set(b.id, { x: b.x, y: cy - b.height / 2 });
      break;
    case 'distribute-x':
    case 'distribute-y': {
      const horizontal = mode === 'distribute-x';
      const sorted = [...boxes].sort((a, b) => (horizontal ? a.x - b.x : a.y - b.y));
      const total = sorted.reduce((s, b) => s + (horizontal ? b.width : b.height), 0);
      const span = horizontal ? maxR - minX : maxB - minY;
      const gap = (span - total) / (sorted.length - 1);
      let cursor = horizontal ? minX : minY;
      for (const b of sorted) {
        out.set(b.id, horizontal ? { x: cursor, y: b.y } : { x: b.x, y: cursor });
        cursor += (horizontal ? b.width : b.height) + gap;
      }
      break;
    }
    default: {
      const never: never = mode;
      throw new Error(`unknown align mode ${String(never)}`);
    }
  }
  return out;
}
