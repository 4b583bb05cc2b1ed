/**
 * Writes samples/data/signs-folder/: a small class-per-folder image set drawn by the procedural
 * sign generator, the way real data arrives: JPEG and PNG files of varied sizes and aspect
 * ratios, unbalanced classes, one exact duplicate and one broken file (to show the loader's skip
 * report and the health check). Deterministic; run with `node --import tsx samples/make-signs-folder.ts`.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { createRandom } from '../main/engine/random.ts';
import { SIGN_CLASSES, drawSign } from '../nodes/_lib/signs.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), 'data', 'signs-folder');
/** Images per class: unbalanced on purpose. */
const PLAN: Record<string, number> = { stop: 40, yield: 34, 'speed-limit': 30, 'no-entry': 26, parking: 20 };

rmSync(root, { recursive: true, force: true });
const rng = createRandom(7);
let total = 0;
let bytes = 0;
let firstFile: { path: string; data: Buffer } | undefined;
for (const [name, count] of Object.entries(PLAN)) {
  const cls = SIGN_CLASSES.findIndex((c) => c.name === name);
  if (cls < 0) throw new Error(`no sign class ${name}`);
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  for (let i = 0; i < count; i++) {
    const size = 32 + rng.int(33);
    const px = new Uint8Array(size * size * 3);
    drawSign(px, 0, size, cls, 11, total, 0.45);
    // Real photos are rarely square: stretch some a little.
    const w = Math.round(size * rng.uniform(0.8, 1.3));
    let img = sharp(px, { raw: { width: size, height: size, channels: 3 } }).resize(w, size, { fit: 'fill' });
    const jpeg = rng.next() < 0.7;
    img = jpeg ? img.jpeg({ quality: 80 }) : img.png({ compressionLevel: 9 });
    const data = await img.toBuffer();
    const path = join(dir, `${name}-${String(i + 1).padStart(3, '0')}.${jpeg ? 'jpg' : 'png'}`);
    writeFileSync(path, data);
    firstFile ??= { path, data };
    bytes += data.length;
    total++;
  }
}
// An exact duplicate under another name, and a file cut off mid-download.
writeFileSync(join(root, 'stop', 'stop-copy-of-001.jpg'), firstFile!.data);
const victim = await sharp(Buffer.alloc(48 * 48 * 3, 128), { raw: { width: 48, height: 48, channels: 3 } }).jpeg().toBuffer();
writeFileSync(join(root, 'yield', 'yield-truncated.jpg'), victim.subarray(0, victim.length >> 1));
console.log(JSON.stringify({ folder: root, images: total + 2, kilobytes: Math.round((bytes + firstFile!.data.length + (victim.length >> 1)) / 1024) }));
