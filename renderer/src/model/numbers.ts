/** Number helpers for param widgets. */

/**
 * Slider position ↔ value. Ranges spanning several orders of magnitude (learning rates) use a
 * log scale, so every decade gets the same travel.
 */
export function sliderScale(min: number, max: number): { toSlider(v: number): number; fromSlider(t: number): number; log: boolean } {
  const log = min > 0 && max / min >= 1000;
  if (log) {
    const a = Math.log10(min);
    const b = Math.log10(max);
    return {
      log,
      toSlider: (v) => (Math.log10(Math.min(max, Math.max(min, v))) - a) / (b - a),
      fromSlider: (t) => Number((10 ** (a + t * (b - a))).toPrecision(3)),
    };
  }
  return { log, toSlider: (v) => (v - min) / (max - min || 1), fromSlider: (t) => min + t * (max - min) };
}

export function snap(v: number, min: number, step: number | undefined): number {
  if (!step) return v;
  const n = Math.round((v - min) / step);
  return Number((min + n * step).toFixed(10));
}

