/** Object URLs for PNG bytes; the previous batch is revoked when the images change or unmount. */
import { useEffect, useState } from 'react';
import type { PreviewImage } from '../../../main/protocol/index.ts';

export function useObjectUrls(images: readonly PreviewImage[]): string[] {
  const [urls, setUrls] = useState<string[]>([]);
  useEffect(() => {
    const made = images.map((img) => URL.createObjectURL(new Blob([img.png as BlobPart], { type: 'image/png' })));
    setUrls(made);
    return () => {
      for (const u of made) URL.revokeObjectURL(u);
    };
  }, [images]);
  return urls;
}
