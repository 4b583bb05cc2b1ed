/** Training curves as small SVG line charts, one panel per group. */
import type { CurvesPreview } from '../../../../main/protocol/index.ts';
import { formatTick, layoutCurves } from '../../model/curves.ts';

export function CurvesChart({ payload, width, height }: { payload: CurvesPreview; width: number; height: number }) {
  const panels = layoutCurves(payload, width, height);
  if (panels.length === 0) return <div className="dl-muted">no data yet</div>;
  return (
    <div className="dl-curves">
      {panels.map((p) => (
        <svg key={p.group} width={width} height={height} className="dl-curve-panel" role="img" aria-label={`${p.group} curves`}>
          <rect x={34} y={14} width={width - 40} height={height - 28} className="dl-curve-bg" />
          <text x={36} y={10} className="dl-curve-title">
            {p.group}
          </text>
          <text x={30} y={18} className="dl-curve-tick" textAnchor="end">
            {formatTick(p.yMax)}
          </text>
          <text x={30} y={height - 14} className="dl-curve-tick" textAnchor="end">
            {formatTick(p.yMin)}
          </text>
          <text x={width - 6} y={height - 3} className="dl-curve-tick" textAnchor="end">
            {payload.xLabel} {formatTick(p.xMax)}
          </text>
          {p.lines.map((l) => (
            <g key={l.name}>
              <polyline points={l.points} fill="none" stroke={l.color} strokeWidth={1.6} strokeDasharray={l.dashed ? '4 3' : undefined} />
              {l.last && <circle cx={l.last.x} cy={l.last.y} r={2.2} fill={l.color} />}
            </g>
          ))}
          <g className="dl-curve-legend">
            {p.lines.map((l, i) => (
              <text key={l.name} x={width - 8} y={26 + i * 11} textAnchor="end" fill={l.color}>
                {l.name}
                {l.last ? ` ${formatTick(l.last.value)}` : ''}
              </text>
            ))}
          </g>
        </svg>
      ))}
    </div>
  );
}
