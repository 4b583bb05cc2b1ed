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
}

/**
 * FIFO of encoded frames. Frames go out directly while the socket keeps up (`canSend`); when it
 * does not, they wait here and a queued progress/preview is replaced by its newer version, which
 * moves to the back so it still follows everything that happened before it.
 */
export class Outbox {
  private queue: Queued[] = [];
  /** Frames replaced before they were sent; for tests and diagnostics. */
  dropped = 0;

  get size(): number {
    return this.queue.length;
  }

  push(message: WireMessage, frame: WireFrame): void {
    const key = coalesceKey(message);
    if (key !== undefined) {
      const index = this.queue.findIndex((item) => item.key === key);
      if (index >= 0) {
        this.queue.splice(index, 1);
        this.dropped++;
      }
    }
    this.queue.push({ key, frame });
  }

  /** Sends queued frames in order while `canSend()` holds; returns how many went out. */
  flush(send: (frame: WireFrame) => void, canSend: () => boolean): number {
    let sent = 0;
    while (this.queue.length > 0 && canSend()) {
      send(this.queue.shift()!.frame);
      sent++;
    }
    return sent;
  }

  clear(): void {
    this.queue = [];
  }
}
