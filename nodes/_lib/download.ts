/**
 * Resumable, verified downloads for model files.
 *
 * Bytes go to `<dest>.part`; an interrupted download resumes from there with an HTTP Range
 * request (a server that ignores Range gets a clean restart). The SHA-256 is computed while
 * streaming (over the kept part first when resuming) and checked before the file is renamed
 * into place, so `dest` only ever holds a complete, verified file.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';

export interface DownloadOptions {
  url: string;
  dest: string;
  /** Expected lowercase hex SHA-256; when absent the hash is only computed and returned. */
  sha256?: string;
  signal?: AbortSignal;
  /** Called as bytes arrive; `total` is undefined when the server does not say. */
  onProgress?: (received: number, total: number | undefined) => void;
}

export interface DownloadResult {
  path: string;
  sha256: string;
  bytes: number;
  /** Bytes that were already on disk from an earlier, interrupted attempt. */
  resumedFrom: number;
}

/** A download failed for a reason the user can act on (network, HTTP status, hash). */
export class DownloadError extends Error {
  override name = 'DownloadError';
  constructor(
    message: string,
    readonly kind: 'network' | 'http' | 'hash',
  ) {
    super(message);
  }
}

async function sizeOf(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

async function hashInto(hash: ReturnType<typeof createHash>, path: string): Promise<void> {
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
}

/** SHA-256 (hex) of a file on disk. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  await hashInto(hash, path);
  return hash.digest('hex');
}

/**
 * Downloads `url` to `dest`, resuming a previous `.part`, verifying `sha256` when given.
 * Throws DownloadError (with the URL in the message) on network errors, HTTP errors and hash
 * mismatches; a mismatching file is deleted so the next attempt starts clean.
 */
export async function downloadFile(o: DownloadOptions): Promise<DownloadResult> {
  const part = `${o.dest}.part`;
  await mkdir(dirname(o.dest), { recursive: true });
  let have = await sizeOf(part);
  let response: Response;
  try {
    response = await fetch(o.url, { headers: have > 0 ? { Range: `bytes=${have}-` } : {}, signal: o.signal });
  } catch (error) {
    if (o.signal?.aborted) throw error;
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    throw new DownloadError(`cannot reach ${o.url}: ${cause?.code ?? cause?.message ?? (error as Error).message}`, 'network');
  }
  if (response.status === 416 && have > 0) {
    // The part is already complete (or the server changed): restart from zero once.
    await rm(part, { force: true });
    await response.body?.cancel();
    return downloadFile(o);
  }
  if (!(response.ok || response.status === 206)) {
    await response.body?.cancel();
    throw new DownloadError(`download of ${o.url} failed: HTTP ${response.status} ${response.statusText}`, 'http');
  }
  const resumed = response.status === 206 && have > 0;
  if (!resumed) have = 0;
  const length = Number(response.headers.get('content-length') ?? NaN);
  const total = Number.isFinite(length) ? length + have : undefined;
  const hash = createHash('sha256');
  if (resumed) await hashInto(hash, part);
  const file = await open(part, resumed ? 'a' : 'w');
  let received = have;
  try {
    if (response.body) {
      const reader = response.body.getReader();
      for (;;) {
        let chunk: ReadableStreamReadResult<Uint8Array>;
        try {
          chunk = await reader.read();
        } catch (error) {
          if (o.signal?.aborted) throw error;
          throw new DownloadError(`download of ${o.url} was interrupted after ${received} bytes (it resumes from there next time): ${(error as Error).message}`, 'network');
        }
        if (chunk.done) break;
        await file.write(chunk.value);
        hash.update(chunk.value);
        received += chunk.value.byteLength;
        o.onProgress?.(received, total);
      }
    }
  } finally {
    await file.close();
  }
  if (total !== undefined && received < total)
    throw new DownloadError(`download of ${o.url} ended after ${received} of ${total} bytes (it resumes from there next time)`, 'network');
  const digest = hash.digest('hex');
  if (o.sha256 && digest !== o.sha256.toLowerCase()) {
    await rm(part, { force: true });
    throw new DownloadError(`${o.url} does not have the expected SHA-256: expected ${o.sha256}, got ${digest}; the file was discarded`, 'hash');
  }
  await rename(part, o.dest);
  return { path: o.dest, sha256: digest, bytes: received, resumedFrom: resumed ? have : 0 };
}
