/**
 * The engine's own process (Electron utilityProcess): builds the engine with the node list and
 * serves the main process's requests, so training never blocks the window's UI thread.
 */
import { createEngine, type Engine } from '../engine/index.ts';
import { isEngineMethod, type WireError } from '../protocol/wire.ts';
import { allNodes, allPortTypes } from '../../nodes/index.ts';
import type { HostMessage } from './channels.ts';

const parent = process.parentPort;
const post = (message: HostMessage): void => parent.postMessage(message);

function toWire(error: unknown): WireError {
  if (!(error instanceof Error)) return { message: String(error) };
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') return { message: error.message, code };
  return error.name === 'UserError' ? { message: error.message, code: 'user-error' } : { message: error.message };
}

const ready: Promise<Engine> = createEngine({ nodes: allNodes, portTypes: allPortTypes }).then((engine) => {
  engine.onEvent((event) => post({ kind: 'event', event }));
  post({ kind: 'ready' });
  return engine;
});
ready.catch((error: unknown) => post({ kind: 'fatal', message: (error as Error)?.message ?? String(error) }));

parent.on('message', (envelope: { data: HostMessage }) => {
  const message = envelope.data;
  if (message.kind !== 'request') return;
  const { id } = message;
  void (async () => {
    try {
      const engine = await ready;
      if (!isEngineMethod(message.method)) {
        throw Object.assign(new Error(`unknown method ${JSON.stringify(message.method)}`), { code: 'unknown-method' });
      }
      const method = engine[message.method] as (args: unknown) => Promise<unknown>;
      post({ kind: 'response', id, result: await method.call(engine, message.args) });
    } catch (error) {
      post({ kind: 'response', id, error: toWire(error) });
    }
  })();
});
