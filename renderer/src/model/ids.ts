/** Id helpers for nodes and edges created in the editor. */
import type { DocEdge } from '../../../main/protocol/index.ts';

/** The last segment of a type id, e.g. `dlflow:augment:random-flip` → `random-flip`. */
export function typeStem(typeId: string): string {
  const stem = typeId.split(':').pop() ?? typeId;
  const clean = stem.replace(/[^A-Za-z0-9_-]+/g, '-').replace(/^-+|-+$/g, '');
  return clean === '' ? 'node' : clean;
}

/** A readable id not in `taken`: `<stem>-1`, `<stem>-2`, … (taken is updated). */
export function freshNodeId(typeId: string, taken: Set<string>): string {
  const stem = typeStem(typeId);
  for (let i = 1; ; i++) {
    const id = `${stem}-${i}`;
    if (!taken.has(id)) {
      taken.add(id);
      return id;
    }
  }
}

/** A deterministic edge id from its endpoints (unique because an input takes one edge). */
export function edgeIdFor(e: Omit<DocEdge, 'id'>): string {
  return `${e.source}.${e.sourceHandle}->${e.target}.${e.targetHandle}`;
}

/** A run id that is unique enough without crypto (crypto.randomUUID needs a secure context). */
export function freshRunId(): string {
  const c = (globalThis as { crypto?: { randomUUID?: () => string } }).crypto;
  if (c?.randomUUID) {
    try {
      return c.randomUUID();
    } catch {
      // Not a secure context: fall through.
    }
  }
  return `run-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
}
