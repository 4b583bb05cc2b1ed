/**
 * Atomic writes: a reader (or a crash) sees either the old content or the new, never a
 * half-written file or folder. Used for saved documents and the on-disk cache.
 */
import { randomBytes } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import { chmod, mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { UserError } from './errors.ts';

/** Error codes that mean "the environment refused", which the user fixes: no stack trace needed. */
const USER_FACING: Record<string, string> = {
  ENOSPC: 'disk full',
  EDQUOT: 'disk quota exceeded',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'read-only file system',
  ENOENT: 'folder does not exist',
  ENOTDIR: 'a parent path is not a folder',
  EISDIR: 'a folder is in the way',
  ENAMETOOLONG: 'path too long',
};

function errorCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error ? String((error as { code: unknown }).code) : undefined;
}

/**
 * Rewords a filesystem error so it names the target path (the temp name means nothing to
 * the user). Known environment errors become `UserError`s; the original is kept as `cause`.
 */
function writeError(error: unknown, target: string, what: 'writing' | 'replacing folder'): Error {
  const code = errorCode(error);
  const reason = code ? USER_FACING[code] : undefined;
  if (reason) {
    const wrapped = new UserError(`${reason} ${what} ${target}`, { cause: error });
    (wrapped as Error & { code?: string }).code = code;
    return wrapped;
  }
  const detail = error instanceof Error ? error.message : String(error);
  return new Error(`failed ${what} ${target}: ${detail}`, { cause: error });
}

const tempSuffix = (): string => `${process.pid}-${randomBytes(4).toString('hex')}`;

/** Best effort: makes the rename itself durable. Not supported on every platform (Windows). */
async function syncDir(dir: string): Promise<void> {
  try {
    const handle = await open(dir, fsConstants.O_RDONLY);
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Durability of the directory entry is a bonus, not a requirement.
  }
}

/**
 * Writes `data` to `path` atomically: a temp file in the same folder, fsync, then rename over
 * the target. On any failure the temp file is removed and an existing `path` is left intact.
 * Keeps the mode of an existing file. Errors name `path` (e.g. "disk full writing X").
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const dir = dirname(path);
  const temp = join(dir, `.${basename(path)}.${tempSuffix()}.tmp`);
  let created = false;
  try {
    const mode = await stat(path).then(
      (s) => (s.isFile() ? s.mode & 0o777 : undefined),
      () => undefined,
    );
    const handle = await open(temp, 'wx', mode ?? 0o666);
    created = true;
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    // `open`'s mode is filtered by the umask; an existing file's mode should survive the save.
    if (mode !== undefined) await chmod(temp, mode);
    await rename(temp, path);
    created = false;
  } catch (error) {
    if (created) await rm(temp, { force: true }).catch(() => undefined);
    throw writeError(error, path, 'writing');
  }
  await syncDir(dir);
}

/**
 * Creates folder `dir` atomically: `fill` populates a fresh temp sibling folder, which is then
 * renamed into place, replacing any existing `dir`. If `fill` throws (or is cancelled), the temp
 * folder is removed and an existing `dir` stays as it was; `fill`'s own error is rethrown.
 */
export async function writeDirAtomic(dir: string, fill: (tmpDir: string) => Promise<void>): Promise<void> {
  const parent = dirname(dir);
  const temp = join(parent, `.${basename(dir)}.${tempSuffix()}.tmp`);
  try {
    await mkdir(temp);
  } catch (error) {
    throw writeError(error, dir, 'writing');
  }
  try {
    await fill(temp);
  } catch (error) {
    await rm(temp, { recursive: true, force: true }).catch(() => undefined);
    throw error;
  }
  // A folder cannot be renamed over a non-empty one, so the old one steps aside first and
  // comes back if the swap fails.
  const old = join(parent, `.${basename(dir)}.${tempSuffix()}.old`);
  let movedOld = false;
  try {
    try {
      await rename(dir, old);
      movedOld = true;
    } catch (error) {
      if (errorCode(error) !== 'ENOENT') throw error;
    }
    await rename(temp, dir);
  } catch (error) {
    await rm(temp, { recursive: true, force: true }).catch(() => undefined);
    if (movedOld) await rename(old, dir).catch(() => undefined);
    throw writeError(error, dir, 'replacing folder');
  }
  if (movedOld) await rm(old, { recursive: true, force: true }).catch(() => undefined);
  await syncDir(parent);
}
