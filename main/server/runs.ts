// server: host-side bookkeeping of runs; imports only the protocol.
/**
 * Remembers the runs started through this host and how they ended, so a client whose `run` call
 * was cut off by a lost connection can ask (`runStatus`) after reconnecting instead of guessing.
 */
import type { EngineApi, RunResult, RunStatusReply } from '../protocol/index.ts';

/** Ended runs remembered (oldest forgotten first). */
const KEEP_ENDED = 50;

export function withRunStatus(engine: EngineApi): EngineApi {
  const active = new Set<string>();
  const ended = new Map<string, RunResult>();
  return {
    ...engine,
    run: async (args) => {
      const runId = args?.runId;
      if (typeof runId === 'string') active.add(runId);
      try {
        const result = await engine.run(args);
        if (typeof runId === 'string') {
          ended.set(runId, result);
          if (ended.size > KEEP_ENDED) ended.delete(ended.keys().next().value!);
        }
        return result;
      } catch (error) {
        if (typeof runId === 'string') {
          ended.set(runId, { runId, status: 'failed', seconds: 0, error: (error as Error)?.message ?? String(error) });
          if (ended.size > KEEP_ENDED) ended.delete(ended.keys().next().value!);
        }
        throw error;
      } finally {
        if (typeof runId === 'string') active.delete(runId);
      }
    },
    runStatus: async (args): Promise<RunStatusReply> => {
      const runId = args?.runId;
      if (typeof runId !== 'string') return { known: false, active: false };
      if (active.has(runId)) return { known: true, active: true };
      const result = ended.get(runId);
      return result ? { known: true, active: false, result } : { known: false, active: false };
    },
  };
}
