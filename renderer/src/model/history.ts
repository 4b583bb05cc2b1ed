/**
 * Undo/redo as a stack of immutable snapshots. Documents share structure between snapshots
 * (documentOps keeps untouched nodes), so a snapshot costs only what changed.
 */

export interface History<T> {
  past: readonly T[];
  present: T;
  future: readonly T[];
  /** Key of the last recorded edit, for coalescing bursts (typing, slider drags). */
  lastKey?: string;
  lastTime?: number;
}

export const HISTORY_LIMIT = 200;
/** Edits with the same key closer than this merge into one undo step. */
export const COALESCE_MS = 800;

export function createHistory<T>(present: T): History<T> {
  return { past: [], present, future: [] };
}

/**
 * Records `next` as a new undo step. With a `key`, an edit following another with the same key
 * within COALESCE_MS replaces it instead of adding a step (one undo for one slider drag).
 */
export function record<T>(h: History<T>, next: T, opts: { key?: string; now?: number } = {}): History<T> {
  if (Object.is(next, h.present)) return h;
  const now = opts.now ?? Date.now();
  if (opts.key !== undefined && opts.key === h.lastKey && h.lastTime !== undefined && now - h.lastTime < COALESCE_MS) {
    return { past: h.past, present: next, future: [], lastKey: opts.key, lastTime: now };
  }
  const past = [...h.past, h.present];
  if (past.length > HISTORY_LIMIT) past.splice(0, past.length - HISTORY_LIMIT);
  return { past, present: next, future: [], lastKey: opts.key, lastTime: now };
}

/** Replaces the present without an undo step (live drag frames). Pair with `recordFrom`. */
export function replacePresent<T>(h: History<T>, next: T): History<T> {
  if (Object.is(next, h.present)) return h;
  return { ...h, present: next };
}

/** Records one step from `base` (the state before a live gesture) to the current present. */
export function recordFrom<T>(h: History<T>, base: T): History<T> {
  if (Object.is(base, h.present)) return h;
  const past = [...h.past, base];
  if (past.length > HISTORY_LIMIT) past.splice(0, past.length - HISTORY_LIMIT);
  return { past, present: h.present, future: [] };
}

export function canUndo<T>(h: History<T>): boolean {
  return h.past.length > 0;
}

export function canRedo<T>(h: History<T>): boolean {
  return h.future.length > 0;
}

export function undo<T>(h: History<T>): History<T> {
  if (h.past.length === 0) return h;
  const previous = h.past[h.past.length - 1];
  return { past: h.past.slice(0, -1), present: previous, future: [h.present, ...h.future] };
}

export function redo<T>(h: History<T>): History<T> {
  if (h.future.length === 0) return h;
  const [next, ...rest] = h.future;
  return { past: [...h.past, h.present], present: next, future: rest };
}
