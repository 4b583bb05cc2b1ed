/** Per-client send queue that coalesces progress and previews when the client falls behind. */
import type { EngineEvent } from '../protocol/index.ts';
import type { WireFrame, WireMessage } from '../protocol/wire.ts';

/**
 * Messages that only matter as their latest value get a key: a newer one with the same key
 * replaces the queued one. Everything else (responses, node-started/finished/failed, logs, run
 * boundaries) is never dropped.
 */
export function coalesceKey(message: WireMessage): string | undefined {
  if (message.kind !== 'event') return undefined;
  const event: EngineEvent = message.event;
  switch (event.type) {
    case 'node-progress':
      return `progress\0${event.runId}\0${event.nodeId}`;
    case 'node-preview':
      // One slot per preview kind, so a node streaming image samples and a loss curve keeps both.
      return `preview\0${event.runId}\0${event.nodeId}\0${event.preview.kind}`;
    case 'run-started':
    case 'nodes-cached':
    case 'node-started':
    case 'node-log':
    case 'node-finished':
    case 'node-failed':
    case 'run-finished':
      return undefined;
    default: {
      const never: never = event;
      return never;
    }
  }
}

interface Queued {
  key: string | undefined;
  frame: WireFrame;
  /** Replaced by a newer message with the same key; skipped when flushing. */
  dead: boolean;
}

/**
 * FIFO of encoded frames. Frames go out directly while the socket keeps up (`canSend`); when it
 * does not, they wait here and a queued progress/preview is replaced by its newer version, which
 * moves to the back so it still follows everything that happened before it. Replacement is O(1):
 * the old entry is only marked dead, and dropped when the queue reaches it.
 */
export class Outbox {
  private queue: Queued[] = [];
  private readonly latest = new Map<string, Queued>();
  private live = 0;
  /** Frames replaced before they were sent; for tests and diagnostics. */
  dropped = 0;

  /** Messages waiting to be sent (replaced ones not counted). */
  get size(): number {
    return this.live;
  }

  push(message: WireMessage, frame: WireFrame): void {
    const key = coalesceKey(message);
    const item: Queued = { key, frame, dead: false };
    if (key !== undefined) {
      const previous = this.latest.get(key);
      if (previous) {
        previous.dead = true;
        this.live--;
        this.dropped++;
      }
      this.latest.set(key, item);
    }
    this.queue.push(item);
    this.live++;
  }

  /** Sends queued frames in order while `canSend()` holds; returns how many went out. */
  flush(send: (frame: WireFrame) => void, canSend: () => boolean): number {
    let sent = 0;
    let index = 0;
    while (index < this.queue.length) {
      const item = this.queue[index];
      if (item.dead) {
        index++;
        continue;
      }
      if (!canSend()) break;
      index++;
      this.live--;
      if (item.key !== undefined && this.latest.get(item.key) === item) this.latest.delete(item.key);
      send(item.frame);
      sent++;
    }
    // One splice per flush instead of a shift per frame.
    if (index > 0) this.queue.splice(0, index);
    return sent;
  }

  clear(): void {
    this.queue = [];
    this.latest.clear();
    this.live = 0;
  }
}
