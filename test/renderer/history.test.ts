import { describe, expect, it } from 'vitest';
import { canRedo, canUndo, createHistory, record, recordFrom, redo, replacePresent, undo, HISTORY_LIMIT } from '../../renderer/src/model/history.ts';
import { addNode, moveNodes, setParam } from '../../renderer/src/model/documentOps.ts';
import { sampleDoc } from './fixtures.ts';

describe('undo/redo history', () => {
  it('undoes and redoes edits in order, and a new edit clears redo', () => {
    let h = createHistory(1);
    h = record(h, 2);
    h = record(h, 3);
    expect(canUndo(h)).toBe(true);
    h = undo(h);
    expect(h.present).toBe(2);
    h = undo(h);
    expect(h.present).toBe(1);
    expect(canUndo(h)).toBe(false);
    expect(undo(h)).toBe(h);
    h = redo(h);
    expect(h.present).toBe(2);
    expect(canRedo(h)).toBe(true);
    h = record(h, 9);
    expect(canRedo(h)).toBe(false);
    expect(h.past).toEqual([1, 2]);
  });

  it('coalesces a burst of edits with the same key into one step', () => {
    let h = createHistory(0);
    h = record(h, 1, { key: 'p', now: 1000 });
    h = record(h, 2, { key: 'p', now: 1200 });
    h = record(h, 3, { key: 'p', now: 1400 });
    expect(h.past).toEqual([0]);
    h = record(h, 4, { key: 'p', now: 5000 });
    expect(h.past).toEqual([0, 3]);
    h = record(h, 5, { key: 'q', now: 5100 });
    expect(h.past).toEqual([0, 3, 4]);
  });

  it('records a live drag as one step from its start', () => {
    const doc = sampleDoc();
    let h = createHistory(doc);
    const base = h.present;
    for (let i = 1; i <= 5; i++) h = replacePresent(h, moveNodes(h.present, new Map([['load-1', { x: i * 10, y: 0 }]])));
    expect(h.past.length).toBe(0);
    h = recordFrom(h, base);
    expect(h.past.length).toBe(1);
    expect(h.present.nodes[0].position.x).toBe(50);
    h = undo(h);
    expect(h.present).toBe(doc);
  });

  it('works on documents: every kind of edit is undoable, untouched nodes are shared', () => {
    const doc = sampleDoc();
    let h = createHistory(doc);
    h = record(h, setParam(h.present, 'flip-1', 'p', 0.9));
    h = record(h, addNode(h.present, 'test:data:load', { count: 2 }, { x: 1, y: 1 }).doc);
    expect(h.present.nodes.length).toBe(4);
    expect(h.present.nodes[0]).toBe(doc.nodes[0]);
    h = undo(undo(h));
    expect(h.present).toBe(doc);
    expect(h.present.nodes[1].params.p).toBe(0.5);
  });

  it('keeps at most HISTORY_LIMIT steps', () => {
    let h = createHistory(0);
    for (let i = 1; i <= HISTORY_LIMIT + 20; i++) h = record(h, i);
    expect(h.past.length).toBe(HISTORY_LIMIT);
  });
});
