import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { writeDirAtomic, writeFileAtomic } from '../../main/engine/atomic.ts';
import { writeDocumentFile } from '../../main/engine/document/index.ts';
import { UserError } from '../../main/engine/errors.ts';
import { validPipeline } from './build.ts';
import { stubRegistry } from './stub-nodes.ts';

/** Failures to inject into the real filesystem calls atomic.ts makes. */
const inject = vi.hoisted(() => ({
  /** Thrown by FileHandle.writeFile after a few bytes were written. */
  write: undefined as Error | undefined,
  /** Thrown by rename(from, to) when `when` says so. */
  rename: undefined as { error: Error; when: (from: string, to: string) => boolean } | undefined,
}));

vi.mock('node:fs/promises', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs/promises')>();
  return {
    ...actual,
    open: async (...args: Parameters<typeof actual.open>) => {
      const handle = await actual.open(...args);
      const failure = inject.write;
      if (failure) {
        const real = handle.writeFile.bind(handle);
        // Simulates a disk filling up mid-write: part of the data lands, then the error.
        handle.writeFile = async (data: Parameters<typeof real>[0]) => {
          await real(String(data).slice(0, 5));
          throw failure;
        };
      }
      return handle;
    },
    rename: async (from: string, to: string) => {
      if (inject.rename?.when(from, to)) throw inject.rename.error;
      return actual.rename(from, to);
    },
  };
});

const errno = (code: string, message = code): Error => Object.assign(new Error(`${code}: ${message}`), { code });

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dlflow-atomic-'));
});
afterEach(() => {
  inject.write = undefined;
  inject.rename = undefined;
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function expectUserError(promise: Promise<unknown>, message: string): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(UserError);
  expect((error as Error).message).toBe(message);
}

/** Everything in `folder` whose name marks it as a temp or set-aside copy. */
const strays = async (folder: string) => (await readdir(folder)).filter((n) => n.endsWith('.tmp') || n.endsWith('.old'));

describe('writeFileAtomic', () => {
  it('writes a new file and replaces an existing one, keeping its mode', async () => {
    const file = join(dir, 'a.txt');
    await writeFileAtomic(file, 'first');
    expect(await readFile(file, 'utf8')).toBe('first');
    await chmod(file, 0o640);
    await writeFileAtomic(file, new TextEncoder().encode('second'));
    expect(await readFile(file, 'utf8')).toBe('second');
    expect((await stat(file)).mode & 0o777).toBe(0o640);
    expect(await strays(dir)).toEqual([]);
  });

  it('disk full mid-write: the old file is intact, no temp file remains, the error names the path', async () => {
    const file = join(dir, 'b.txt');
    await writeFileAtomic(file, 'precious content');
    inject.write = errno('ENOSPC', 'no space left on device');
    const error = await writeFileAtomic(file, 'new content that will not fit').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect(error).toMatchObject({ message: `disk full writing ${file}`, code: 'ENOSPC' });
    expect(await readFile(file, 'utf8')).toBe('precious content');
    expect(await strays(dir)).toEqual([]);
  });

  it('a failing rename removes the temp file and keeps the old one', async () => {
    const file = join(dir, 'c.txt');
    await writeFileAtomic(file, 'old');
    inject.rename = { error: errno('EIO', 'i/o error'), when: (_from, to) => to === file };
    await expect(writeFileAtomic(file, 'new')).rejects.toThrow(`failed writing ${file}: EIO: i/o error`);
    expect(await readFile(file, 'utf8')).toBe('old');
    expect(await strays(dir)).toEqual([]);
  });

  it('a folder in the way or a missing folder is a clear UserError', async () => {
    const folder = join(dir, 'is-a-folder');
    await mkdir(folder);
    await expectUserError(writeFileAtomic(folder, 'x'), `a folder is in the way writing ${folder}`);
    const deep = join(dir, 'missing', 'x.txt');
    await expectUserError(writeFileAtomic(deep, 'x'), `folder does not exist writing ${deep}`);
    expect(await strays(dir)).toEqual([]);
  });

  it.skipIf(process.getuid?.() === 0)('a read-only folder is a permission error naming the path', async () => {
    const ro = join(dir, 'ro');
    await mkdir(ro);
    await writeFile(join(ro, 'f.txt'), 'keep');
    await chmod(ro, 0o555);
    try {
      await expectUserError(writeFileAtomic(join(ro, 'f.txt'), 'x'), `permission denied writing ${join(ro, 'f.txt')}`);
      expect(await readFile(join(ro, 'f.txt'), 'utf8')).toBe('keep');
    } finally {
      await chmod(ro, 0o755);
    }
  });

  it('a failed document save never truncates the saved document', async () => {
    const file = join(dir, 'doc.dlflow');
    const registry = stubRegistry();
    await writeDocumentFile(file, validPipeline(), registry);
    const before = await readFile(file, 'utf8');
    const changed = validPipeline();
    changed.nodes[0].params.value = 99;
    inject.write = errno('ENOSPC');
    await expect(writeDocumentFile(file, changed, registry)).rejects.toThrow(`disk full writing ${file}`);
    expect(await readFile(file, 'utf8')).toBe(before);
    expect(await strays(dir)).toEqual([]);
  });
});

describe('writeDirAtomic', () => {
  const listing = async (folder: string) => {
    const names = await readdir(folder);
    return Object.fromEntries(await Promise.all(names.sort().map(async (n) => [n, await readFile(join(folder, n), 'utf8')])));
  };

  it('creates a folder, then replaces it whole', async () => {
    const target = join(dir, 'entry');
    await writeDirAtomic(target, async (tmp) => {
      await writeFile(join(tmp, 'a'), '1');
      await writeFile(join(tmp, 'b'), '2');
    });
    expect(await listing(target)).toEqual({ a: '1', b: '2' });
    await writeDirAtomic(target, async (tmp) => {
      await writeFile(join(tmp, 'c'), '3');
    });
    expect(await listing(target)).toEqual({ c: '3' });
    expect(await strays(dir)).toEqual([]);
  });

  it('a fill that throws leaves the existing folder as it was and no temp folder', async () => {
    const target = join(dir, 'entry2');
    await writeDirAtomic(target, async (tmp) => writeFile(join(tmp, 'model.bin'), 'good'));
    const boom = new Error('cancelled halfway');
    const thrown = await writeDirAtomic(target, async (tmp) => {
      await writeFile(join(tmp, 'model.bin'), 'half');
      throw boom;
    }).catch((e: unknown) => e);
    expect(thrown).toBe(boom);
    expect(await listing(target)).toEqual({ 'model.bin': 'good' });
    expect(await strays(dir)).toEqual([]);
  });

  it('a failed swap puts the old folder back', async () => {
    const target = join(dir, 'entry3');
    await writeDirAtomic(target, async (tmp) => writeFile(join(tmp, 'x'), 'old'));
    inject.rename = { error: errno('EIO'), when: (from, to) => to === target && from.endsWith('.tmp') };
    await expect(writeDirAtomic(target, async (tmp) => writeFile(join(tmp, 'x'), 'new'))).rejects.toThrow(
      `failed replacing folder ${target}: EIO: EIO`,
    );
    expect(await listing(target)).toEqual({ x: 'old' });
    expect(await strays(dir)).toEqual([]);
  });

  it('a missing parent folder is a UserError naming the target', async () => {
    const target = join(dir, 'no', 'such', 'entry');
    await expectUserError(
      writeDirAtomic(target, async () => {}),
      `folder does not exist writing ${target}`,
    );
  });
});
