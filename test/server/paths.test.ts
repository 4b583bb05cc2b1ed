import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AllowedDirs, PathNotAllowedError, resolveReal } from '../../main/server/paths.ts';

let root: string;
let allowed: string;

beforeAll(() => {
  root = realpathSync(mkdtempSync(join(tmpdir(), 'dlflow-paths-')));
  allowed = join(root, 'allowed');
  mkdirSync(join(allowed, 'data'), { recursive: true });
  mkdirSync(join(root, 'outside', 'deep'), { recursive: true });
  writeFileSync(join(root, 'secret.txt'), 'x');
  writeFileSync(join(allowed, 'data', 'a.png'), 'x');
  // allowed/link -> outside/deep: `link/..` is outside/ to the OS, though `allowed/` to path.resolve.
  symlinkSync(join(root, 'outside', 'deep'), join(allowed, 'link'));
  symlinkSync(join(allowed, 'data'), join(root, 'outside', 'to-data'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('path confinement', () => {
  it('resolves symlinks and .. the way the file system walks them', async () => {
    expect(await resolveReal(`${allowed}/link/../secret.txt`, root)).toBe(join(root, 'outside', 'secret.txt'));
    expect(await resolveReal('data/a.png', allowed)).toBe(join(allowed, 'data', 'a.png'));
    expect(await resolveReal(`${allowed}/new/file.dlflow`, root)).toBe(join(allowed, 'new', 'file.dlflow'));
    await expect(resolveReal(`${allowed}/nope/../../secret.txt`, root)).rejects.toThrow(/climbs out/);
    await expect(resolveReal('a\0b', root)).rejects.toBeInstanceOf(PathNotAllowedError);
  });

  it('allows paths inside allowed folders, by their real location', async () => {
    const dirs = await AllowedDirs.create([allowed, join(root, 'does-not-exist')]);
    expect(dirs.list()).toEqual([allowed]);
    expect(await dirs.check(join(allowed, 'data', 'a.png'), 'x')).toBe(join(allowed, 'data', 'a.png'));
    expect(await dirs.check(allowed, 'x')).toBe(allowed);
    expect(await dirs.check('data', 'x', allowed)).toBe(join(allowed, 'data'));
    // Reached through a symlink from outside, the file is still inside.
    expect(await dirs.check(join(root, 'outside', 'to-data', 'a.png'), 'x')).toBe(join(allowed, 'data', 'a.png'));
  });

  it('refuses everything that really lies outside, naming what asked', async () => {
    const dirs = await AllowedDirs.create([allowed]);
    const refused = [
      `${allowed}/link/../secret.txt`,
      join(allowed, 'link', 'x.dlflow'),
      join(root, 'secret.txt'),
      `${allowed}/../secret.txt`,
      `${allowed}-sibling/x`,
      '/',
    ];
    for (const path of refused) {
      await expect(dirs.check(path, 'saveDocument'), path).rejects.toThrow(/^saveDocument: .* is outside the folders/);
    }
    await expect(dirs.check('', 'openDocument')).rejects.toThrow(/openDocument: expected a non-empty path/);
    await expect(dirs.check(42, 'openDocument')).rejects.toThrow(/expected a non-empty path, got 42/);
    await dirs.add(join(root, 'outside'));
    expect(await dirs.check(join(allowed, 'link', 'x.dlflow'), 'x')).toBe(join(root, 'outside', 'deep', 'x.dlflow'));
  });
});
