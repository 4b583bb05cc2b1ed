import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveCommand } from '../../main/server/index.ts';
import { createStubEngine, emptyDocument } from './stub-engine.ts';

let root: string;
let rendererDir: string;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'dlflow-serve-'));
  rendererDir = join(root, 'renderer');
  mkdirSync(rendererDir);
  writeFileSync(join(rendererDir, 'index.html'), '<!doctype html>');
  mkdirSync(join(root, 'docs'));
  writeFileSync(join(root, 'docs', 'a.dlflow'), JSON.stringify(emptyDocument()));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('serveCommand (dlflow serve)', () => {
  it('prints the URL with its token, allows the file folder, and opens nothing unless asked', async () => {
    const lines: string[] = [];
    const opened: string[] = [];
    const server = await serveCommand({
      engine: createStubEngine(),
      file: join(root, 'docs', 'a.dlflow'),
      rendererDir,
      samplesDir: join(root, 'missing-samples'),
      print: (line) => lines.push(line),
      openUrl: (url) => opened.push(url),
    });
    try {
      expect(lines[0]).toBe(`dlflow editor: ${server.url}`);
      expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]{40,}&file=/);
      expect(server.host).toBe('127.0.0.1');
      expect(server.allowedDirs()).toEqual(expect.arrayContaining([process.cwd(), join(root, 'docs')]));
      expect(opened).toEqual([]);
      const page = await fetch(server.url);
      expect(page.status).toBe(200);
      expect((await fetch(server.url.replace(/\?.*/, ''))).status).toBe(403);
    } finally {
      await server.close();
    }
  });

  it('opens the browser with --open, and each start gets a new token', async () => {
    const opened: string[] = [];
    const common = { engine: createStubEngine(), rendererDir, print: () => undefined, openUrl: (url: string) => opened.push(url) };
    const a = await serveCommand({ ...common, open: true });
    const b = await serveCommand(common);
    try {
      expect(opened).toEqual([a.url]);
      expect(a.token).not.toBe(b.token);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('explains what to fix: unbuilt renderer, missing file, bad --allow, port in use', async () => {
    const engine = createStubEngine();
    const print = () => undefined;
    await expect(serveCommand({ engine, rendererDir: join(root, 'nope'), print })).rejects.toThrow(/not built.*electron-vite build/);
    await expect(serveCommand({ engine, rendererDir, file: join(root, 'missing.dlflow'), print })).rejects.toThrow(/file not found/);
    await expect(serveCommand({ engine, rendererDir, file: join(root, 'docs'), print })).rejects.toThrow(/not a file/);
    await expect(serveCommand({ engine, rendererDir, allow: [join(root, 'nowhere')], print })).rejects.toThrow(/--allow .*no such folder/);
    const first = await serveCommand({ engine, rendererDir, print });
    try {
      await expect(serveCommand({ engine, rendererDir, port: first.port, print })).rejects.toMatchObject({
        name: 'UserError',
        message: expect.stringMatching(/already in use/),
      });
    } finally {
      await first.close();
    }
  });
});
