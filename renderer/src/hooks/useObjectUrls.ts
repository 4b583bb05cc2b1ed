/**
 * Object URLs for PNG bytes, made during render (so a new preview shows in the same frame, not
 * one render later) and revoked when the images change or the view unmounts.
 */
import { useEffect, useMemo } from 'react';
import type { PreviewImage } from '../../../main/protocol/index.ts';

export function useObjectUrls(images: readonly PreviewImage[]): string[] {
  const urls = useMemo(() => images.map((img) => URL.createObjectURL(new Blob([img.png as BlobPart], { type: 'image/png' }))), [images]);
  useEffect(
    () => () => {
      for (const u of urls) URL.revokeObjectURL(u);
    },
    [urls],
  );
  return urls;
}
