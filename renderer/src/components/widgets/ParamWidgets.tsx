/**
 * One widget per param kind. PARAM_WIDGETS is an exhaustive mapped type over ParamKind, so a
 * new kind in main/protocol without a widget here is a compile error.
 */
import { lazy, Suspense, useEffect, useState, type ComponentType } from 'react';
import type { ParamKind, ParamSchema, PathParam } from '../../../../main/protocol/index.ts';
import type { PickPathOptions } from '../../../transport/index.ts';
import { engine } from '../../engine/engineClient.ts';
import { sliderScale, snap } from '../../model/numbers.ts';

export interface WidgetProps<K extends ParamKind = ParamKind> {
  paramKey: string;
  schema: Extract<ParamSchema, { kind: K }>;
  value: unknown;
  onChange(value: unknown): void;
  /** Small version drawn on the node body. */
  compact?: boolean;
  invalid?: boolean;
}

const CodeEditor = lazy(() => import('../CodeEditor.tsx').then((m) => ({ default: m.CodeEditor })));

const cls = (compact: boolean | undefined, invalid: boolean | undefined, base: string) =>
  `${base} nodrag${compact ? ' compact' : ''}${invalid ? ' invalid' : ''}`;

/** A number box that lets the user type freely and commits only valid numbers. */
function NumberBox({ value, onCommit, min, max, step, integer, testId, compact, invalid }: {
  value: number;
  onCommit(v: number): void;
  min?: number;
  max?: number;
  step?: number;
  integer?: boolean;
  testId?: string;
  compact?: boolean;
  invalid?: boolean;
}) {
  const [text, setText] = useState(String(value));
  useEffect(() => setText(String(value)), [value]);
  const commit = (t: string) => {
    const n = Number(t);
    if (t.trim() === '' || !Number.isFinite(n)) return;
    onCommit(integer ? Math.round(n) : n);
  };
  return (
    <input
      type="number"
      className={cls(compact, invalid, 'dl-input dl-number')}
      data-testid={testId}
      value={text}
      min={min}
      max={max}
      step={step ?? (integer ? 1 : 'any')}
      onChange={(e) => {
        setText(e.target.value);
        commit(e.target.value);
      }}
      onBlur={() => setText(String(value))}
    />
  );
}

function NumberWidget({ paramKey, schema, value, onChange, compact, invalid }: WidgetProps<'number'>) {
  const v = typeof value === 'number' ? value : schema.default;
  const ranged = schema.min !== undefined && schema.max !== undefined && schema.max > schema.min;
  const scale = ranged ? sliderScale(schema.min!, schema.max!) : undefined;
  return (
    <div className="dl-widget-row">
      {scale && (
        <input
          type="range"
          className="dl-slider nodrag"
          aria-label={`${paramKey} slider`}
          data-testid={compact ? undefined : `slider-${paramKey}`}
          min={0}
          max={1}
          step={0.001}
          value={scale.toSlider(v)}
          onChange={(e) => {
            const raw = scale.fromSlider(Number(e.target.value));
            onChange(scale.log ? raw : snap(raw, schema.min!, schema.step ?? (schema.max! - schema.min!) / 100));
          }}
        />
      )}
      <NumberBox value={v} onCommit={onChange} min={schema.min} max={schema.max} step={schema.step} testId={compact ? undefined : `param-${paramKey}`} compact={compact} invalid={invalid} />
    </div>
  );
}

function IntegerWidget({ paramKey, schema, value, onChange, compact, invalid }: WidgetProps<'integer'>) {
  const v = typeof value === 'number' ? value : schema.default;
  const ranged = schema.min !== undefined && schema.max !== undefined && schema.max - schema.min <= 1000;
  return (
    <div className="dl-widget-row">
      {ranged && !compact && (
        <input
          type="range"
          className="dl-slider nodrag"
          aria-label={`${paramKey} slider`}
          min={schema.min}
          max={schema.max}
          step={1}
          value={v}
          onChange={(e) => onChange(Math.round(Number(e.target.value)))}
        />
      )}
      <NumberBox value={v} onCommit={onChange} min={schema.min} max={schema.max} integer testId={compact ? undefined : `param-${paramKey}`} compact={compact} invalid={invalid} />
    </div>
  );
}

function BooleanWidget({ paramKey, value, schema, onChange, compact }: WidgetProps<'boolean'>) {
  const v = typeof value === 'boolean' ? value : schema.default;
  return (
    <label className={`dl-toggle nodrag${compact ? ' compact' : ''}`}>
      <input type="checkbox" data-testid={compact ? undefined : `param-${paramKey}`} checked={v} onChange={(e) => onChange(e.target.checked)} />
      <span className="dl-toggle-track" aria-hidden />
      <span>{v ? 'on' : 'off'}</span>
    </label>
  );
}

function EnumWidget({ paramKey, schema, value, onChange, compact, invalid }: WidgetProps<'enum'>) {
  const v = typeof value === 'string' ? value : schema.default;
  const options = schema.options.includes(v) ? schema.options : [v, ...schema.options];
  return (
    <select className={cls(compact, invalid, 'dl-input dl-select')} data-testid={compact ? undefined : `param-${paramKey}`} value={v} onChange={(e) => onChange(e.target.value)}>
      {options.map((o) => (
        <option key={o} value={o}>
          {o}
        </option>
      ))}
    </select>
  );
}

function StringWidget({ paramKey, schema, value, onChange, compact, invalid }: WidgetProps<'string'>) {
  const v = typeof value === 'string' ? value : schema.default;
  const testId = compact ? undefined : `param-${paramKey}`;
  if (schema.multiline && !compact)
    return <textarea className={cls(compact, invalid, 'dl-input dl-textarea')} data-testid={testId} rows={4} value={v} onChange={(e) => onChange(e.target.value)} />;
  return <input type="text" className={cls(compact, invalid, 'dl-input')} data-testid={testId} value={v} onChange={(e) => onChange(e.target.value)} />;
}

/** The desktop app offers a native picker; in the browser the path is typed. */
function canPick(): boolean {
  try {
    return engine().canPickPaths;
  } catch {
    return false;
  }
}

function pickOptions(schema: PathParam, current: string): PickPathOptions {
  return { mode: schema.mode, extensions: schema.extensions, current: current || undefined, title: schema.label };
}

function PathWidget({ paramKey, schema, value, onChange, compact, invalid }: WidgetProps<'path'>) {
  const v = typeof value === 'string' ? value : schema.default;
  const picker = canPick();
  const placeholder = schema.mode === 'folder' ? 'folder path' : schema.extensions?.length ? `*.${schema.extensions.join(', *.')}` : 'file path';
  return (
    <div className="dl-widget-row">
      <input type="text" className={cls(compact, invalid, 'dl-input dl-path')} data-testid={compact ? undefined : `param-${paramKey}`} placeholder={placeholder} value={v} onChange={(e) => onChange(e.target.value)} />
      {!compact && (
        <button
          type="button"
          className="dl-btn small"
          disabled={!picker}
          title={picker ? 'Choose with the system dialog' : 'In browser mode, type the path (relative to the pipeline file)'}
          onClick={async () => {
            const picked = await engine().pickPath(pickOptions(schema, v));
            if (picked) onChange(picked);
          }}
        >
          Browse…
        </button>
      )}
    </div>
  );
}

export function randomSeed(): number {
  return Math.floor(Math.random() * 2 ** 31 - 1);
}

function SeedWidget({ paramKey, schema, value, onChange, compact, invalid }: WidgetProps<'seed'>) {
  const v = typeof value === 'number' ? value : schema.default;
  return (
    <div className="dl-widget-row">
      <NumberBox value={v} onCommit={onChange} min={0} max={2 ** 31 - 1} integer testId={compact ? undefined : `param-${paramKey}`} compact={compact} invalid={invalid} />
      <button type="button" className="dl-btn small nodrag" title="Re-roll the seed" data-testid={compact ? undefined : `reroll-${paramKey}`} onClick={() => onChange(randomSeed())}>
        re-roll
      </button>
    </div>
  );
}

function CodeWidget({ paramKey, schema, value, onChange, compact }: WidgetProps<'code'>) {
  const v = typeof value === 'string' ? value : schema.default;
  if (compact) {
    const first = v.split('\n').find((l) => l.trim() !== '') ?? '';
    return <code className="dl-code-inline">{first.length > 40 ? `${first.slice(0, 40)}…` : first || '(empty)'}</code>;
  }
  return (
    <div className="dl-code" data-testid={`param-${paramKey}`}>
      <Suspense fallback={<textarea className="dl-input dl-textarea" rows={8} value={v} onChange={(e) => onChange(e.target.value)} />}>
        <CodeEditor value={v} language={schema.language} onChange={onChange} height={220} />
      </Suspense>
    </div>
  );
}

/** Exhaustive: every ParamKind must be listed. */
export const PARAM_WIDGETS: { [K in ParamKind]: ComponentType<WidgetProps<K>> } = {
  number: NumberWidget,
  integer: IntegerWidget,
  boolean: BooleanWidget,
  enum: EnumWidget,
  string: StringWidget,
  path: PathWidget,
  seed: SeedWidget,
  code: CodeWidget,
};

export function ParamWidget(props: WidgetProps) {
  const Widget = PARAM_WIDGETS[props.schema.kind] as ComponentType<WidgetProps>;
  return <Widget {...props} />;
}

/** "0 … 1, step 0.05" style range text for the inspector. */
export function describeRange(schema: ParamSchema): string | undefined {
  switch (schema.kind) {
    case 'number':
      if (schema.min === undefined && schema.max === undefined) return undefined;
      return `${schema.min ?? '−∞'} … ${schema.max ?? '∞'}${schema.step !== undefined ? `, step ${schema.step}` : ''}`;
    case 'integer':
      if (schema.min === undefined && schema.max === undefined) return 'whole number';
      return `whole number ${schema.min ?? '−∞'} … ${schema.max ?? '∞'}`;
    case 'seed':
      return `0 … ${2 ** 31 - 1}`;
    case 'enum':
      return schema.options.join(' | ');
    case 'path':
      return `${schema.mode}${schema.extensions?.length ? ` (${schema.extensions.join(', ')})` : ''}${schema.required ? ', required' : ''}`;
    case 'string':
      return schema.required ? 'required' : undefined;
    case 'boolean':
    case 'code':
      return undefined;
    default: {
      const never: never = schema;
      return String((never as ParamSchema).kind);
    }
  }
}
