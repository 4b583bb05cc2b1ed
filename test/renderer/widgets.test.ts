// The exhaustive maps cover every kind at run time too, and the inspector's range texts read right.
import { describe, expect, it } from 'vitest';
import { PARAM_KINDS, PREVIEW_KINDS } from '../../main/protocol/index.ts';
import { PREVIEW_VIEWS } from '../../renderer/src/components/previews/PreviewViews.tsx';
import { describeRange, PARAM_WIDGETS } from '../../renderer/src/components/widgets/ParamWidgets.tsx';
import { initialFilePath } from '../../renderer/src/hooks/useEngineStartup.ts';
import { isTyping } from '../../renderer/src/hooks/useKeyboardShortcuts.ts';

describe('widgets and views', () => {
  it('has a widget for every param kind and a view for every preview kind', () => {
    expect(Object.keys(PARAM_WIDGETS).sort()).toEqual([...PARAM_KINDS].sort());
    expect(Object.keys(PREVIEW_VIEWS).sort()).toEqual([...PREVIEW_KINDS].sort());
    for (const w of Object.values(PARAM_WIDGETS)) expect(typeof w).toBe('function');
  });

  it('describes ranges for the inspector', () => {
    expect(describeRange({ kind: 'number', default: 0.5, min: 0, max: 1, step: 0.05 })).toBe('0 … 1, step 0.05');
    expect(describeRange({ kind: 'integer', default: 3, min: 1 })).toBe('whole number 1 … ∞');
    expect(describeRange({ kind: 'enum', default: 'a', options: ['a', 'b'] })).toBe('a | b');
    expect(describeRange({ kind: 'path', default: '', mode: 'file', extensions: ['png', 'jpg'], required: true })).toBe('file (png, jpg), required');
    expect(describeRange({ kind: 'boolean', default: true })).toBeUndefined();
  });

  it('reads ?file= and tells typing targets from the canvas', () => {
    expect(initialFilePath('?token=x&file=%2Fa%2Fb.dlflow')).toBe('/a/b.dlflow');
    expect(initialFilePath('?token=x&file=')).toBeUndefined();
    const el = (tagName: string, extra: Record<string, unknown> = {}) => ({ tagName, isContentEditable: false, closest: () => null, ...extra });
    expect(isTyping(el('INPUT', { type: 'text' }) as unknown as EventTarget)).toBe(true);
    expect(isTyping(el('INPUT', { type: 'checkbox' }) as unknown as EventTarget)).toBe(false);
    expect(isTyping(el('TEXTAREA') as unknown as EventTarget)).toBe(true);
    expect(isTyping(el('DIV') as unknown as EventTarget)).toBe(false);
    expect(isTyping(el('DIV', { closest: (s: string) => (s === '.monaco-editor' ? {} : null) }) as unknown as EventTarget)).toBe(true);
    expect(isTyping(null)).toBe(false);
  });
});
