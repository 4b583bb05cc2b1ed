/**
 * The CLI's human output for a run. On a terminal: a live area, rewritten in place, with one
 * line per running node (bar, percent, note, elapsed, ETA), permanent lines as nodes finish,
 * and a summary table at the end. Off a terminal: the same permanent lines without ANSI, and
 * progress as plain lines at most every few seconds per node.
 */
import type { EngineEvent, EventOf, NodeRunStatus } from '../protocol/index.ts';
import { fitWidth, formatDuration, painter, progressBar, table } from './format.ts';

export interface TerminalOut {
  write(text: string): unknown;
  /** Terminal width, when known. */
  columns?: number;
}

export interface TerminalSinkOptions {
  out: TerminalOut;
  /** Rewrite a live area in place with ANSI (a TTY). */
  live: boolean;
  colour: boolean;
  /** Minimum gap between plain progress lines of one node (off a TTY). Default 3000 ms. */
  plainProgressIntervalMs?: number;
  /** Redraw period of the live area. Default 120 ms. */
  redrawMs?: number;
  now?: () => number;
}

export interface TerminalSink {
  (event: EngineEvent): void;
  /** Prints a line above the live area (e.g. "cancelling…"). */
  notice(text: string): void;
  /** Stops redrawing, clears the live area and restores the cursor. Idempotent. */
  close(): void;
}

interface NodeState {
  status: NodeRunStatus;
  startedAt?: number;
  fraction?: number;
  note?: string;
  etaSeconds?: number;
  /** When `etaSeconds` was reported, so the live ETA counts down between events. */
  etaAt?: number;
  seconds?: number;
  summary?: string;
  error?: string;
  lastPlainAt?: number;
}

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const HIDE_CURSOR = '\x1b[?25l';
const SHOW_CURSOR = '\x1b[?25h';

/** Creates the terminal sink. Call `close()` when the run is over (run-finished does it too). */
export function createTerminalSink(options: TerminalSinkOptions): TerminalSink {
  const { out, live } = options;
  const now = options.now ?? Date.now;
  const paint = painter(options.colour);
  const plainEvery = options.plainProgressIntervalMs ?? 3000;
  const states = new Map<string, NodeState>();
  let order: string[] = [];
  let liveLines = 0;
  let frame = 0;
  let timer: ReturnType<typeof setInterval> | undefined;
  let closed = false;
  let cursorHidden = false;

  const state = (id: string): NodeState => {
    let s = states.get(id);
    if (!s) {
      s = { status: 'queued' };
      states.set(id, s);
      if (!order.includes(id)) order.push(id);
    }
    return s;
  };

  const width = (): number => Math.max(20, (out.columns || 100) - 1);

  function liveLine(id: string, s: NodeState): string {
    const elapsed = s.startedAt !== undefined ? (now() - s.startedAt) / 1000 : 0;
    const parts = [paint('cyan', SPINNER[frame % SPINNER.length]), paint('bold', id)];
    if (s.fraction !== undefined) {
      parts.push(`${paint('cyan', progressBar(s.fraction, 20))} ${String(Math.floor(s.fraction * 100)).padStart(3)}%`);
    } else parts.push(paint('dim', 'running'));
    if (s.note) parts.push(s.note);
    parts.push(paint('dim', formatDuration(elapsed)));
    if (s.etaSeconds !== undefined) {
      const left = Math.max(0, s.etaSeconds - (now() - (s.etaAt ?? now())) / 1000);
      parts.push(paint('dim', `eta ${formatDuration(left)}`));
    }
    return fitWidth(`  ${parts.join('  ')}`, width());
  }

  /** Clears the live area, prints `lines` permanently, and redraws the live area below them. */
  function render(lines: string[] = []): void {
    if (!live) {
      if (lines.length > 0) out.write(`${lines.join('\n')}\n`);
      return;
    }
    let text = liveLines > 0 ? `\r\x1b[${liveLines}A\x1b[0J` : '';
    for (const line of lines) text += `${line}\n`;
    const running = closed ? [] : order.filter((id) => states.get(id)?.status === 'running');
    for (const id of running) text += `${liveLine(id, states.get(id)!)}\n`;
    liveLines = running.length;
    if (running.length > 0 && !cursorHidden) {
      text = HIDE_CURSOR + text;
      cursorHidden = true;
    }
    if (text) out.write(text);
  }

  function startTimer(): void {
    if (!live || timer || closed) return;
    timer = setInterval(() => {
      frame++;
      render();
    }, options.redrawMs ?? 120);
    timer.unref?.();
  }

  const mark = (status: NodeRunStatus): string => {
    switch (status) {
      case 'done':
        return paint('green', '✓');
      case 'cached':
        return paint('cyan', '✓');
      case 'failed':
        return paint('red', '✗');
      case 'cancelled':
        return paint('yellow', '⊘');
      case 'skipped':
      case 'idle':
      case 'queued':
      case 'running':
        return paint('dim', '·');
      default: {
        const never: never = status;
        return String(never);
      }
    }
  };

  const statusWord = (status: NodeRunStatus): string => {
    switch (status) {
      case 'done':
        return paint('green', 'done');
      case 'cached':
        return paint('cyan', 'cached');
      case 'failed':
        return paint('red', 'failed');
      case 'cancelled':
        return paint('yellow', 'cancelled');
      case 'skipped':
      case 'idle':
      case 'queued':
      case 'running':
        return paint('dim', status);
      default: {
        const never: never = status;
        return String(never);
      }
    }
  };

  function summaryTable(e: EventOf<'run-finished'>): string[] {
    const ids = order.length > 0 ? order : Object.keys(e.nodes);
    if (ids.length === 0) return [];
    const rows = [[paint('bold', 'node'), paint('bold', 'status'), paint('bold', 'time'), paint('bold', 'cached'), paint('bold', 'summary')]];
    for (const id of ids) {
      const s = states.get(id) ?? { status: 'queued' as NodeRunStatus };
      const status = e.nodes[id] ?? s.status;
      const cached = status === 'cached';
      const time = s.seconds !== undefined && !cached ? formatDuration(s.seconds) : '-';
      const detail = status === 'failed' ? (s.error ?? '') : (s.summary ?? '');
      rows.push([id, statusWord(status), time, cached ? 'yes' : 'no', detail]);
    }
    return ['', ...table(rows).map((line) => `  ${line}`)];
  }

  function finalLine(e: EventOf<'run-finished'>): string {
    const statuses = Object.values(e.nodes);
    const cachedCount = statuses.filter((s) => s === 'cached').length;
    switch (e.status) {
      case 'done':
        return `${paint('green', 'done')} in ${formatDuration(e.seconds)}${cachedCount > 0 ? ` (${cachedCount} of ${statuses.length} nodes from cache)` : ''}`;
      case 'failed':
        return `${paint('red', 'failed')} after ${formatDuration(e.seconds)}${e.error ? `: ${e.error.split('\n')[0]}` : ''}`;
      case 'cancelled':
        return `${paint('yellow', 'cancelled')} after ${formatDuration(e.seconds)}`;
      default: {
        const never: never = e.status;
        return String(never);
      }
    }
  }

  function handle(e: EngineEvent): void {
    if (closed) return;
    switch (e.type) {
      case 'run-started': {
        order = [...e.nodeIds];
        for (const id of order) state(id);
        const plural = order.length === 1 ? '' : 's';
        render([paint('dim', `running ${order.length} node${plural} on ${e.backend}`)]);
        return;
      }
      case 'nodes-cached': {
        const fromDisk = new Set(e.fromDisk);
        const lines: string[] = [];
        // Summaries of cached nodes, when the engine sends them along (older engines do not).
        const summaries = (e as { summaries?: Record<string, string | undefined> }).summaries ?? {};
        for (const id of e.nodeIds) {
          const s = state(id);
          s.status = 'cached';
          s.summary = summaries[id] ?? s.summary;
          lines.push(
            `${mark('cached')} ${paint('bold', id)}  ${paint('cyan', '(cached)')}${fromDisk.has(id) ? paint('dim', ' from disk') : ''}${s.summary ? `  ${s.summary}` : ''}`,
          );
        }
        render(lines);
        return;
      }
      case 'node-started': {
        const s = state(e.nodeId);
        s.status = 'running';
        s.startedAt = now();
        s.fraction = undefined;
        s.note = undefined;
        s.etaSeconds = undefined;
        s.lastPlainAt = s.startedAt;
        if (live) {
          startTimer();
          render();
        } else render([`· ${e.nodeId}  started`]);
        return;
      }
      case 'node-progress': {
        const s = state(e.nodeId);
        s.fraction = e.fraction;
        s.note = e.note;
        s.etaSeconds = e.etaSeconds;
        s.etaAt = now();
        if (!live && now() - (s.lastPlainAt ?? 0) >= plainEvery) {
          s.lastPlainAt = now();
          const elapsed = s.startedAt !== undefined ? formatDuration((now() - s.startedAt) / 1000) : '';
          const eta = e.etaSeconds !== undefined ? `, eta ${formatDuration(e.etaSeconds)}` : '';
          render([`  ${e.nodeId}  ${Math.floor(e.fraction * 100)}%${e.note ? `  ${e.note}` : ''}  (${elapsed}${eta})`]);
        }
        return;
      }
      case 'node-preview':
        // Images and curves have no terminal form; the summary carries the headline numbers.
        return;
      case 'node-log': {
        const text = e.level === 'warn' ? `${paint('yellow', 'warning')}: ${e.nodeId}: ${e.message}` : `  ${e.nodeId}: ${e.message}`;
        render([text]);
        return;
      }
      case 'node-finished': {
        const s = state(e.nodeId);
        s.status = 'done';
        s.seconds = e.seconds;
        s.summary = e.summary;
        render([`${mark('done')} ${paint('bold', e.nodeId)}  ${formatDuration(e.seconds)}${e.summary ? `  ${e.summary}` : ''}`]);
        return;
      }
      case 'node-failed': {
        const s = state(e.nodeId);
        const cancelled = /: cancelled$/.test(e.error.message);
        s.status = cancelled ? 'cancelled' : 'failed';
        s.seconds = e.seconds;
        s.error = e.error.message;
        render([
          cancelled
            ? `${mark('cancelled')} ${paint('bold', e.nodeId)}  cancelled after ${formatDuration(e.seconds)}`
            : `${mark('failed')} ${paint('bold', e.nodeId)}  failed after ${formatDuration(e.seconds)}: ${e.error.message}`,
        ]);
        return;
      }
      case 'run-finished': {
        for (const [id, status] of Object.entries(e.nodes)) state(id).status = status;
        const lines = [...summaryTable(e), '', finalLine(e)];
        closed = true;
        render(lines);
        stop();
        return;
      }
      default: {
        const never: never = e;
        throw new Error(`unhandled event ${(never as EngineEvent).type}`);
      }
    }
  }

  function stop(): void {
    if (timer) clearInterval(timer);
    timer = undefined;
    if (cursorHidden) {
      out.write(SHOW_CURSOR);
      cursorHidden = false;
    }
  }

  const sink = handle as TerminalSink;
  sink.notice = (text) => render([text]);
  sink.close = () => {
    if (!closed) {
      closed = true;
      render();
    }
    stop();
  };
  return sink;
}
