// An in-memory Transport for renderer logic tests: scripted replies, recorded calls, pushable events.
import type { EngineEvent, EngineMethod } from '../../main/protocol/index.ts';
import type { ConnectionState, Transport } from '../../renderer/transport/index.ts';

type Handler = (args: any) => unknown;

export interface FakeTransport extends Transport {
  calls: { method: EngineMethod; args: any }[];
  handlers: Partial<Record<EngineMethod, Handler>>;
  emit(event: EngineEvent): void;
}

export function createFakeTransport(handlers: Partial<Record<EngineMethod, Handler>> = {}): FakeTransport {
  const listeners = new Set<(e: EngineEvent) => void>();
  const fake: FakeTransport = {
    kind: 'websocket',
    canPickPaths: false,
    calls: [],
    // A host with code trust that trusts everything, unless a test says otherwise.
    handlers: { codeTrust: () => ({ trusted: true }), ...handlers },
    async call(method: EngineMethod, ...rest: unknown[]) {
      fake.calls.push({ method, args: rest[0] });
      const h = fake.handlers[method];
      if (!h) throw new Error(`fake engine: no handler for ${method}`);
      return h(rest[0]);
    },
    onEvent(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    emit(event) {
      for (const l of listeners) l(event);
    },
    connectionState: (): ConnectionState => 'open',
    onConnectionChange: () => () => undefined,
    initialFile: async () => null,
    pickPath: async () => null,
    close: () => undefined,
  } as FakeTransport;
  return fake;
}
