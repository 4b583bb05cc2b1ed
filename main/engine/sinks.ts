/** Event sinks for tests and tools. */
import type { EngineEvent, EngineEventType, EventOf } from '../protocol/index.ts';

export interface RecordingSink {
  (event: EngineEvent): void;
  events: EngineEvent[];
  of<T extends EngineEventType>(type: T): EventOf<T>[];
  /** Node ids that actually ran (node-finished) — ComfyUI's did_run. */
  ran(): string[];
  /** Node ids served from cache — ComfyUI's was_cached. */
  cached(): string[];
  clear(): void;
}

/** A sink that keeps every event, with helpers to ask what ran and what came from cache. */
export function recordingSink(): RecordingSink {
  const events: EngineEvent[] = [];
  const sink = ((event: EngineEvent) => {
    events.push(event);
  }) as RecordingSink;
  sink.events = events;
  sink.of = <T extends EngineEventType>(type: T) => events.filter((e): e is EventOf<T> => e.type === type);
  sink.ran = () => sink.of('node-finished').map((e) => e.nodeId);
  sink.cached = () => sink.of('nodes-cached').flatMap((e) => e.nodeIds);
  sink.clear = () => {
    events.length = 0;
  };
  return sink;
}
