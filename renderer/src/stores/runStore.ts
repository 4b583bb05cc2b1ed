/**
 * Run state, fed by engine events. Events are queued and folded once per animation frame, so a
 * run streaming many previews a second re-renders each node at most once per frame.
 */
import type { EngineEvent } from '../../../main/protocol/index.ts';
import { applyRunEvent, IDLE_NODE, initialRunState, type NodeRunState, type RunState } from '../model/runState.ts';
import { createStore, useStoreSelector } from './store.ts';

export const runStore = createStore<RunState>(initialRunState());

export function useRunStore<S>(selector: (s: RunState) => S): S {
  return useStoreSelector(runStore, selector);
}

export function useNodeRun(nodeId: string): NodeRunState {
  return useStoreSelector(runStore, (s) => s.nodes[nodeId] ?? IDLE_NODE);
}

let queue: EngineEvent[] = [];
let scheduled = false;

const schedule: (fn: () => void) => void =
  typeof requestAnimationFrame === 'function'
    ? (fn) => {
        // rAF does not fire in background tabs; a timeout makes sure the queue still drains.
        let done = false;
        const run = () => {
          if (done) return;
          done = true;
          fn();
        };
        requestAnimationFrame(run);
        setTimeout(run, 250);
      }
    : (fn) => setTimeout(fn, 16);

/** Drains queued events into the store now (one state update for the whole batch). */
export function flushRunEvents(): void {
  scheduled = false;
  if (queue.length === 0) return;
  const batch = queue;
  queue = [];
  const now = Date.now();
  runStore.setState((s) => batch.reduce((acc, e) => applyRunEvent(acc, e, now), s));
}

export function enqueueRunEvent(e: EngineEvent): void {
  queue.push(e);
  if (!scheduled) {
    scheduled = true;
    schedule(flushRunEvents);
  }
}
