/**
 * Editor responsiveness in browser mode (headless Chromium, software rendering), on a generated
 * 200-node document served by the real server with a stub engine:
 *   - time to first render (navigation → first nodes on screen → canvas settled after fit view);
 *   - frame times (median / p95 / max of requestAnimationFrame gaps) while panning, at the fitted
 *     zoom (whole document visible) and at zoom 1, and while dragging a node;
 *   - while a run streams image-grid previews: the server's event-loop delay and the page's frame gaps.
 *
 *   npx electron-vite build && node --import tsx bench/editor.ts [--nodes 200] [--previews 300]
 *
 * Prints one JSON object per line. Needs out/renderer and /usr/bin/chromium (see test/e2e/README.md).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Page } from 'playwright-core';
import type { DlflowDocument, EngineEvent } from '../main/protocol/index.ts';
import { encodePng } from '../nodes/_lib/png.ts';
import { startE2E, type E2E } from '../test/e2e/harness.ts';
import { createStubEngine, emptyDocument } from '../test/server/stub-engine.ts';
import { isMain, printJson } from './_util.ts';

function argValue(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : NaN;
  return Number.isFinite(v) && v > 0 ? v : fallback;
}

/** `count` nodes in a grid: pairs load → train, wired, 10 per row. */
export function generatedDocument(count: number): DlflowDocument {
  const doc = emptyDocument();
  for (let i = 0; i < count; i++) {
    const train = i % 2 === 1;
    doc.nodes.push({
      id: `n${i}`,
      type: train ? 'stub:train' : 'stub:load-folder',
      params: train ? { epochs: 2 + (i % 5) } : { folder: '', limit: 10 + i },
      position: { x: (i % 10) * 300, y: Math.floor(i / 10) * 180 },
    });
    if (train) doc.edges.push({ id: `e${i}`, source: `n${i - 1}`, sourceHandle: 'dataset', target: `n${i}`, targetHandle: 'dataset' });
  }
  return doc;
}

function noisePng(size: number, seed: number): Uint8Array {
  const pixels = new Uint8Array(size * size * 3);
  let x = seed * 2654435761;
  for (let i = 0; i < pixels.length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    pixels[i] = x >>> 24;
  }
  return encodePng(pixels, size, size, 3);
}

const round = (v: number, d = 1) => Math.round(v * 10 ** d) / 10 ** d;

function summarise(gaps: number[]): { frames: number; medianMs: number; p95Ms: number; maxMs: number; fps: number } {
  const sorted = [...gaps].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))] ?? 0;
  const total = gaps.reduce((a, b) => a + b, 0);
  return { frames: gaps.length, medianMs: round(at(0.5)), p95Ms: round(at(0.95)), maxMs: round(sorted.at(-1) ?? 0), fps: round(total > 0 ? (gaps.length * 1000) / total : 0) };
}

// Page-side code is passed as text: tsx would wrap named functions in a helper the page lacks.
const FRAME_RECORDER = `(() => {
  const w = window;
  w.__gaps = [];
  w.__stop = false;
  let prev = performance.now();
  function tick(now) {
    w.__gaps.push(now - prev);
    prev = now;
    if (!w.__stop) requestAnimationFrame(tick);
  }
  requestAnimationFrame((now) => { prev = now; requestAnimationFrame(tick); });
})()`;

async function startFrameRecorder(page: Page): Promise<void> {
  await page.evaluate(FRAME_RECORDER);
}

async function stopFrameRecorder(page: Page): Promise<number[]> {
  return page.evaluate(() => {
    const w = window as unknown as { __gaps: number[]; __stop: boolean };
    w.__stop = true;
    return w.__gaps;
  });
}

async function zoomOf(page: Page): Promise<number> {
  return page.evaluate(() => {
    const t = (document.querySelector('.react-flow__viewport') as HTMLElement | null)?.style.transform ?? '';
    return Number(/scale\(([\d.]+)\)/.exec(t)?.[1] ?? 1);
  });
}

/** A mouse drag from (x, y) by (dx, dy) in `steps` moves, frame gaps recorded around it. */
async function dragFrames(page: Page, x: number, y: number, dx: number, dy: number, steps: number) {
  await startFrameRecorder(page);
  const started = Date.now();
  await page.mouse.move(x, y);
  await page.mouse.down();
  for (let i = 1; i <= steps; i++) await page.mouse.move(x + (dx * i) / steps, y + (dy * i) / steps);
  await page.mouse.up();
  const ms = Date.now() - started;
  return { ...summarise(await stopFrameRecorder(page)), moves: steps, ms };
}

async function run(): Promise<void> {
  const nodeCount = argValue('nodes', 200);
  const previews = argValue('previews', 300);
  const stub = createStubEngine();
  const tiles = Array.from({ length: 8 }, (_, i) => noisePng(96, i));
  let previewsDone = 0;
  stub.run = async ({ runId, document }) => {
    const target = document.nodes[0]!.id;
    const emit = (event: EngineEvent) => stub.emit(event);
    const started = Date.now();
    emit({ type: 'run-started', runId, nodeIds: [target], backend: 'stub', time: started });
    emit({ type: 'node-started', runId, nodeId: target, time: started });
    for (let i = 0; i < previews; i++) {
      const images = [0, 1, 2, 3].map((k) => ({ png: tiles[(i + k) % tiles.length]!, width: 96, height: 96 }));
      emit({ type: 'node-progress', runId, nodeId: target, fraction: i / previews, note: `step ${i}` });
      emit({ type: 'node-preview', runId, nodeId: target, preview: { kind: 'image-grid', columns: 2, images } });
      previewsDone++;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const seconds = (Date.now() - started) / 1000;
    emit({ type: 'node-finished', runId, nodeId: target, seconds });
    emit({ type: 'run-finished', runId, status: 'done', seconds, nodes: { [target]: 'done' } });
    return { runId, status: 'done', seconds };
  };

  let e2e: E2E | undefined;
  try {
    e2e = await startE2E({ engine: stub, viewport: { width: 1440, height: 900 } });
    const { page } = e2e;
    const file = join(e2e.workDir, 'bench-200.dlflow');
    writeFileSync(file, JSON.stringify(generatedDocument(nodeCount)));

    // 1. First render: navigation start → first nodes → canvas settled (node count and viewport
    //    unchanged for 10 frames, i.e. after the fit view that waits for every node's size).
    const url = new URL(e2e.server.url);
    url.searchParams.set('file', file);
    const wallStart = Date.now();
    await page.goto(url.href);
    const render = (await page.evaluate(`new Promise((resolve) => {
      let firstNodesMs = 0;
      let lastKey = '';
      let stableFrames = 0;
      let stableSince = 0;
      function tick() {
        const now = performance.now();
        const count = document.querySelectorAll('.react-flow__node').length;
        if (count > 0 && firstNodesMs === 0) firstNodesMs = now;
        const vp = document.querySelector('.react-flow__viewport');
        const key = count + '|' + (vp ? vp.style.transform : '');
        if (count > 0 && key === lastKey) {
          if (stableFrames === 0) stableSince = now;
          stableFrames++;
        } else stableFrames = 0;
        lastKey = key;
        if (stableFrames >= 10) resolve({ firstNodesMs: Math.round(firstNodesMs), settledMs: Math.round(stableSince), nodesInDom: count });
        else requestAnimationFrame(tick);
      }
      requestAnimationFrame(tick);
    })`)) as { firstNodesMs: number; settledMs: number; nodesInDom: number };
    printJson({ bench: 'editor', metric: 'first-render', nodes: nodeCount, ...render, wallMs: Date.now() - wallStart, zoom: round(await zoomOf(page), 3) });

    const pane = (await page.locator('.react-flow__pane').boundingBox())!;
    const cx = pane.x + pane.width / 2;
    const cy = pane.y + pane.height / 2;

    // 2. Panning at the fitted zoom (whole document visible: the most nodes on screen).
    const panFit = await dragFrames(page, cx - 200, cy + 250, 400, -150, 60);
    printJson({ bench: 'editor', metric: 'pan', zoom: round(await zoomOf(page), 3), nodesInDom: await page.locator('.react-flow__node').count(), ...panFit });

    // 3. Panning at zoom 1 (text and handles drawn; off-screen nodes not rendered).
    await page.mouse.move(cx, cy);
    for (let i = 0; i < 12 && (await zoomOf(page)) < 0.98; i++) {
      await page.mouse.wheel(0, -120);
      await page.waitForTimeout(60);
    }
    const panOne = await dragFrames(page, cx - 200, cy + 250, 400, -150, 60);
    printJson({ bench: 'editor', metric: 'pan', zoom: round(await zoomOf(page), 3), nodesInDom: await page.locator('.react-flow__node').count(), ...panOne });

    // 4. Dragging one node (its header) at that zoom.
    const visible = await page.locator('.react-flow__node').evaluateAll((els) => {
      const w = window.innerWidth;
      const h = window.innerHeight;
      return els
        .map((el) => ({ id: el.getAttribute('data-id') ?? '', r: el.getBoundingClientRect() }))
        .filter(({ r }) => r.left > 300 && r.top > 120 && r.right < w - 400 && r.bottom < h - 300)
        .map(({ id }) => id);
    });
    const id = visible[0];
    if (id) {
      const box = (await page.getByTestId(`node-${id}`).boundingBox())!;
      const drag = await dragFrames(page, box.x + 40, box.y + 10, 220, 120, 60);
      printJson({ bench: 'editor', metric: 'drag-node', node: id, zoom: round(await zoomOf(page), 3), ...drag });
    } else {
      printJson({ bench: 'editor', metric: 'drag-node', error: 'no node fully on screen to drag' });
    }

    // 5. A run streaming image-grid previews (4 × 96² PNG, ~110 KB) every 5 ms to the first node.
    await page.getByTestId('json-toggle').waitFor();
    await startFrameRecorder(page);
    const loop = monitorEventLoopDelay({ resolution: 5 });
    loop.enable();
    const started = Date.now();
    await page.getByTestId('run-button').click();
    await page.waitForFunction(() => document.querySelector('[data-testid="run-phase"]')?.textContent?.includes('done'), undefined, { timeout: 120_000, polling: 100 });
    const runMs = Date.now() - started;
    loop.disable();
    const gaps = await stopFrameRecorder(page);
    printJson({
      bench: 'editor',
      metric: 'streaming-run',
      previews: previewsDone,
      runMs,
      serverLoopDelayMs: { p50: round(loop.percentile(50) / 1e6), p99: round(loop.percentile(99) / 1e6), max: round(loop.max / 1e6) },
      pageFrames: summarise(gaps),
    });
    if (e2e.errors.length > 0) printJson({ bench: 'editor', pageErrors: e2e.errors.slice(0, 5) });
  } finally {
    await e2e?.close();
  }
}

if (isMain(import.meta.url)) {
  run().catch((error: unknown) => {
    console.error(`bench/editor: ${(error as Error).stack ?? String(error)}`);
    process.exit(1);
  });
}
