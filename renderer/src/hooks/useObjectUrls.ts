/**
 * Object URLs for PNG bytes, made during render (so a new preview shows in the same frame, not
 * one render later). Old URLs are revoked only after the new images had time to load (a frame
 * plus REVOKE_DELAY_MS), so an <img> never points at a revoked URL while its successor decodes;
 * on unmount likewise.
 */
import { useEffect, useMemo } from 'react';
import type { PreviewImage } from '../../../main/protocol/index.ts';

/** How long replaced URLs live after the next frame; previews decode well within it. */
export const REVOKE_DELAY_MS = 1000;

/** Revokes `urls` after the next frame and a grace period (immediately where there are no frames). */
export function revokeLater(urls: readonly string[], revoke: (url: string) => void = (u) => URL.revokeObjectURL(u)): void {
  if (urls.length === 0) return;
  const run = () => {
    for (const u of urls) revoke(u);
  };
  if (typeof requestAnimationFrame === 'function') requestAnimationFrame(() => setTimeout(run, REVOKE_DELAY_MS));
  else setTimeout(run, REVOKE_DELAY_MS);
}

export function useObjectUrls(images: readonly PreviewImage[]): string[] {
  const urls = useMemo(() => images.map((img) => URL.createObjectURL(new Blob([img.png as BlobPart], { type: 'image/png' }))), [images]);
  useEffect(() => () => revokeLater(urls), [urls]);
  return urls;
}
