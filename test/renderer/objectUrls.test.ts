import { afterEach, describe, expect, it, vi } from 'vitest';
import { REVOKE_DELAY_MS, revokeLater } from '../../renderer/src/hooks/useObjectUrls.ts';

afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

describe('revokeLater', () => {
  it('keeps replaced preview URLs alive through the next frame and a grace period', () => {
    vi.useFakeTimers();
    const frames: (() => void)[] = [];
    vi.stubGlobal('requestAnimationFrame', (cb: () => void) => frames.push(cb));
    const revoked: string[] = [];
    revokeLater(['blob:a', 'blob:b'], (u) => revoked.push(u));
    vi.advanceTimersByTime(REVOKE_DELAY_MS * 2);
    expect(revoked).toEqual([]); // no frame yet: the new images have not even been painted
    frames.shift()!();
    vi.advanceTimersByTime(REVOKE_DELAY_MS - 1);
    expect(revoked).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(revoked).toEqual(['blob:a', 'blob:b']);
  });

  it('works without animation frames and ignores an empty list', () => {
    vi.useFakeTimers();
    vi.stubGlobal('requestAnimationFrame', undefined);
    const revoked: string[] = [];
    revokeLater([], (u) => revoked.push(u));
    revokeLater(['blob:c'], (u) => revoked.push(u));
    vi.advanceTimersByTime(REVOKE_DELAY_MS);
    expect(revoked).toEqual(['blob:c']);
  });
});
