/** Preview payloads: data, never UI. Images travel as PNG bytes (binary on every transport). */
import type { PreviewKind } from './schema.ts';

export interface PreviewImage {
  png: Uint8Array;
  width: number;
  height: number;
  caption?: string;
}

export interface ImageGridPreview {
  kind: 'image-grid';
  title?: string;
  columns: number;
  images: PreviewImage[];
}

export interface CurveSeries {
  name: string;
  /** Which y axis group the series belongs to, e.g. `loss` or `accuracy`. */
  group: string;
  x: number[];
  y: number[];
}

export interface CurvesPreview {
  kind: 'curves';
  title?: string;
  xLabel: string;
  series: CurveSeries[];
  /** Total x extent expected (e.g. epochs), so a live chart has a stable axis. */
  xMax?: number;
}

export interface ConfusionMatrixPreview {
  kind: 'confusion-matrix';
  title?: string;
  labels: string[];
  /** matrix[actual][predicted] counts. */
  matrix: number[][];
}

export interface TablePreview {
  kind: 'table';
  title?: string;
  columns: string[];
  rows: (string | number)[][];
}

export interface TextPreview {
  kind: 'text';
  title?: string;
  text: string;
}

export type PreviewPayload = ImageGridPreview | CurvesPreview | ConfusionMatrixPreview | TablePreview | TextPreview;

/** Compile-time check that PREVIEW_KINDS and the payload union agree. */
export type PreviewByKind = { [K in PreviewKind]: Extract<PreviewPayload, { kind: K }> };
