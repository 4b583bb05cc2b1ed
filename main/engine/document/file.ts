/** Reading and writing `.dlflow` files on disk. */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { DlflowDocument } from '../../protocol/index.ts';
import { writeFileAtomic } from '../atomic.ts';
import { UserError } from '../errors.ts';
import type { Registry } from '../registry.ts';
import { stampTypeVersions } from './migrations.ts';
import type { ParseResult } from './parse.ts';
import { parseDocumentText } from './parse.ts';
import { rebasePaths } from './paths.ts';
import { serializeDocument } from './serialize.ts';

const READ_ERRORS: Record<string, string> = {
  ENOENT: 'file not found',
  EISDIR: 'is a folder, not a .dlflow file',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  ENOTDIR: 'a parent path is not a folder',
};

/**
 * Reads and parses a `.dlflow` file (see `parseDocumentText`). Throws a `UserError` naming the
 * path when the file cannot be read (missing, a folder, no permission); problems inside the
 * file come back as diagnostics. Path params stay relative: resolve them against the file's
 * folder (`dirname(path)`).
 */
export async function readDocumentFile(path: string, registry: Registry, options: { validate?: boolean } = {}): Promise<ParseResult> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as { code?: string }).code;
    const reason = (code && READ_ERRORS[code]) ?? (error instanceof Error ? error.message : String(error));
    throw new UserError(code === 'ENOENT' ? `${reason}: ${path}` : `cannot read ${path}: ${reason}`, { cause: error });
  }
  return parseDocumentText(text, { registry, path, validate: options.validate });
}

/**
 * Writes `doc` to `path` atomically (temp file + rename; the old file survives any failure).
 * Path params are rebased from `fromDir` (the folder the document was opened from; default
 * the target's folder) to the target's folder, and absolute paths inside that folder become
 * relative. Known nodes are stamped with their type version. Errors name the path.
 */
export async function writeDocumentFile(
  path: string,
  doc: DlflowDocument,
  registry: Registry,
  options: { fromDir?: string } = {},
): Promise<void> {
  const toDir = dirname(resolve(path));
  const rebased = rebasePaths(doc, registry, options.fromDir ?? toDir, toDir);
  await writeFileAtomic(path, serializeDocument(stampTypeVersions(rebased, registry)));
}
