/** The one transport the UI talks through (set once at start from renderer/transport). */
import type { Transport } from '../../transport/index.ts';

let client: Transport | undefined;

export function setEngineClient(c: Transport): void {
  client = c;
}

/** The engine transport; throws a clear message if the app started without one. */
export function engine(): Transport {
  if (!client) throw new Error('No engine transport: setEngineClient() was not called at start-up.');
  return client;
}
