/** The terminal sink in-process, with a fake clock: live redraw on a TTY, throttled plain lines off it. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { EngineEvent } from '../../main/protocol/index.ts';
import { createTerminalSink } from '../../main/cli/terminal-sink.ts';
import { eventLine } from '../../main/cli/json-sink.ts';

function fakeOut(columns = 120) {
  const chunks: string[] = [];
  return { chunks, columns, write: (t: string) => chunks.push(t), text: () => chunks.join('') };
}

const runId = 'r1';
const started: EngineEvent = { type: 'run-started', runId, nodeIds: ['data', 'train'], backend: 'wasm', time: 0 };

afterEach(() => {
  vi.useRealTimers();
});

describe('terminal sink off a TTY', () => {
  it('prints plain lines, progress at most every 3 s per node, and a summary table', () => {
    let now = 0;
    const out = fakeOut();
    const sink = createTerminalSink({ out, live: false, colour: false, now: () => now });
    sink(started);
    sink({ type: 'nodes-cached', runId, nodeIds: ['data'], fromDisk: ['data'] });
    sink({ type: 'node-started', runId, nodeId: 'train', time: 0 });
    for (let i = 1; i <= 100; i++) {
      now = i * 100; // 10 s of progress every 100 ms
      sink({ type: 'node-progress', runId, nodeId: 'train', fraction: i / 100, note: `epoch ${i}/100`, etaSeconds: (100 - i) / 10 });
    }
    sink({ type: 'node-finished', runId, nodeId: 'train', seconds: 10, summary: 'val acc 91.0%' });
    sink({ type: 'run-finished', runId, status: 'done', seconds: 10.2, nodes: { data: 'cached', train: 'done' } });
    const text = out.text();
    expect(text).not.toContain('\u001b[');
    const progress = text.split('\n').filter((l) => /^ {2}train {2}\d+%/.test(l));
    expect(progress).toEqual(['  train  30%  epoch 30/100  (3.0s, eta 7.0s)', '  train  60%  epoch 60/100  (6.0s, eta 4.0s)', '  train  90%  epoch 90/100  (9.0s, eta 1.0s)']);
    expect(text).toContain('✓ data  (cached) from disk\n');
    expect(text).toContain('✓ train  10s  val acc 91.0%\n');
    expect(text).toContain(
      ['  node   status  time  cached  summary', '  data   cached  -     yes', '  train  done    10s   no      val acc 91.0%'].join('\n'),
    );
    expect(text.trimEnd().split('\n').at(-1)).toBe('done in 10s (1 of 2 nodes from cache)');
  });

  it('shows the summaries of cached nodes when the engine sends them', () => {
    const out = fakeOut();
    const sink = createTerminalSink({ out, live: false, colour: false });
    sink(started);
    sink({ type: 'nodes-cached', runId, nodeIds: ['data', 'train'], fromDisk: [], summaries: { train: 'val acc 91.0%' } } as EngineEvent);
    sink({ type: 'run-finished', runId, status: 'done', seconds: 0.1, nodes: { data: 'cached', train: 'cached' } });
    expect(out.text()).toContain('✓ train  (cached)  val acc 91.0%\n');
    expect(out.text()).toMatch(/^ {2}train +cached +- +yes +val acc 91\.0%$/m);
  });

  it('shows failures with their message and the cancelled state', () => {
    const out = fakeOut();
    const sink = createTerminalSink({ out, live: false, colour: false });
    sink(started);
    sink({ type: 'node-started', runId, nodeId: 'data', time: 0 });
    sink({ type: 'node-failed', runId, nodeId: 'data', seconds: 0.5, error: { message: 'node "data" (x:y): disk full', nodeType: 'x:y' } });
    sink({ type: 'run-finished', runId, status: 'failed', seconds: 0.6, error: 'node "data" (x:y): disk full', nodes: { data: 'failed', train: 'skipped' } });
    const text = out.text();
    expect(text).toContain('✗ data  failed after 0.5s: node "data" (x:y): disk full');
    expect(text).toMatch(/^ {2}train +skipped +- +no$/m);
    expect(text.trimEnd().split('\n').at(-1)).toBe('failed after 0.6s: node "data" (x:y): disk full');
  });
});

describe('terminal sink on a TTY', () => {
  it('redraws one live line per running node in place: bar, percent, note, elapsed, ETA', () => {
    vi.useFakeTimers();
    let now = 0;
    const out = fakeOut(200);
    const sink = createTerminalSink({ out, live: true, colour: false, now: () => now, redrawMs: 100 });
    sink(started);
    sink({ type: 'node-started', runId, nodeId: 'train', time: 0 });
    now = 4000;
    sink({ type: 'node-progress', runId, nodeId: 'train', fraction: 0.4, note: 'epoch 4/10 · loss 0.42', etaSeconds: 6 });
    out.chunks.length = 0;
    now = 5000;
    vi.advanceTimersByTime(100);
    const frame = out.text();
    // Cursor back up over the one live line, clear, redraw.
    expect(frame.startsWith('\r\u001b[1A\u001b[0J')).toBe(true);
    expect(frame).toMatch(/ {2}. {2}train {2}█{8}░{12} {2}40% {2}epoch 4\/10 · loss 0\.42 {2}5\.0s {2}eta 5\.0s\n$/);
    // A finished node becomes a permanent line and the live area empties.
    out.chunks.length = 0;
    sink({ type: 'node-finished', runId, nodeId: 'train', seconds: 9 });
    expect(out.text()).toBe('\r\u001b[1A\u001b[0J✓ train  9.0s\n');
    sink({ type: 'run-finished', runId, status: 'done', seconds: 9, nodes: { data: 'done', train: 'done' } });
    expect(out.text().endsWith('\u001b[?25h')).toBe(true); // cursor shown again
    // No more redraws after the end.
    out.chunks.length = 0;
    vi.advanceTimersByTime(1000);
    expect(out.text()).toBe('');
  });

  it('cuts live lines to the terminal width and notices go above the live area', () => {
    vi.useFakeTimers();
    const out = fakeOut(40);
    const sink = createTerminalSink({ out, live: true, colour: true, now: () => 1000 });
    sink(started);
    sink({ type: 'node-started', runId, nodeId: 'train', time: 0 });
    sink({ type: 'node-progress', runId, nodeId: 'train', fraction: 0.5, note: 'a very long note that cannot fit in forty columns' });
    out.chunks.length = 0;
    sink.notice('cancelling… (Ctrl-C again to quit now)');
    const [notice, live] = out.text().replace('\r\u001b[1A\u001b[0J', '').split('\n');
    expect(notice).toBe('cancelling… (Ctrl-C again to quit now)');
    // eslint-disable-next-line no-control-regex
    const visible = live.replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '');
    expect([...visible].length).toBeLessThanOrEqual(39);
    expect(visible.endsWith('…')).toBe(true);
    sink.close();
  });
});

describe('--json lines', () => {
  it('one line per event; preview PNG bytes become {"$png": base64}', () => {
    const line = eventLine({
      type: 'node-preview',
      runId,
      nodeId: 'data',
      preview: { kind: 'image-grid', columns: 1, images: [{ png: new Uint8Array([137, 80, 78, 71]), width: 1, height: 1, caption: 'a\nb' }] },
    });
    expect(line.endsWith('\n')).toBe(true);
    expect(line.slice(0, -1)).not.toContain('\n');
    const parsed = JSON.parse(line) as { preview: { images: { png: unknown }[] } };
    expect(parsed.preview.images[0].png).toEqual({ $png: 'iVBORw==' });
  });
});
