/** Static files of the built renderer: MIME types, SPA fallback, no escape from the root. */
import { createReadStream } from 'node:fs';
import { readFile, realpath, stat } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { extname, isAbsolute, join, relative, sep } from 'node:path';

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.ttf': 'font/ttf',
  '.otf': 'font/otf',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.dlflow': 'application/json; charset=utf-8',
};

export function mimeType(path: string): string {
  return MIME[extname(path).toLowerCase()] ?? 'application/octet-stream';
}

/**
 * Content-Security-Policy for the renderer: scripts only from this origin (plus WebAssembly
 * compilation), Monaco's workers from this origin or blob: URLs, inline styles (React Flow and
 * Monaco set style attributes), images from data:/blob: (previews are blob URLs of PNG bytes), and
 * connections only back to this server, WebSocket included.
 */
export function contentSecurityPolicy(wsOrigin: string): string {
  return [
    "default-src 'self'",
    "script-src 'self' 'wasm-unsafe-eval'",
    "worker-src 'self' blob:",
    "child-src 'self' blob:",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    `connect-src 'self' ${wsOrigin}`,
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

export type StaticResult = { kind: 'file'; path: string; size: number; fallback?: boolean } | { kind: 'not-found' } | { kind: 'forbidden'; reason: string };

function within(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

async function regularFile(path: string): Promise<number | undefined> {
  try {
    const info = await stat(path);
    return info.isFile() ? info.size : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Maps a URL pathname to a file under `root` (the root's real path). Percent-escapes are decoded
 * once; a path that leaves the root, lexically or through a symlink, is forbidden. A missing path
 * without a file extension falls back to index.html (client-side routes); a missing asset is 404.
 */
export async function resolveStatic(root: string, pathname: string): Promise<StaticResult> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return { kind: 'forbidden', reason: 'malformed percent-encoding in path' };
  }
  if (decoded.includes('\0')) return { kind: 'forbidden', reason: 'NUL byte in path' };
  const segments = decoded.split(/[/\\]+/).filter((s) => s !== '' && s !== '.');
  if (segments.includes('..')) return { kind: 'forbidden', reason: 'path climbs out of the renderer folder' };
  let candidate = join(root, ...segments);
  let size = await regularFile(candidate);
  let fallback = false;
  if (size === undefined) {
    fallback = segments.length > 0;
    const last = segments.at(-1) ?? '';
    if (segments.length > 0 && extname(last) !== '') return { kind: 'not-found' };
    candidate = join(root, 'index.html');
    size = await regularFile(candidate);
    if (size === undefined) return { kind: 'not-found' };
  }
  // A symlink inside the build folder must not lead outside it.
  const real = await realpath(candidate).catch(() => undefined);
  if (real === undefined || !within(root, real)) return { kind: 'forbidden', reason: 'path leads outside the renderer folder' };
  return fallback ? { kind: 'file', path: real, size, fallback } : { kind: 'file', path: real, size };
}

/**
 * index.html served for a deeper path (client route): the build refers to `./assets/...`, which
 * would resolve under that path, so a `<base href="/">` pins them to the root.
 */
export async function fallbackHtml(path: string): Promise<Buffer> {
  const html = await readFile(path, 'utf8');
  if (/<base\s/i.test(html)) return Buffer.from(html);
  const base = '<base href="/">';
  // After <head>, else after the doctype (never before it: that would switch to quirks mode).
  const anchor = /<head(\s[^>]*)?>/i.test(html) ? /<head(\s[^>]*)?>/i : /^\s*<!doctype[^>]*>/i;
  const withBase = anchor.test(html) ? html.replace(anchor, (tag) => `${tag}${base}`) : `${base}${html}`;
  return Buffer.from(withBase);
}

/** Streams a resolved file with its MIME type; HEAD gets headers only. */
export async function sendFile(res: ServerResponse, file: { path: string; size: number; fallback?: boolean }, head: boolean, headers: Record<string, string>): Promise<void> {
  const isHtml = file.path.endsWith('.html');
  if (file.fallback && isHtml) {
    const body = await fallbackHtml(file.path);
    res.writeHead(200, { ...headers, 'Content-Type': mimeType(file.path), 'Content-Length': String(body.length), 'Cache-Control': 'no-store' });
    res.end(head ? undefined : body);
    return;
  }
  res.writeHead(200, {
    ...headers,
    'Content-Type': mimeType(file.path),
    'Content-Length': String(file.size),
    // index.html embeds hashed asset names, so it must be fetched fresh; hashed assets may be cached.
    'Cache-Control': isHtml ? 'no-store' : 'private, max-age=3600',
  });
  if (head) {
    res.end();
    return;
  }
  const stream = createReadStream(file.path);
  stream.on('error', () => res.destroy());
  stream.pipe(res);
}
