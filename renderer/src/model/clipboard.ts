/**
 * Copy/paste of nodes as JSON text, so it works within and across documents (and windows).
 * Pasted nodes get fresh ids; edges among the copied nodes come along, edges to outside don't.
 */
import type { DlflowDocument, DocEdge, DocNode } from '../../../main/protocol/index.ts';
import { edgeIdFor, freshNodeId } from './ids.ts';

export const CLIPBOARD_FORMAT = 'dlflow-clipboard';

export interface ClipboardPayload {
  format: typeof CLIPBOARD_FORMAT;
  nodes: DocNode[];
  edges: DocEdge[];
}

export function copySelection(doc: DlflowDocument, ids: Iterable<string>): ClipboardPayload {
  const wanted = new Set(ids);
  const nodes = doc.nodes.filter((n) => wanted.has(n.id)).map((n) => structuredCloneJson(n));
  const edges = doc.edges.filter((e) => wanted.has(e.source) && wanted.has(e.target)).map((e) => ({ ...e }));
  return { format: CLIPBOARD_FORMAT, nodes, edges };
}

export function clipboardText(payload: ClipboardPayload): string {
  return JSON.stringify(payload, null, 2);
}

function structuredCloneJson<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Parses clipboard text. Accepts our clipboard format and also a whole `.dlflow` document
 * (pasting a file's contents works). Returns undefined for anything else (plain text).
 */
export function parseClipboard(text: string): ClipboardPayload | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isRecord(value) || (value.format !== CLIPBOARD_FORMAT && value.format !== 'dlflow')) return undefined;
  if (!Array.isArray(value.nodes)) return undefined;
  const nodes: DocNode[] = [];
  for (const n of value.nodes) {
    if (!isRecord(n) || typeof n.id !== 'string' || typeof n.type !== 'string') return undefined;
    const pos = isRecord(n.position) ? n.position : {};
    const node: DocNode = {
      id: n.id,
      type: n.type,
      params: isRecord(n.params) ? { ...n.params } : {},
      position: { x: typeof pos.x === 'number' ? pos.x : 0, y: typeof pos.y === 'number' ? pos.y : 0 },
    };
    if (typeof n.label === 'string') node.label = n.label;
    if (typeof n.typeVersion === 'number') node.typeVersion = n.typeVersion;
    nodes.push(node);
  }
  const edges: DocEdge[] = [];
  for (const e of Array.isArray(value.edges) ? value.edges : []) {
    if (!isRecord(e)) continue;
    const { source, sourceHandle, target, targetHandle } = e;
    if (typeof source !== 'string' || typeof target !== 'string' || typeof sourceHandle !== 'string' || typeof targetHandle !== 'string') continue;
    edges.push({ id: typeof e.id === 'string' ? e.id : '', source, sourceHandle, target, targetHandle });
  }
  return { format: CLIPBOARD_FORMAT, nodes, edges };
}

/**
 * Adds the payload's nodes to `doc` with fresh ids, shifted by `offset` (or placed so their
 * top-left corner lands on `at`). Returns the new document and the ids of the pasted nodes.
 */
export function pasteInto(
  doc: DlflowDocument,
  payload: ClipboardPayload,
  place: { offset?: { x: number; y: number }; at?: { x: number; y: number } } = {},
): { doc: DlflowDocument; ids: string[] } {
  if (payload.nodes.length === 0) return { doc, ids: [] };
  const taken = new Set(doc.nodes.map((n) => n.id));
  const rename = new Map<string, string>();
  const minX = Math.min(...payload.nodes.map((n) => n.position.x));
  const minY = Math.min(...payload.nodes.map((n) => n.position.y));
  const dx = place.at ? place.at.x - minX : (place.offset?.x ?? 40);
  const dy = place.at ? place.at.y - minY : (place.offset?.y ?? 40);
  const nodes = payload.nodes.map((n) => {
    const id = freshNodeId(n.type, taken);
    rename.set(n.id, id);
    const out: DocNode = { id, type: n.type, params: structuredCloneJson(n.params), position: { x: Math.round(n.position.x + dx), y: Math.round(n.position.y + dy) } };
    if (n.label !== undefined) out.label = n.label;
    if (n.typeVersion !== undefined) out.typeVersion = n.typeVersion;
    return out;
  });
  const edgeIds = new Set(doc.edges.map((e) => e.id));
  const edges: DocEdge[] = [];
  for (const e of payload.edges) {
    const source = rename.get(e.source);
    const target = rename.get(e.target);
    if (!source || !target) continue;
    const edge = { source, sourceHandle: e.sourceHandle, target, targetHandle: e.targetHandle };
    let id = edgeIdFor(edge);
    for (let i = 2; edgeIds.has(id); i++) id = `${edgeIdFor(edge)}#${i}`;
    edgeIds.add(id);
    edges.push({ id, ...edge });
  }
  return { doc: { ...doc, nodes: [...doc.nodes, ...nodes], edges: [...doc.edges, ...edges] }, ids: nodes.map((n) => n.id) };
}
