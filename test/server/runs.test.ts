import { describe, expect, it } from 'vitest';
import type { RunResult } from '../../main/protocol/index.ts';
import { withRunStatus } from '../../main/server/index.ts';
import { createStubEngine, emptyDocument } from './stub-engine.ts';

describe('withRunStatus', () => {
  it('says a run is active while it runs and how it ended afterwards; other ids are unknown', async () => {
    const stub = createStubEngine();
    let finish!: (r: RunResult) => void;
    stub.run = () => new Promise<RunResult>((resolve) => (finish = resolve));
    const api = withRunStatus(stub);
    const running = api.run({ document: emptyDocument(), runId: 'r1' });
    expect(await api.runStatus!({ runId: 'r1' })).toEqual({ known: true, active: true });
    expect(await api.runStatus!({ runId: 'other' })).toEqual({ known: false, active: false });
    finish({ runId: 'r1', status: 'done', seconds: 2 });
    await running;
    expect(await api.runStatus!({ runId: 'r1' })).toEqual({ known: true, active: false, result: { runId: 'r1', status: 'done', seconds: 2 } });
  });

  it('records a run that threw as failed with its message, and forgets the oldest of many', async () => {
    const stub = createStubEngine();
    stub.run = async ({ runId }) => {
      if (runId === 'bad') throw new Error('boom');
      return { runId, status: 'done', seconds: 0 };
    };
    const api = withRunStatus(stub);
    await expect(api.run({ document: emptyDocument(), runId: 'bad' })).rejects.toThrow('boom');
    expect((await api.runStatus!({ runId: 'bad' })).result).toMatchObject({ status: 'failed', error: 'boom' });
    for (let i = 0; i < 60; i++) await api.run({ document: emptyDocument(), runId: `r${i}` });
    expect((await api.runStatus!({ runId: 'bad' })).known).toBe(false);
    expect((await api.runStatus!({ runId: 'r59' })).known).toBe(true);
    expect(await api.runStatus!({} as never)).toEqual({ known: false, active: false });
  });
});
