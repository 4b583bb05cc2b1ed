/** Geometry for training curves: one panel per group (loss, accuracy), series as polylines. */
import type { CurvesPreview } from '../../../main/protocol/index.ts';

export interface CurveLine {
  name: string;
  color: string;
  dashed: boolean;
  points: string;
  last?: { x: number; y: number; value: number };
}

export interface CurvePanel {
  group: string;
  yMin: number;
  yMax: number;
  xMax: number;
  lines: CurveLine[];
}

const COLORS = ['#4f9dff', '#ff8a3d', '#43c59e', '#d66bff', '#f2c94c', '#ff5c7a'];

/** Validation series are drawn dashed in the colour of their training twin. */
export function isValidationSeries(name: string): boolean {
  return /^val|valid|validation|test/i.test(name);
}

function baseName(name: string): string {
  return name.replace(/^(val_|val |validation |valid_|test_)/i, '').replace(/ ?\((val|validation)\)$/i, '');
}

/** Lays out the preview in a box of `width`×`height` per panel (padding included). */
export function layoutCurves(preview: CurvesPreview, width: number, height: number, pad = { l: 34, r: 6, t: 14, b: 14 }): CurvePanel[] {
  const groups = [...new Set(preview.series.map((s) => s.group))];
  const colorOf = new Map<string, string>();
  for (const s of preview.series) {
    const key = baseName(s.name);
    if (!colorOf.has(key)) colorOf.set(key, COLORS[colorOf.size % COLORS.length]);
  }
  return groups.map((group) => {
    const series = preview.series.filter((s) => s.group === group);
    const ys = series.flatMap((s) => s.y.filter((v) => Number.isFinite(v)));
    const xs = series.flatMap((s) => s.x);
    let yMin = ys.length ? Math.min(...ys) : 0;
    let yMax = ys.length ? Math.max(...ys) : 1;
    if (/acc/i.test(group) && yMin >= 0 && yMax <= 1) {
      yMin = 0;
      yMax = 1;
    }
    if (yMax - yMin < 1e-9) {
      yMax += 0.5;
      yMin -= 0.5;
    }
    const xMax = Math.max(preview.xMax ?? 0, xs.length ? Math.max(...xs) : 1, 1);
    const xMin = xs.length ? Math.min(0, ...xs) : 0;
    const sx = (x: number) => pad.l + ((x - xMin) / (xMax - xMin || 1)) * (width - pad.l - pad.r);
    const sy = (y: number) => pad.t + (1 - (y - yMin) / (yMax - yMin)) * (height - pad.t - pad.b);
    const lines = series.map((s) => {
      const pts: string[] = [];
      let last: CurveLine['last'];
      for (let i = 0; i < Math.min(s.x.length, s.y.length); i++) {
        if (!Number.isFinite(s.y[i])) continue;
        const px = sx(s.x[i]);
        const py = sy(s.y[i]);
        pts.push(`${px.toFixed(1)},${py.toFixed(1)}`);
        last = { x: px, y: py, value: s.y[i] };
      }
      return { name: s.name, color: colorOf.get(baseName(s.name)) ?? COLORS[0], dashed: isValidationSeries(s.name), points: pts.join(' '), last };
    });
    return { group, yMin, yMax, xMax, lines };
  });
}

export function formatTick(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1000 || a < 0.01) return v.toExponential(1);
  return a >= 10 ? v.toFixed(0) : a >= 1 ? v.toFixed(1) : v.toFixed(2);
}
