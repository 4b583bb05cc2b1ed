/**
 * Structural check of a current-version document (shapes and field types, not the graph),
 * with zod; problems become diagnostics that name the node or edge and the field.
 */
import { z } from 'zod';
import type { Diagnostic, DlflowDocument, DocEdge, DocNode } from '../../protocol/index.ts';
import { DOCUMENT_FORMAT } from '../../protocol/index.ts';

/*
 * Leniency for hand-written files: `params` defaults to {}, `position` to (0, 0), `edges` to []
 * and an edge without an id gets one derived from its ends. Files we write always carry them.
 */
function schemas(strict: boolean) {
  const obj = <T extends z.core.$ZodLooseShape>(shape: T) => (strict ? z.strictObject(shape) : z.object(shape));
  const position = obj({ x: z.number(), y: z.number() });
  const node = obj({
    id: z.string().min(1),
    type: z.string().min(1),
    params: z.record(z.string(), z.unknown()).default({}),
    position: position.default({ x: 0, y: 0 }),
    label: z.string().optional(),
    typeVersion: z.int().min(1).optional(),
  });
  const edge = obj({
    id: z.string().min(1).optional(),
    source: z.string().min(1),
    sourceHandle: z.string().min(1),
    target: z.string().min(1),
    targetHandle: z.string().min(1),
  });
  const group = obj({
    id: z.string().min(1),
    label: z.string().default(''),
    nodeIds: z.array(z.string()).default([]),
    color: z.string().optional(),
  });
  const viewport = obj({ x: z.number(), y: z.number(), zoom: z.number().positive() });
  return obj({
    format: z.literal(DOCUMENT_FORMAT),
    version: z.int().min(0),
    nodes: z.array(node),
    edges: z.array(edge).default([]),
    groups: z.array(group).optional(),
    viewport: viewport.optional(),
  });
}

const strictSchema = schemas(true);
const looseSchema = schemas(false);

/** A short rendering of a JSON value for messages. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') {
    const s = value.length > 40 ? `${value.slice(0, 37)}...` : value;
    return JSON.stringify(s);
  }
  return String(value);
}

function at(root: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = root;
  for (const k of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[k];
  }
  return v;
}

const EXPECTED: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'true or false',
  object: 'an object',
  array: 'an array',
  record: 'an object',
};

/** Who a path inside the raw document concerns, for the message prefix and the diagnostic. */
function subject(raw: unknown, path: readonly PropertyKey[]): { prefix: string; nodeId?: string; edgeId?: string; rest: PropertyKey[] } {
  const [top, index, ...rest] = path;
  if (top === 'groups' && typeof index === 'number') {
    const id = at(raw, [top, index, 'id']);
    return { prefix: typeof id === 'string' && id !== '' ? `group "${id}"` : `group #${index + 1}`, rest };
  }
  if ((top === 'nodes' || top === 'edges') && typeof index === 'number') {
    const id = at(raw, [top, index, 'id']);
    const what = top === 'nodes' ? 'node' : 'edge';
    if (typeof id === 'string' && id !== '') {
      return { prefix: `${what} "${id}"`, rest, ...(top === 'nodes' ? { nodeId: id } : { edgeId: id }) };
    }
    return { prefix: `${what} #${index + 1}`, rest };
  }
  return { prefix: 'document', rest: [...path] };
}

const dotted = (path: readonly PropertyKey[]): string => path.map(String).join('.');

function issueDiagnostic(raw: unknown, issue: z.core.$ZodIssue): Diagnostic {
  const { prefix, rest, nodeId, edgeId } = subject(raw, issue.path);
  const field = dotted(rest);
  const value = at(raw, issue.path);
  const base = { nodeId, edgeId } as const;
  const name = field ? `"${field}"` : 'it';
  let message: string;
  let severity: Diagnostic['severity'] = 'error';
  switch (issue.code) {
    case 'invalid_type':
      message =
        value === undefined
          ? `${prefix}: "${field}" is missing`
          : `${prefix}: ${name} must be ${EXPECTED[issue.expected] ?? issue.expected}, got ${describeValue(value)}`;
      break;
    case 'unrecognized_keys': {
      severity = 'warning';
      const keys = issue.keys.map((k) => `"${field ? `${field}.` : ''}${k}"`).join(', ');
      message = `${prefix}: unknown field${issue.keys.length > 1 ? 's' : ''} ${keys} (ignored, and dropped when saved)`;
      break;
    }
    case 'too_small':
      message =
        typeof value === 'string'
          ? `${prefix}: ${name} must not be empty`
          : `${prefix}: ${name} is ${describeValue(value)}, must be ${issue.inclusive ? 'at least' : 'more than'} ${String(issue.minimum)}`;
      break;
    case 'invalid_value':
      message = `${prefix}: ${name} is ${describeValue(value)}, expected ${issue.values.map((v) => JSON.stringify(v)).join(' or ')}`;
      break;
    default:
      message = `${prefix}: ${name} is invalid (${issue.message})`;
  }
  return { severity, code: 'invalid-document', message, ...base };
}

/**
 * Checks the shape of a (migrated) raw document. Returns the typed document, or undefined
 * when an error makes it unusable; unknown fields are warnings and are dropped.
 */
export function checkStructure(raw: unknown): { document?: DlflowDocument; diagnostics: Diagnostic[] } {
  const strict = strictSchema.safeParse(raw);
  if (strict.success) return { document: normalise(strict.data), diagnostics: [] };
  const diagnostics = strict.error.issues.map((issue) => issueDiagnostic(raw, issue));
  if (diagnostics.some((d) => d.severity === 'error')) return { diagnostics };
  const loose = looseSchema.safeParse(raw);
  if (!loose.success) return { diagnostics: [...diagnostics, ...loose.error.issues.map((i) => issueDiagnostic(raw, i))] };
  return { document: normalise(loose.data), diagnostics };
}

type Parsed = z.infer<typeof looseSchema>;

/** The id given to an edge written without one. */
export const derivedEdgeId = (e: Omit<DocEdge, 'id'>): string => `${e.source}.${e.sourceHandle}->${e.target}.${e.targetHandle}`;

function normalise(data: Parsed): DlflowDocument {
  const nodes = data.nodes.map((n): DocNode => {
    const node: DocNode = { id: n.id, type: n.type, params: { ...n.params }, position: { x: n.position.x, y: n.position.y } };
    if (n.label !== undefined) node.label = n.label;
    if (n.typeVersion !== undefined) node.typeVersion = n.typeVersion;
    return node;
  });
  const edges = data.edges.map(
    (e): DocEdge => ({
      id: e.id ?? derivedEdgeId(e),
      source: e.source,
      sourceHandle: e.sourceHandle,
      target: e.target,
      targetHandle: e.targetHandle,
    }),
  );
  const doc: DlflowDocument = { format: DOCUMENT_FORMAT, version: data.version, nodes, edges };
  if (data.groups)
    doc.groups = data.groups.map((g) => ({ id: g.id, label: g.label, nodeIds: [...g.nodeIds], ...(g.color !== undefined ? { color: g.color } : {}) }));
  if (data.viewport) doc.viewport = { ...data.viewport };
  return doc;
}

/** Why `doc` cannot be written as a current document (empty when it can); extra fields are fine. */
export function structureProblems(doc: unknown): string[] {
  const result = looseSchema.safeParse(doc);
  return result.success ? [] : result.error.issues.map((i) => issueDiagnostic(doc, i).message);
}
