/**
 * One view per preview kind. PREVIEW_VIEWS is an exhaustive mapped type over PreviewKind, so a
 * new kind without a view is a compile error.
 */
import { memo, type ComponentType } from 'react';
import type { PreviewByKind, PreviewKind, PreviewPayload } from '../../../../main/protocol/index.ts';
import { useObjectUrls } from '../../hooks/useObjectUrls.ts';
import { CurvesChart } from './CurvesChart.tsx';

export interface PreviewViewProps<K extends PreviewKind = PreviewKind> {
  payload: PreviewByKind[K];
  nodeId: string;
  /** Drawn in the modal: bigger, with everything shown. */
  large?: boolean;
}

function ImageGridView({ payload, nodeId, large }: PreviewViewProps<'image-grid'>) {
  const urls = useObjectUrls(payload.images);
  const max = large ? payload.images.length : Math.min(payload.images.length, payload.columns * 4);
  return (
    <div
      className={`dl-image-grid${large ? ' large' : ''}`}
      data-testid={large ? `preview-image-large-${nodeId}` : `preview-image-${nodeId}`}
      style={{ gridTemplateColumns: `repeat(${Math.max(1, payload.columns)}, 1fr)` }}
    >
      {urls.slice(0, max).map((u, i) => (
        <figure key={i}>
          <img src={u} alt={payload.images[i]?.caption ?? `image ${i + 1}`} width={payload.images[i]?.width} height={payload.images[i]?.height} />
          {payload.images[i]?.caption && (large || payload.columns <= 4) && <figcaption>{payload.images[i].caption}</figcaption>}
        </figure>
      ))}
    </div>
  );
}

function CurvesView({ payload, nodeId, large }: PreviewViewProps<'curves'>) {
  return (
    <div data-testid={large ? `preview-curves-large-${nodeId}` : `preview-curves-${nodeId}`}>
      <CurvesChart payload={payload} width={large ? 520 : 240} height={large ? 260 : 110} />
    </div>
  );
}

function ConfusionMatrixView({ payload, nodeId, large }: PreviewViewProps<'confusion-matrix'>) {
  const max = Math.max(1, ...payload.matrix.flat());
  const n = payload.labels.length;
  const show = large || n <= 12;
  if (!show) return <div className="dl-muted">{n}×{n} confusion matrix — click to enlarge</div>;
  return (
    <table className={`dl-confusion${large ? ' large' : ''}`} data-testid={`preview-confusion-${nodeId}`}>
      <thead>
        <tr>
          <th title="actual ↓ / predicted →">a\p</th>
          {payload.labels.map((l) => (
            <th key={l} title={l}>
              {large ? l : l.slice(0, 4)}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {payload.matrix.map((row, i) => (
          <tr key={i}>
            <th title={payload.labels[i]}>{large ? payload.labels[i] : (payload.labels[i] ?? '').slice(0, 4)}</th>
            {row.map((v, j) => {
              const t = v / max;
              const diag = i === j;
              const bg = diag ? `rgba(64, 180, 120, ${0.15 + 0.85 * t})` : `rgba(230, 90, 90, ${t === 0 ? 0 : 0.15 + 0.85 * t})`;
              return (
                <td key={j} style={{ background: bg }} title={`actual ${payload.labels[i]}, predicted ${payload.labels[j]}: ${v}`}>
                  {v}
                </td>
              );
            })}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function formatCell(v: string | number): string {
  if (typeof v === 'string') return v;
  if (Number.isInteger(v)) return String(v);
  return Math.abs(v) >= 1000 || Math.abs(v) < 0.001 ? v.toExponential(3) : v.toFixed(4);
}

function TableView({ payload, nodeId, large }: PreviewViewProps<'table'>) {
  const rows = large ? payload.rows : payload.rows.slice(0, 8);
  return (
    <div className="dl-table-wrap nowheel">
      <table className="dl-table" data-testid={`preview-table-${nodeId}`}>
        <thead>
          <tr>
            {payload.columns.map((c) => (
              <th key={c}>{c}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((r, i) => (
            <tr key={i}>
              {r.map((c, j) => (
                <td key={j}>{formatCell(c)}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
      {rows.length < payload.rows.length && <div className="dl-muted">… {payload.rows.length - rows.length} more rows</div>}
    </div>
  );
}

function TextView({ payload, nodeId, large }: PreviewViewProps<'text'>) {
  const text = large || payload.text.length <= 400 ? payload.text : `${payload.text.slice(0, 400)}…`;
  return (
    <pre className={`dl-text-preview nowheel${large ? ' large' : ''}`} data-testid={`preview-text-${nodeId}`}>
      {text}
    </pre>
  );
}

/** Exhaustive: every PreviewKind must be listed. */
export const PREVIEW_VIEWS: { [K in PreviewKind]: ComponentType<PreviewViewProps<K>> } = {
  'image-grid': ImageGridView,
  curves: CurvesView,
  'confusion-matrix': ConfusionMatrixView,
  table: TableView,
  text: TextView,
};

export const PreviewView = memo(function PreviewView({ payload, nodeId, large }: { payload: PreviewPayload; nodeId: string; large?: boolean }) {
  const View = PREVIEW_VIEWS[payload.kind] as ComponentType<PreviewViewProps>;
  return <View payload={payload} nodeId={nodeId} large={large} />;
});
