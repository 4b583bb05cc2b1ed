/** The node registry: checks invariants of the node list at start and serves schemas. */
import type { NodeCatalog, NodeSchema } from '../protocol/index.ts';
import { PREVIEW_KINDS } from '../protocol/index.ts';
import type { NodeType, PortTypeDefinition } from './node-api.ts';
import { nodeSchemaOf } from './node-api.ts';
import { checkParam } from './params.ts';

export interface Registry {
  get(typeId: string): NodeType | undefined;
  portType(id: string): PortTypeDefinition | undefined;
  types(): NodeType[];
  catalog(): NodeCatalog;
}

const ID_PATTERN = /^[a-z0-9-]+(:[a-z0-9-]+)+$/;
const KEY_PATTERN = /^[a-z][A-Za-z0-9]*$/;

/**
 * Builds a registry, throwing one error listing every broken invariant: duplicate ids,
 * unknown port types, defaults outside bounds, malformed keys.
 */
export function createRegistry(nodes: readonly NodeType[], portTypes: readonly PortTypeDefinition[]): Registry {
  const problems: string[] = [];
  const ports = new Map<string, PortTypeDefinition>();
  for (const p of portTypes) {
    if (ports.has(p.id)) problems.push(`port type "${p.id}" is defined twice`);
    ports.set(p.id, p);
  }
  const byId = new Map<string, NodeType>();
  for (const node of nodes) {
    const at = `node "${node.id}"`;
    if (!ID_PATTERN.test(node.id)) problems.push(`${at}: id must look like "dlflow:category:kebab-name"`);
    if (byId.has(node.id)) problems.push(`${at}: id is used twice`);
    byId.set(node.id, node);
    if (!Number.isInteger(node.version) || node.version < 1) problems.push(`${at}: version must be a positive integer`);
    for (const [dir, record] of [
      ['input', node.inputs],
      ['output', node.outputs],
    ] as const) {
      for (const [key, port] of Object.entries(record)) {
        if (!KEY_PATTERN.test(key)) problems.push(`${at}: ${dir} "${key}" must be camelCase`);
        if (!ports.has(port.type)) problems.push(`${at}: ${dir} "${key}" has unknown port type "${port.type}"`);
      }
    }
    for (const [key, schema] of Object.entries(node.params)) {
      if (!KEY_PATTERN.test(key)) problems.push(`${at}: param "${key}" must be camelCase`);
      const bad = checkParam(key, schema, schema.default);
      // An empty default of a required string/path means "the user must set it": documents
      // are told so when validated, but the node type itself is fine.
      if (bad && bad.code !== 'param-invalid') problems.push(`${at}: default of ${bad.message}`);
      if (schema.kind === 'number' || schema.kind === 'integer') {
        if (schema.min !== undefined && schema.max !== undefined && schema.min > schema.max)
          problems.push(`${at}: param "${key}" has min > max`);
      }
      if (schema.kind === 'enum' && schema.options.length === 0) problems.push(`${at}: param "${key}" has no options`);
    }
    for (const kind of node.previews)
      if (!PREVIEW_KINDS.includes(kind)) problems.push(`${at}: unknown preview kind "${kind}"`);
    const versions = node.migrations.map((m) => m.toVersion);
    if (versions.some((v, i) => i > 0 && v <= versions[i - 1]) || versions.some((v) => v > node.version))
      problems.push(`${at}: migrations must be in ascending toVersion order, none above the node version`);
  }
  if (problems.length > 0) throw new Error(`invalid node registry:\n  ${problems.join('\n  ')}`);

  let catalog: NodeCatalog | undefined;
  return {
    get: (id) => byId.get(id),
    portType: (id) => ports.get(id),
    types: () => [...byId.values()],
    catalog: () =>
      (catalog ??= {
        nodes: [...byId.values()].map((n): NodeSchema => nodeSchemaOf(n)),
        portTypes: [...ports.values()].map(({ id, label, color, description }) => ({ id, label, color, description })),
      }),
  };
}
