/** Confines file access through the server to allowed folders, with symlinks and `..` resolved. */
import { realpath } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { EngineApi, NodeCatalog } from '../protocol/index.ts';

/** A path outside the allowed folders; `code` reaches the client as the error code. */
export class PathNotAllowedError extends Error {
  override name = 'PathNotAllowedError';
  readonly code = 'path-not-allowed';
}

/**
 * Resolves `path` the way the OS will: relative paths against `base`, symlinks and `..` as the
 * file system walks them (not lexically). A tail that does not exist yet (a file about to be saved)
 * is appended to the real path of its nearest existing folder; such a tail may not contain `..`,
 * since a later mkdir could make it point anywhere.
 */
export async function resolveReal(path: string, base: string): Promise<string> {
  if (path.includes('\0')) throw new PathNotAllowedError(`path ${JSON.stringify(path)} contains a NUL byte`);
  // Joined as text, not path.resolve: resolve would fold `link/..` lexically, the OS does not.
  let head = isAbsolute(path) ? path : `${base}${sep}${path}`;
  const tail: string[] = [];
  for (;;) {
    try {
      const real = await realpath(head);
      if (tail.includes('..')) throw new PathNotAllowedError(`path ${JSON.stringify(path)} climbs out (..) of a folder that does not exist`);
      return tail.length ? join(real, ...tail) : real;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw error;
    }
    const parent = dirname(head);
    if (parent === head) throw new PathNotAllowedError(`path ${JSON.stringify(path)} has no existing folder above it`);
    tail.unshift(basename(head));
    head = parent;
  }
}

function inside(dir: string, path: string): boolean {
  const rel = relative(dir, path);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

/** The set of folders file access may use, each stored as its real path. */
export class AllowedDirs {
  private dirs: string[] = [];

  private constructor(private readonly cwd: string) {}

  /** Builds the set; folders that do not exist are skipped (they could not be opened anyway). */
  static async create(dirs: readonly string[], cwd = process.cwd()): Promise<AllowedDirs> {
    const set = new AllowedDirs(cwd);
    for (const dir of dirs) await set.add(dir).catch(() => undefined);
    return set;
  }

  /** Allows one more folder (e.g. one the user chose). */
  async add(dir: string): Promise<void> {
    const real = await realpath(resolve(this.cwd, dir));
    if (!this.dirs.includes(real)) this.dirs.push(real);
  }

  list(): string[] {
    return [...this.dirs];
  }

  /**
   * Returns the real absolute path of `path` (relative to `base`, default the server's cwd) if it
   * lies inside an allowed folder, and throws PathNotAllowedError naming `what` otherwise.
   */
  async check(path: unknown, what: string, base = this.cwd): Promise<string> {
    if (typeof path !== 'string' || path === '') throw new PathNotAllowedError(`${what}: expected a non-empty path, got ${JSON.stringify(path)}`);
    const real = await resolveReal(path, base);
    if (!this.dirs.some((dir) => inside(dir, real))) {
      const allowed = this.dirs.length ? this.dirs.join(', ') : '(none)';
      throw new PathNotAllowedError(
        `${what}: ${JSON.stringify(path)} is outside the folders this server may access (${allowed}). ` +
          'Open the file from one of them, or restart `dlflow serve` with --allow <folder>.',
      );
    }
    return real;
  }
}

/**
 * Wraps an engine so every path it would touch on behalf of a remote client is checked first:
 * openDocument/saveDocument paths, parseDocument's path, a run's baseDir, and every `path` param
 * of the document being run (against the node schemas from listNodes).
 */
export function guardEngine(engine: EngineApi, allowed: AllowedDirs): EngineApi {
  let catalog: Promise<NodeCatalog> | undefined;
  const pathParams = async (): Promise<Map<string, string[]>> => {
    catalog ??= engine.listNodes(undefined);
    const byType = new Map<string, string[]>();
    for (const node of (await catalog).nodes) {
      byType.set(
        node.id,
        Object.entries(node.params)
          .filter(([, schema]) => schema.kind === 'path')
          .map(([key]) => key),
      );
    }
    return byType;
  };

  return {
    listNodes: (args) => engine.listNodes(args),
    info: (args) => engine.info(args),
    validate: (args) => engine.validate(args),
    cancel: (args) => engine.cancel(args),
    onEvent: (listener) => engine.onEvent(listener),
    openDocument: async (args) => engine.openDocument({ ...args, path: await allowed.check(args?.path, 'openDocument') }),
    saveDocument: async (args) => engine.saveDocument({ ...args, path: await allowed.check(args?.path, 'saveDocument') }),
    parseDocument: async (args) =>
      args?.path === undefined ? engine.parseDocument(args) : engine.parseDocument({ ...args, path: await allowed.check(args.path, 'parseDocument') }),
    run: async (args) => {
      const options = args?.options ?? {};
      const baseDir = options.baseDir === undefined ? undefined : await allowed.check(options.baseDir, 'run baseDir');
      const params = await pathParams();
      for (const node of args?.document?.nodes ?? []) {
        for (const key of params.get(node.type) ?? []) {
          const value = node.params?.[key];
          // Empty means "not set"; the engine reports required ones itself.
          if (value === undefined || value === '') continue;
          await allowed.check(value, `node ${JSON.stringify(node.id)} (${node.type}) param "${key}"`, baseDir);
        }
      }
      return engine.run(baseDir === undefined ? args : { ...args, options: { ...options, baseDir } });
    },
  };
}
