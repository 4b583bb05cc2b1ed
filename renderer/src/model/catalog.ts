/** Lookups over the node catalog from `listNodes()`. */
import type { NodeCatalog, NodeSchema, ParamSchema, PortTypeSchema } from '../../../main/protocol/index.ts';

export interface CatalogIndex {
  catalog: NodeCatalog;
  byId: Map<string, NodeSchema>;
  portTypes: Map<string, PortTypeSchema>;
  categories: string[];
}

export const EMPTY_CATALOG: NodeCatalog = { nodes: [], portTypes: [] };

export function indexCatalog(catalog: NodeCatalog): CatalogIndex {
  const byId = new Map(catalog.nodes.map((n) => [n.id, n]));
  const portTypes = new Map(catalog.portTypes.map((p) => [p.id, p]));
  const categories = [...new Set(catalog.nodes.map((n) => n.category))].sort();
  return { catalog, byId, portTypes, categories };
}

/** Default params of a node type: every param's default. */
export function defaultParams(schema: NodeSchema): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, p] of Object.entries(schema.params)) out[key] = (p as ParamSchema).default;
  return out;
}

const PALETTE = ['#4f7cff', '#e07a2e', '#2fa36b', '#b44fd6', '#d64f6b', '#2aa7b8', '#b8a22a', '#7a8a99'];

/** A stable colour per category (hash of its name), so the same category always looks the same. */
export function categoryColor(category: string): string {
  let h = 0;
  for (let i = 0; i < category.length; i++) h = (h * 31 + category.charCodeAt(i)) >>> 0;
  return PALETTE[h % PALETTE.length];
}

export function portColor(index: CatalogIndex, type: string): string {
  return index.portTypes.get(type)?.color ?? '#8a8f98';
}

/** Case-insensitive match on name, id, category and description. */
export function matchesSearch(schema: NodeSchema, query: string): boolean {
  const q = query.trim().toLowerCase();
  if (q === '') return true;
  const hay = `${schema.name} ${schema.id} ${schema.category} ${schema.description}`.toLowerCase();
  return q.split(/\s+/).every((word) => hay.includes(word));
}

/**
 * Node types that can take a wire dragged from a port: from an output, those with an input of
 * that type; from an input, those with an output of that type. Each comes with the matching port.
 */
export function compatibleNodes(
  index: CatalogIndex,
  portType: string,
  from: 'source' | 'target',
): { schema: NodeSchema; port: string }[] {
  const out: { schema: NodeSchema; port: string }[] = [];
  for (const schema of index.catalog.nodes) {
    const ports = from === 'source' ? schema.inputs : schema.outputs;
    const port = Object.entries(ports).find(([, p]) => p.type === portType)?.[0];
    if (port !== undefined) out.push({ schema, port });
  }
  return out;
}
