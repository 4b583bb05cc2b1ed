import { describe, expect, it } from 'vitest';
import type { EngineEvent } from '../../main/protocol/index.ts';
import type { WireMessage } from '../../main/protocol/wire.ts';
import { coalesceKey, Outbox } from '../../main/server/outbox.ts';

const ev = (event: EngineEvent): WireMessage => ({ kind: 'event', event });
const progress = (nodeId: string, fraction: number) => ev({ type: 'node-progress', runId: 'r', nodeId, fraction });
const preview = (nodeId: string, n: number, kind: 'image-grid' | 'text' = 'image-grid') =>
  ev({
    type: 'node-preview',
    runId: 'r',
    nodeId,
    preview: kind === 'text' ? { kind, text: `t${n}` } : { kind, columns: 1, images: [{ png: new Uint8Array([n]), width: 1, height: 1 }] },
  });
const finished = (nodeId: string) => ev({ type: 'node-finished', runId: 'r', nodeId, seconds: 1 });

/** Pushes messages with a label as the "frame", so the test reads which ones survived. */
function fill(outbox: Outbox, items: [WireMessage, string][]) {
  for (const [message, label] of items) outbox.push(message, label);
}

describe('Outbox coalescing', () => {
  it('only progress and previews coalesce; responses and lifecycle events never do', () => {
    expect(coalesceKey(progress('a', 0.1))).toBe(coalesceKey(progress('a', 0.9)));
    expect(coalesceKey(progress('a', 0.1))).not.toBe(coalesceKey(progress('b', 0.1)));
    expect(coalesceKey(preview('a', 1))).toBe(coalesceKey(preview('a', 2)));
    expect(coalesceKey(preview('a', 1))).not.toBe(coalesceKey(preview('a', 1, 'text')));
    expect(coalesceKey(finished('a'))).toBeUndefined();
    expect(coalesceKey({ kind: 'response', id: 1, result: null })).toBeUndefined();
  });

  it('while the socket is busy keeps the latest progress/preview per node, in causal order', () => {
    const outbox = new Outbox();
    fill(outbox, [
      [progress('a', 0.1), 'pa1'],
      [preview('a', 1), 'va1'],
      [progress('b', 0.1), 'pb1'],
      [progress('a', 0.5), 'pa2'],
      [preview('a', 2), 'va2'],
      [preview('a', 3, 'text'), 'ta3'],
      [finished('b'), 'fb'],
      [progress('a', 1), 'pa3'],
      [preview('a', 4), 'va4'],
      [finished('a'), 'fa'],
      [{ kind: 'response', id: 7, result: 'x' }, 'resp'],
    ]);
    expect(outbox.dropped).toBe(4);
    const sent: unknown[] = [];
    // Nothing goes out while the socket cannot take more.
    expect(outbox.flush((f) => sent.push(f), () => false)).toBe(0);
    expect(outbox.flush((f) => sent.push(f), () => true)).toBe(7);
    expect(sent).toEqual(['pb1', 'ta3', 'fb', 'pa3', 'va4', 'fa', 'resp']);
    expect(outbox.size).toBe(0);
  });

  it('sends in order and stops as soon as the socket is full again', () => {
    const outbox = new Outbox();
    fill(outbox, [
      [progress('a', 0.1), '1'],
      [finished('a'), '2'],
      [progress('b', 0.1), '3'],
    ]);
    const sent: unknown[] = [];
    let room = 2;
    outbox.flush(
      (f) => sent.push(f),
      () => room-- > 0,
    );
    expect(sent).toEqual(['1', '2']);
    expect(outbox.size).toBe(1);
  });

  it('stays cheap when a stalled client piles up thousands of updates', () => {
    const outbox = new Outbox();
    const started = performance.now();
    for (let i = 0; i < 20_000; i++) {
      outbox.push(progress(`n${i % 50}`, i / 20_000), `p${i}`);
      if (i % 1000 === 0) outbox.push(finished(`n${i}`), `f${i}`);
    }
    expect(performance.now() - started).toBeLessThan(500);
    expect(outbox.size).toBe(50 + 20);
    const sent: unknown[] = [];
    outbox.flush((f) => sent.push(f), () => true);
    expect(sent).toHaveLength(70);
    expect(sent.at(-1)).toBe('p19999');
    expect(outbox.size).toBe(0);
    // After a flush the same key queues again instead of replacing a sent frame.
    outbox.push(progress('n1', 1), 'again');
    expect(outbox.size).toBe(1);
  });
});
