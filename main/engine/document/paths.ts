/**
 * Path params are stored relative to the document's folder, so a project folder can move or
 * be shared. The engine resolves them against `RunContext.baseDir`; saving elsewhere rebases.
 */
import { isAbsolute, relative, resolve, sep } from 'node:path';
import type { DlflowDocument } from '../../protocol/index.ts';
import type { Registry } from '../registry.ts';

/** The absolute path a stored path param means for a document in `baseDir` ('' stays ''). */
export function resolveDocPath(baseDir: string, stored: string): string {
  if (stored === '') return stored;
  return resolve(baseDir, stored);
}

/** `absolute` relative to `dir`, with forward slashes so files read the same on every OS. */
function relativeTo(dir: string, absolute: string): string {
  const rel = relative(dir, absolute);
  // Different drives on Windows: no relative path exists.
  if (isAbsolute(rel)) return absolute;
  return (rel === '' ? '.' : rel).split(sep).join('/');
}

const inside = (rel: string): boolean => rel !== '..' && !rel.startsWith('../') && !isAbsolute(rel);

/**
 * Rewrites path params (kind 'path') of known nodes for a document moving from folder
 * `fromDir` to `toDir` (save as): relative paths are re-relativised so they still point at
 * the same file; absolute paths inside `toDir`'s tree become relative; other absolute paths
 * stay absolute. Relative paths are left untouched when the folder does not change.
 * Unknown node types are left alone (their param kinds are unknown). Returns a new document.
 */
export function rebasePaths(doc: DlflowDocument, registry: Registry, fromDir: string, toDir: string): DlflowDocument {
  const from = resolve(fromDir);
  const to = resolve(toDir);
  const sameDir = from === to;
  const nodes = doc.nodes.map((node) => {
    const type = registry.get(node.type);
    if (!type) return node;
    let params: Record<string, unknown> | undefined;
    for (const [key, schema] of Object.entries(type.params)) {
      const value = node.params[key];
      if (schema.kind !== 'path' || typeof value !== 'string' || value === '') continue;
      let rebased = value;
      if (isAbsolute(value)) {
        const rel = relativeTo(to, value);
        if (!isAbsolute(rel) && inside(rel)) rebased = rel;
      } else if (!sameDir) {
        rebased = relativeTo(to, resolve(from, value));
      }
      if (rebased !== value) (params ??= { ...node.params })[key] = rebased;
    }
    return params ? { ...node, params } : node;
  });
  return { ...doc, nodes };
}
