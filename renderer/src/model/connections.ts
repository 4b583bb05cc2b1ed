/** Whether a wire may be drawn: port existence, direction, exact type match, no cycles. */
import type { DlflowDocument, DocEdge } from '../../../main/protocol/index.ts';
import type { CatalogIndex } from './catalog.ts';

export interface ConnectionAttempt {
  source: string | null;
  sourceHandle: string | null;
  target: string | null;
  targetHandle: string | null;
}

export type ConnectionCheck = { ok: true } | { ok: false; reason: string };

function reaches(edges: readonly DocEdge[], from: string, to: string): boolean {
  const next = new Map<string, string[]>();
  for (const e of edges) {
    const list = next.get(e.source) ?? [];
    list.push(e.target);
    next.set(e.source, list);
  }
  const seen = new Set<string>();
  const stack = [from];
  while (stack.length > 0) {
    const id = stack.pop()!;
    if (id === to) return true;
    if (seen.has(id)) continue;
    seen.add(id);
    stack.push(...(next.get(id) ?? []));
  }
  return false;
}

/**
 * Checks a connection the user is drawing. Reasons are written for a toast: they name the
 * ports and types involved. A wire onto an occupied input is allowed (it replaces the old one).
 */
export function checkConnection(doc: DlflowDocument, index: CatalogIndex, c: ConnectionAttempt): ConnectionCheck {
  if (!c.source || !c.target || !c.sourceHandle || !c.targetHandle) return { ok: false, reason: 'Connect an output to an input.' };
  if (c.source === c.target) return { ok: false, reason: 'A node cannot feed itself.' };
  const sourceNode = doc.nodes.find((n) => n.id === c.source);
  const targetNode = doc.nodes.find((n) => n.id === c.target);
  if (!sourceNode || !targetNode) return { ok: false, reason: 'That node no longer exists.' };
  const sourceSchema = index.byId.get(sourceNode.type);
  const targetSchema = index.byId.get(targetNode.type);
  if (!sourceSchema) return { ok: false, reason: `"${sourceNode.id}" has an unknown type (${sourceNode.type}); it cannot be wired.` };
  if (!targetSchema) return { ok: false, reason: `"${targetNode.id}" has an unknown type (${targetNode.type}); it cannot be wired.` };
  const out = sourceSchema.outputs[c.sourceHandle];
  const inp = targetSchema.inputs[c.targetHandle];
  if (!out) return { ok: false, reason: `${sourceSchema.name} has no output "${c.sourceHandle}".` };
  if (!inp) return { ok: false, reason: `${targetSchema.name} has no input "${c.targetHandle}".` };
  if (out.type !== inp.type) {
    const label = (t: string) => index.portTypes.get(t)?.label ?? t;
    return {
      ok: false,
      reason: `Type mismatch: ${sourceSchema.name}.${c.sourceHandle} gives ${label(out.type)}, but ${targetSchema.name}.${c.targetHandle} takes ${label(inp.type)}.`,
    };
  }
  // The wire would close a loop if the target already reaches the source.
  const others = doc.edges.filter((e) => !(e.target === c.target && e.targetHandle === c.targetHandle));
  if (reaches(others, c.target, c.source)) return { ok: false, reason: 'That wire would make a cycle; pipelines must flow one way.' };
  return { ok: true };
}
