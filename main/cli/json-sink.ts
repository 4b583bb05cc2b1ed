/**
 * `--json`: exactly one engine event per line on stdout. Binary preview images (PNG bytes) are
 * written inline as `{"$png": "<base64>"}` — the same shape the disk cache uses — so a consumer
 * can decode every preview without a second channel.
 */
import type { EngineEvent } from '../protocol/index.ts';

/** JSON replacer: Uint8Array → `{ $png: base64 }`. */
export function binaryAsBase64(_key: string, value: unknown): unknown {
  return value instanceof Uint8Array ? { $png: Buffer.from(value).toString('base64') } : value;
}

/** One line of JSON (no newline inside: JSON.stringify escapes them) for an event. */
export function eventLine(event: EngineEvent): string {
  return `${JSON.stringify(event, binaryAsBase64)}\n`;
}

/** A sink that writes each event as one JSON line. */
export function createJsonSink(out: { write(text: string): unknown }): (event: EngineEvent) => void {
  return (event) => {
    out.write(eventLine(event));
  };
}
