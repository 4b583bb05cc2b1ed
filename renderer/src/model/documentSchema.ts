/**
 * A JSON Schema for `.dlflow` files built from the node catalog, so the raw JSON view flags a
 * wrong param type, an out-of-range value or a misspelt key as you type.
 */
import type { NodeCatalog, NodeSchema, ParamSchema } from '../../../main/protocol/index.ts';

type JsonSchema = Record<string, unknown>;

export function paramJsonSchema(p: ParamSchema): JsonSchema {
  const base: JsonSchema = { description: p.description ?? p.label, default: p.default };
  switch (p.kind) {
    case 'number':
      return { ...base, type: 'number', ...(p.min !== undefined ? { minimum: p.min } : {}), ...(p.max !== undefined ? { maximum: p.max } : {}) };
    case 'integer':
      return { ...base, type: 'integer', ...(p.min !== undefined ? { minimum: p.min } : {}), ...(p.max !== undefined ? { maximum: p.max } : {}) };
    case 'seed':
      return { ...base, type: 'integer', minimum: 0, maximum: 2 ** 31 - 1 };
    case 'boolean':
      return { ...base, type: 'boolean' };
    case 'enum':
      return { ...base, type: 'string', enum: [...p.options] };
    case 'string':
    case 'path':
      return { ...base, type: 'string', ...(p.required ? { minLength: 1 } : {}) };
    case 'code':
      return { ...base, type: 'string' };
    default: {
      const never: never = p;
      return { description: String((never as ParamSchema).kind) };
    }
  }
}

function nodeJsonSchema(n: NodeSchema): JsonSchema {
  return {
    if: { properties: { type: { const: n.id } }, required: ['type'] },
    then: {
      properties: {
        params: {
          type: 'object',
          description: n.name,
          properties: Object.fromEntries(Object.entries(n.params).map(([k, p]) => [k, paramJsonSchema(p)])),
          additionalProperties: false,
        },
      },
    },
  };
}

export function documentJsonSchema(catalog: NodeCatalog): JsonSchema {
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    type: 'object',
    required: ['format', 'version', 'nodes', 'edges'],
    properties: {
      format: { const: 'dlflow' },
      version: { type: 'integer', minimum: 1 },
      nodes: {
        type: 'array',
        items: {
          type: 'object',
          required: ['id', 'type', 'params', 'position'],
          properties: {
            id: { type: 'string', minLength: 1 },
            type: { type: 'string', examples: catalog.nodes.map((n) => n.id) },
            params: { type: 'object' },
            position: { type: 'object', required: ['x', 'y'], properties: { x: { type: 'number' }, y: { type: 'number' } }, additionalProperties: false },
            label: { type: 'string' },
            typeVersion: { type: 'integer', minimum: 1 },
          },
          additionalProperties: false,
          allOf: catalog.nodes.map(nodeJsonSchema),
        },
      },
      edges: {
        type: 'array',
        items: {
          type: 'object',
          required: ['id', 'source', 'sourceHandle', 'target', 'targetHandle'],
          properties: {
            id: { type: 'string' },
            source: { type: 'string' },
            sourceHandle: { type: 'string' },
            target: { type: 'string' },
            targetHandle: { type: 'string' },
          },
          additionalProperties: false,
        },
      },
      groups: {
        type: 'array',
        items: {
          type: 'object',
          required: ['id', 'label', 'nodeIds'],
          properties: {
            id: { type: 'string' },
            label: { type: 'string' },
            color: { type: 'string' },
            nodeIds: { type: 'array', items: { type: 'string' } },
          },
          additionalProperties: false,
        },
      },
      viewport: { type: 'object', properties: { x: { type: 'number' }, y: { type: 'number' }, zoom: { type: 'number' } } },
    },
    additionalProperties: false,
  };
}

/** Line (1-based) of a node's `"id": "<nodeId>"` in the serialized text, to pin a diagnostic. */
export function lineOfNode(text: string, nodeId: string): number | undefined {
  const needle = `"id": ${JSON.stringify(nodeId)}`;
  const at = text.indexOf(needle);
  if (at < 0) return undefined;
  let line = 1;
  for (let i = 0; i < at; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}
