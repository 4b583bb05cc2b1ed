/**
 * Upgrading old files: first the ordered document migrations (whole-file shape), then each
 * node's own param migrations (`NodeType.migrations`, declared in its node file).
 */
import type { Diagnostic, DlflowDocument, DocNode } from '../../protocol/index.ts';
import { DOCUMENT_VERSION } from '../../protocol/index.ts';
import type { Registry } from '../registry.ts';

type Raw = Record<string, unknown>;

export interface MigrationContext {
  registry: Registry;
  /** Records something the migration had to guess or could not carry over. */
  warn(message: string, nodeId?: string): void;
}

/** One step of the document format. `migrate` gets the raw JSON of version `from`. */
export interface DocumentMigration {
  from: number;
  to: number;
  /** One line for the changelog and for messages. */
  summary: string;
  migrate(raw: Raw, ctx: MigrationContext): Raw;
}

/** Thrown by a migration when the old file is too broken to upgrade; becomes a diagnostic. */
export class MigrationError extends Error {
  override name = 'MigrationError';
}

const isRecord = (v: unknown): v is Raw => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Version 0: the pre-release prototype's shape (never in a release, but files exist).
 *
 * ```json
 * { "format": "dlflow", "version": 0,
 *   "nodes": [{ "id": "a", "kind": "dlflow:data:x", "settings": { ... }, "pos": [40, 80], "title": "..." }],
 *   "links": [{ "from": ["a", 0], "to": ["b", 1] }],
 *   "view": { "x": 0, "y": 0, "zoom": 1 } }
 * ```
 *
 * `kind`/`settings`/`title` became `type`/`params`/`label`, `pos` became `position {x, y}`,
 * `view` became `viewport`. Links addressed ports by their index in the node type's declared
 * output/input order, which broke files whenever a node's ports were reordered; version 1
 * edges name the port (`sourceHandle`/`targetHandle`) and have ids. Indices are mapped to
 * names through the registry; for a node type it does not know, the port is kept as "#index"
 * so nothing is lost and validation points at it once the type is known.
 */
const v0ToV1: DocumentMigration = {
  from: 0,
  to: 1,
  summary: 'named ports and edge ids instead of positional links',
  migrate(raw, ctx) {
    if (!Array.isArray(raw.nodes)) throw new MigrationError('version 0 file has no "nodes" list');
    const typeOf = new Map<string, string>();
    const nodes = raw.nodes.map((n: unknown, i: number) => {
      if (!isRecord(n)) throw new MigrationError(`node #${i + 1} is not an object`);
      const { kind, settings, pos, title, ...rest } = n;
      const node: Raw = { ...rest, type: kind, params: settings ?? {} };
      if (Array.isArray(pos) && pos.length === 2) node.position = { x: pos[0], y: pos[1] };
      else if (pos !== undefined) ctx.warn(`node "${String(n.id)}": unreadable "pos" ${JSON.stringify(pos)}, placed at (0, 0)`, String(n.id));
      if (title !== undefined) node.label = title;
      if (typeof n.id === 'string' && typeof kind === 'string') typeOf.set(n.id, kind);
      return node;
    });
    const links = raw.links ?? [];
    if (!Array.isArray(links)) throw new MigrationError('version 0 "links" is not a list');
    const portName = (nodeId: unknown, index: unknown, side: 'outputs' | 'inputs', linkNo: number): string => {
      if (typeof nodeId !== 'string' || typeof index !== 'number' || !Number.isInteger(index) || index < 0)
        throw new MigrationError(`link #${linkNo}: ends must look like ["nodeId", portIndex]`);
      const typeId = typeOf.get(nodeId);
      const type = typeId === undefined ? undefined : ctx.registry.get(typeId);
      if (!type) {
        // Dangling or unknown-type ends are reported by validation; keep the index visible.
        return `#${index}`;
      }
      const names = Object.keys(type[side]);
      if (index >= names.length) {
        ctx.warn(
          `link #${linkNo}: node "${nodeId}" (${type.id}) has no ${side === 'outputs' ? 'output' : 'input'} #${index}; kept as "#${index}"`,
          nodeId,
        );
        return `#${index}`;
      }
      return names[index];
    };
    const edges = links.map((l: unknown, i: number) => {
      const no = i + 1;
      if (!isRecord(l) || !Array.isArray(l.from) || !Array.isArray(l.to))
        throw new MigrationError(`link #${no}: expected { "from": [nodeId, index], "to": [nodeId, index] }`);
      const [source, outIndex] = l.from;
      const [target, inIndex] = l.to;
      return {
        id: `e${no}`,
        source,
        sourceHandle: portName(source, outIndex, 'outputs', no),
        target,
        targetHandle: portName(target, inIndex, 'inputs', no),
      };
    });
    const { links: _links, view, ...rest } = raw;
    const out: Raw = { ...rest, version: 1, nodes, edges };
    if (view !== undefined) out.viewport = view;
    return out;
  },
};

/** Every document migration, oldest first; `to` of one is `from` of the next, ending at DOCUMENT_VERSION. */
export const DOCUMENT_MIGRATIONS: readonly DocumentMigration[] = [v0ToV1];

/**
 * Brings a raw document of version `raw.version` up to DOCUMENT_VERSION. The caller has
 * checked that the version is an integer not above DOCUMENT_VERSION. Throws MigrationError.
 */
export function migrateDocument(raw: Raw, ctx: MigrationContext, migrations: readonly DocumentMigration[] = DOCUMENT_MIGRATIONS): Raw {
  let current = raw;
  let version = raw.version as number;
  while (version < DOCUMENT_VERSION) {
    const step = migrations.find((m) => m.from === version);
    if (!step) throw new MigrationError(`no migration from document version ${version}`);
    try {
      current = step.migrate(current, ctx);
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);
      throw new MigrationError(`cannot upgrade from version ${step.from} to ${step.to}: ${detail}`);
    }
    current.version = step.to;
    version = step.to;
  }
  return current;
}

/*
 * Why nodes store `typeVersion`: a node migration applies to params saved by a node version
 * below its `toVersion`, so the reader must know which version wrote them. Absent means 1
 * (every node type starts at 1), so files of nodes that never changed carry nothing extra.
 * After migration a known node holds params of the current type version, and its
 * `typeVersion` says so (omitted while that is 1). Unknown types keep what was stored; a node
 * whose upgrade failed keeps its saved version, written explicitly (see stampTypeVersions).
 */

/** The node's `typeVersion` as it should be written for params of `version`. */
function withTypeVersion(node: DocNode, version: number): DocNode {
  const { typeVersion: _old, ...rest } = node;
  return version > 1 ? { ...rest, typeVersion: version } : rest;
}

/**
 * Applies each known node's param migrations to params saved by an older node version.
 * A node saved by a newer version of its type is kept as is and reported (never downgraded).
 */
export function migrateNodeParams(doc: DlflowDocument, registry: Registry): { document: DlflowDocument; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const nodes = doc.nodes.map((node): DocNode => {
    const type = registry.get(node.type);
    if (!type) return node;
    const saved = node.typeVersion ?? 1;
    const where = `node "${node.id}" (${type.id})`;
    if (saved > type.version) {
      diagnostics.push({
        severity: 'error',
        code: 'newer-version',
        nodeId: node.id,
        message: `${where}: saved by version ${saved} of this node type, but this dlflow has version ${type.version}; update dlflow (params kept as saved)`,
      });
      return node;
    }
    let params = node.params;
    for (const m of type.migrations) {
      if (m.toVersion <= saved) continue;
      try {
        params = m.migrate(structuredClone(params));
      } catch (error) {
        const detail = error instanceof Error ? error.message : String(error);
        diagnostics.push({
          severity: 'error',
          code: 'param-invalid',
          nodeId: node.id,
          message: `${where}: cannot upgrade params saved by node version ${saved} to version ${m.toVersion}: ${detail}`,
        });
        // An explicit marker, even 1, so saving keeps the params' true version and a fixed
        // dlflow can retry the upgrade.
        return { ...node, typeVersion: saved };
      }
    }
    return withTypeVersion({ ...node, params }, type.version);
  });
  return { document: { ...doc, nodes }, diagnostics };
}

/**
 * Before writing: gives nodes without a `typeVersion` (new nodes the UI made from the current
 * catalog) the current version of their type, so a later reader does not re-apply migrations
 * to params that are already current. A node that has one keeps it: after parsing it is the
 * current version, or the saved one of a node whose upgrade failed or came from a newer dlflow.
 */
export function stampTypeVersions(doc: DlflowDocument, registry: Registry): DlflowDocument {
  const nodes = doc.nodes.map((node) => {
    const type = registry.get(node.type);
    if (!type || node.typeVersion !== undefined) return node;
    return withTypeVersion(node, type.version);
  });
  return { ...doc, nodes };
}
