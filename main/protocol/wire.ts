/**
 * The WebSocket wire format: requests, responses and events, with binary parts (preview PNGs)
 * carried as raw bytes instead of base64. Pure: only TextEncoder/TextDecoder and DataView.
 *
 * A message without any Uint8Array travels as one text frame of JSON. A message with some travels
 * as one binary frame:
 *
 *   [u32 little-endian: header byte length][header: UTF-8 JSON][part 0][part 1]...
 *
 * where the header is `{ "msg": <message with each Uint8Array replaced by {"$bin": i}>,
 * "parts": [<byte length of part i>, ...] }`. A plain object of the message that itself has a single
 * key `$bin` or `$lit` is wrapped as `{"$lit": <object>}` so user data can never be mistaken for a
 * marker.
 */
import type { EngineApi, EngineMethod } from './api.ts';
import type { EngineEvent } from './events.ts';

/** Error as it travels: a message and, where the server knows one, a machine-readable code. */
export interface WireError {
  message: string;
  code?: string;
}

export type WireMessage =
  | { kind: 'request'; id: number; method: string; args?: unknown }
  | { kind: 'response'; id: number; result: unknown }
  | { kind: 'response'; id: number; error: WireError }
  | { kind: 'event'; event: EngineEvent };

/** A frame as the socket carries it: text for plain JSON, bytes for messages with binary parts. */
export type WireFrame = string | Uint8Array;

/** Every method a client may call; `satisfies` makes a new EngineMethod a compile error here. */
export const ENGINE_METHODS = {
  listNodes: true,
  info: true,
  validate: true,
  run: true,
  cancel: true,
  openDocument: true,
  parseDocument: true,
  saveDocument: true,
  codeTrust: true,
  trustCode: true,
  runStatus: true,
} as const satisfies Record<EngineMethod, true>;

/** Whether a name from the wire is an EngineApi method (never `onEvent`, `dispose`, `constructor`...). */
export function isEngineMethod(name: unknown): name is EngineMethod {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(ENGINE_METHODS, name);
}

/** Raised for frames that are not a valid dlflow message; the message says what is wrong. */
export class WireFormatError extends Error {
  override name = 'WireFormatError';
}

const BIN = '$bin';
const LIT = '$lit';
/** Refuse headers that claim absurd sizes before allocating anything for them. */
const MAX_HEADER_BYTES = 64 * 1024 * 1024;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function isMarkerShaped(value: Record<string, unknown>): boolean {
  const keys = Object.keys(value);
  return keys.length === 1 && (keys[0] === BIN || keys[0] === LIT);
}

/** Replaces every Uint8Array by a marker and collects it; escapes marker-shaped user objects. */
function extractParts(value: unknown, parts: Uint8Array[]): unknown {
  if (value instanceof Uint8Array) {
    parts.push(value);
    return { [BIN]: parts.length - 1 };
  }
  if (Array.isArray(value)) return value.map((item) => extractParts(item, parts));
  if (value !== null && typeof value === 'object') {
    // Objects with toJSON (Date, ...) keep their JSON form.
    if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return value;
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[key] = extractParts(item, parts);
    return isPlainObject(value) && isMarkerShaped(value) ? { [LIT]: out } : out;
  }
  return value;
}

function containsBinary(value: unknown): boolean {
  if (value instanceof Uint8Array) return true;
  if (Array.isArray(value)) return value.some(containsBinary);
  if (value !== null && typeof value === 'object') return Object.values(value).some(containsBinary);
  return false;
}

function restoreParts(value: unknown, parts: Uint8Array[]): unknown {
  if (Array.isArray(value)) return value.map((item) => restoreParts(item, parts));
  if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    if (isMarkerShaped(record)) {
      if (BIN in record) {
        const index = record[BIN];
        if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= parts.length) {
          throw new WireFormatError(`binary marker points at part ${String(index)}, but the frame has ${parts.length} part(s)`);
        }
        return parts[index];
      }
      // An escaped user object: restore its fields, not the wrapper.
      const inner = record[LIT];
      if (!isPlainObject(inner)) throw new WireFormatError('escaped object marker does not wrap an object');
      const out: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(inner)) out[key] = restoreParts(item, parts);
      return out;
    }
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(record)) out[key] = restoreParts(item, parts);
    return out;
  }
  return value;
}

/**
 * Encodes a message as a frame: a JSON string when it has no Uint8Array anywhere, else one binary
 * frame with the bytes appended after a JSON header (see the module comment).
 */
export function encodeMessage(message: WireMessage): WireFrame {
  if (!containsBinary(message)) return JSON.stringify(message);
  const parts: Uint8Array[] = [];
  const msg = extractParts(message, parts);
  const header = new TextEncoder().encode(JSON.stringify({ msg, parts: parts.map((p) => p.byteLength) }));
  const total = 4 + header.byteLength + parts.reduce((sum, p) => sum + p.byteLength, 0);
  const frame = new Uint8Array(total);
  new DataView(frame.buffer).setUint32(0, header.byteLength, true);
  frame.set(header, 4);
  let offset = 4 + header.byteLength;
  for (const part of parts) {
    frame.set(part, offset);
    offset += part.byteLength;
  }
  return frame;
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new WireFormatError(`${what} is not valid JSON: ${(error as Error).message}`);
  }
}

function decodeBinary(bytes: Uint8Array): unknown {
  if (bytes.byteLength < 4) throw new WireFormatError(`binary frame of ${bytes.byteLength} bytes is too short for its header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getUint32(0, true);
  if (headerLength > MAX_HEADER_BYTES || 4 + headerLength > bytes.byteLength) {
    throw new WireFormatError(`binary frame header claims ${headerLength} bytes but the frame has ${bytes.byteLength - 4}`);
  }
  const headerText = new TextDecoder().decode(bytes.subarray(4, 4 + headerLength));
  const header = parseJson(headerText, 'binary frame header') as { msg?: unknown; parts?: unknown };
  if (!isPlainObject(header) || !Array.isArray(header.parts) || !('msg' in header)) {
    throw new WireFormatError('binary frame header must be {"msg": ..., "parts": [lengths]}');
  }
  const parts: Uint8Array[] = [];
  let offset = 4 + headerLength;
  for (const [i, length] of header.parts.entries()) {
    if (typeof length !== 'number' || !Number.isInteger(length) || length < 0 || offset + length > bytes.byteLength) {
      throw new WireFormatError(`binary part ${i} has length ${String(length)}, which does not fit the frame`);
    }
    // A view of its own ArrayBuffer range; plain Uint8Array even when the frame is a Node Buffer.
    parts.push(new Uint8Array(bytes.buffer, bytes.byteOffset + offset, length));
    offset += length;
  }
  if (offset !== bytes.byteLength) {
    throw new WireFormatError(`binary frame has ${bytes.byteLength - offset} trailing bytes after its parts`);
  }
  return restoreParts(header.msg, parts);
}

function checkMessage(value: unknown): WireMessage {
  if (!isPlainObject(value)) throw new WireFormatError('message must be a JSON object');
  switch (value.kind) {
    case 'request':
      if (typeof value.id !== 'number') throw new WireFormatError('request needs a numeric "id"');
      if (typeof value.method !== 'string') throw new WireFormatError(`request ${value.id} needs a string "method"`);
      return value as WireMessage;
    case 'response':
      if (typeof value.id !== 'number') throw new WireFormatError('response needs a numeric "id"');
      if ('error' in value) {
        const error = value.error as Partial<WireError> | null;
        if (!isPlainObject(error) || typeof error.message !== 'string') {
          throw new WireFormatError(`response ${value.id} has an "error" without a string "message"`);
        }
      } else if (!('result' in value)) {
        // JSON drops `result: undefined`; a void method's response is legitimately bare.
        return { kind: 'response', id: value.id, result: undefined };
      }
      return value as WireMessage;
    case 'event':
      if (!isPlainObject(value.event) || typeof value.event.type !== 'string') {
        throw new WireFormatError('event message needs an "event" object with a string "type"');
      }
      return value as WireMessage;
    default:
      throw new WireFormatError(`unknown message kind ${JSON.stringify(value.kind)} (expected request, response or event)`);
  }
}

/**
 * Decodes a frame (text, or bytes as Uint8Array/ArrayBuffer) into a message, restoring every
 * binary part as a Uint8Array. Throws WireFormatError naming what is malformed.
 */
export function decodeMessage(frame: string | Uint8Array | ArrayBuffer): WireMessage {
  if (typeof frame === 'string') return checkMessage(parseJson(frame, 'text frame'));
  const bytes = frame instanceof Uint8Array ? frame : new Uint8Array(frame);
  return checkMessage(decodeBinary(bytes));
}

/** Byte size of a frame, for backpressure accounting. */
export function frameSize(frame: WireFrame): number {
  return typeof frame === 'string' ? frame.length : frame.byteLength;
}

/** What a path picker may be asked for; mirrors a `path` param's mode and extensions. */
export interface PickPathOptions {
  mode: 'file' | 'folder' | 'save';
  extensions?: readonly string[];
  title?: string;
  defaultPath?: string;
  /** The param's current value; the dialog starts there when defaultPath is not given. */
  current?: string;
}

/** What `window.dlflow.call` resolves to. An envelope rather than a rejection, because Electron's
 * contextBridge keeps only `message` of a thrown Error and the UI needs the `code` too. */
export type BridgeReply = { ok: true; result: unknown } | { ok: false; error: WireError };

/**
 * The one object Electron's preload exposes as `window.dlflow`: the engine call/event pair the
 * WebSocket carries in browser mode, plus the native path picker only the desktop app has.
 */
export interface DlflowBridge {
  call(method: string, args: unknown): Promise<BridgeReply>;
  onEvent(listener: (event: EngineEvent) => void): () => void;
  pickPath(options: PickPathOptions): Promise<string | null>;
}

/** An error as it travels: its message, and `code` when the error has a string one (UserError → `user-error`). */
export function errorToWire(error: unknown): WireError {
  if (!(error instanceof Error)) return { message: String(error) };
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') return { message: error.message, code };
  return error.name === 'UserError' ? { message: error.message, code: 'user-error' } : { message: error.message };
}

type Request = Extract<WireMessage, { kind: 'request' }>;
type Response = Extract<WireMessage, { kind: 'response' }>;

/**
 * Answers one request with an engine: unknown methods get `unknown-method`, failures their
 * message and code. `onUnexpected` sees errors that are neither UserErrors nor coded (bugs),
 * for logging. Never rejects.
 */
export async function answerRequest(
  engine: EngineApi | Omit<EngineApi, 'onEvent'>,
  request: Request,
  onUnexpected?: (error: unknown) => void,
): Promise<Response> {
  if (!isEngineMethod(request.method)) {
    return { kind: 'response', id: request.id, error: { message: `unknown method ${JSON.stringify(request.method)}`, code: 'unknown-method' } };
  }
  try {
    const method = engine[request.method] as ((args: unknown) => Promise<unknown>) | undefined;
    if (typeof method !== 'function') {
      return { kind: 'response', id: request.id, error: { message: `${request.method} is not available here`, code: 'unknown-method' } };
    }
    return { kind: 'response', id: request.id, result: await method.call(engine, request.args) };
  } catch (error) {
    const wire = errorToWire(error);
    if (wire.code === undefined) onUnexpected?.(error);
    return { kind: 'response', id: request.id, error: wire };
  }
}
