/** Recent files and the crash-recovery copy, kept in localStorage (any Storage-like object). */
import type { DlflowDocument } from '../../../main/protocol/index.ts';

export interface KeyValueStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

export const RECENT_KEY = 'dlflow:recent';
export const RECOVERY_KEY = 'dlflow:recovery';
export const RECENT_LIMIT = 10;

export function readRecent(storage: KeyValueStorage): string[] {
  try {
    const v: unknown = JSON.parse(storage.getItem(RECENT_KEY) ?? '[]');
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string').slice(0, RECENT_LIMIT) : [];
  } catch {
    return [];
  }
}

/** Moves `path` to the front of the recent list (no duplicates, at most RECENT_LIMIT). */
export function pushRecent(storage: KeyValueStorage, path: string): string[] {
  const list = [path, ...readRecent(storage).filter((p) => p !== path)].slice(0, RECENT_LIMIT);
  storage.setItem(RECENT_KEY, JSON.stringify(list));
  return list;
}

export interface RecoveryCopy {
  path?: string;
  time: number;
  document: DlflowDocument;
}

export function writeRecovery(storage: KeyValueStorage, copy: RecoveryCopy): void {
  try {
    storage.setItem(RECOVERY_KEY, JSON.stringify(copy));
  } catch {
    // Quota exceeded: a recovery copy is best effort.
  }
}

export function readRecovery(storage: KeyValueStorage): RecoveryCopy | undefined {
  try {
    const v = JSON.parse(storage.getItem(RECOVERY_KEY) ?? 'null') as RecoveryCopy | null;
    if (!v || typeof v.time !== 'number' || !v.document || v.document.format !== 'dlflow' || !Array.isArray(v.document.nodes)) return undefined;
    return v;
  } catch {
    return undefined;
  }
}

export function clearRecovery(storage: KeyValueStorage): void {
  storage.removeItem(RECOVERY_KEY);
}

/** Folder part of a path (either separator), for the run's baseDir. */
export function dirname(path: string): string {
  const i = Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\'));
  return i <= 0 ? (i === 0 ? path.slice(0, 1) : '.') : path.slice(0, i);
}

export function basename(path: string): string {
  const i = Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\'));
  return path.slice(i + 1);
}
