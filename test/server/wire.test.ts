import { describe, expect, it } from 'vitest';
import { UserError } from '../../main/engine/errors.ts';
import { answerRequest, decodeMessage, encodeMessage, errorToWire, isEngineMethod, WireFormatError, type WireMessage } from '../../main/protocol/wire.ts';
import { createStubEngine } from './stub-engine.ts';

const png = (n: number, seed = 1) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);

describe('wire format', () => {
  it('sends messages without bytes as JSON text and round-trips them', () => {
    const msg: WireMessage = { kind: 'request', id: 7, method: 'validate', args: { document: { nodes: [], x: 'é✓' } } };
    const frame = encodeMessage(msg);
    expect(typeof frame).toBe('string');
    expect(JSON.parse(frame as string)).toEqual(msg);
    expect(decodeMessage(frame)).toEqual(msg);
  });

  it('sends previews as one binary frame with the PNG bytes raw, not base64', () => {
    const a = png(5000, 3);
    const b = png(17, 9);
    const msg: WireMessage = {
      kind: 'event',
      event: {
        type: 'node-preview',
        runId: 'r1',
        nodeId: 'n1',
        preview: {
          kind: 'image-grid',
          columns: 2,
          images: [
            { png: a, width: 8, height: 8, caption: 'cat' },
            { png: b, width: 1, height: 1 },
          ],
        },
      },
    };
    const frame = encodeMessage(msg);
    expect(frame).toBeInstanceOf(Uint8Array);
    const bytes = frame as Uint8Array;
    const headerLength = new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true);
    // The frame is header + the raw bytes: no base64 inflation.
    expect(bytes.byteLength).toBe(4 + headerLength + a.byteLength + b.byteLength);
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(4, 4 + headerLength)));
    expect(header.parts).toEqual([5000, 17]);
    expect(header.msg.event.preview.images[0].png).toEqual({ $bin: 0 });

    const back = decodeMessage(bytes) as Extract<WireMessage, { kind: 'event' }>;
    const preview = back.event.type === 'node-preview' ? back.event.preview : undefined;
    if (preview?.kind !== 'image-grid') throw new Error('expected an image grid');
    expect(preview.images[0].png).toBeInstanceOf(Uint8Array);
    expect(Array.from(preview.images[0].png)).toEqual(Array.from(a));
    expect(Array.from(preview.images[1].png)).toEqual(Array.from(b));
    expect(preview.images[0].caption).toBe('cat');
    // Decoding from an ArrayBuffer (what a browser socket hands over) gives the same result.
    const copy = bytes.slice().buffer;
    expect(decodeMessage(copy)).toEqual(back);
  });

  it('keeps user objects that look like markers intact', () => {
    const msg: WireMessage = {
      kind: 'response',
      id: 1,
      result: { data: png(3), tricky: { $bin: 0 }, nested: { $lit: { $bin: 5 } }, list: [{ $bin: 'x' }] },
    };
    const back = decodeMessage(encodeMessage(msg)) as { result: Record<string, unknown> };
    expect(back.result.tricky).toEqual({ $bin: 0 });
    expect(back.result.nested).toEqual({ $lit: { $bin: 5 } });
    expect(back.result.list).toEqual([{ $bin: 'x' }]);
    expect(Array.from(back.result.data as Uint8Array)).toEqual(Array.from(png(3)));
  });

  it('round-trips errors and empty binary parts', () => {
    const err: WireMessage = { kind: 'response', id: 3, error: { message: 'boom', code: 'user-error' } };
    expect(decodeMessage(encodeMessage(err))).toEqual(err);
    const empty: WireMessage = { kind: 'response', id: 4, result: new Uint8Array(0) };
    const back = decodeMessage(encodeMessage(empty)) as { result: Uint8Array };
    expect(back.result).toBeInstanceOf(Uint8Array);
    expect(back.result.byteLength).toBe(0);
  });

  it('rejects malformed frames with messages that say what is wrong', () => {
    expect(() => decodeMessage('{nope')).toThrow(/text frame is not valid JSON/);
    expect(() => decodeMessage('[1]')).toThrow(/JSON object/);
    expect(() => decodeMessage('{"kind":"shout"}')).toThrow(/unknown message kind "shout"/);
    expect(() => decodeMessage('{"kind":"request","id":1}')).toThrow(/string "method"/);
    expect(() => decodeMessage(new Uint8Array([1, 0]))).toThrow(WireFormatError);
    const good = encodeMessage({ kind: 'response', id: 1, result: png(10) }) as Uint8Array;
    expect(() => decodeMessage(good.subarray(0, good.byteLength - 1))).toThrow(/does not fit the frame/);
    const longer = new Uint8Array(good.byteLength + 2);
    longer.set(good);
    expect(() => decodeMessage(longer)).toThrow(/trailing bytes/);
    const huge = good.slice();
    new DataView(huge.buffer).setUint32(0, 0xffffffff, true);
    expect(() => decodeMessage(huge)).toThrow(/header claims/);
  });
});

describe('answering requests', () => {
  it('calls only EngineApi methods and turns failures into coded errors', async () => {
    const engine = createStubEngine();
    expect(await answerRequest(engine, { kind: 'request', id: 1, method: 'cancel', args: { runId: 'r' } })).toEqual({ kind: 'response', id: 1, result: { cancelled: true } });
    for (const method of ['onEvent', 'emit', 'constructor', '__proto__', 'toString']) {
      expect(isEngineMethod(method)).toBe(false);
      const reply = await answerRequest(engine, { kind: 'request', id: 2, method });
      expect(reply).toEqual({ kind: 'response', id: 2, error: { message: `unknown method ${JSON.stringify(method)}`, code: 'unknown-method' } });
    }
    const unexpected: unknown[] = [];
    engine.info = async () => {
      throw new TypeError('bug');
    };
    expect(await answerRequest(engine, { kind: 'request', id: 3, method: 'info' }, (e) => unexpected.push(e))).toEqual({ kind: 'response', id: 3, error: { message: 'bug' } });
    expect(unexpected).toHaveLength(1);
    engine.info = async () => {
      throw new UserError('no backend');
    };
    expect(await answerRequest(engine, { kind: 'request', id: 4, method: 'info' }, (e) => unexpected.push(e))).toEqual({ kind: 'response', id: 4, error: { message: 'no backend', code: 'user-error' } });
    expect(unexpected).toHaveLength(1);
    expect(errorToWire(Object.assign(new Error('m'), { code: 'path-not-allowed' }))).toEqual({ message: 'm', code: 'path-not-allowed' });
    expect(errorToWire('plain')).toEqual({ message: 'plain' });
  });
});
