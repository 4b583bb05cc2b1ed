/**
 * DlflowImageEdit: a copy of a float32 tensor, changed in place by a JS function, on the wasm
 * heap. The augmentations' pixel kinds (noise, weather, colour, ...) each make one pass over the
 * picked images; through this kernel that pass writes straight into the output tensor's memory,
 * with no read-back of the input, no JS-side copy of the batch and no upload of a new one.
 *
 * attrs.edit gets a Float32Array view over the output (the input's values) and changes it in
 * place; it must not run tf ops or allocate on the wasm heap (that may move the heap under the
 * view). If it throws, the output is freed and the error propagates.
 */
import { heapF32, type KernelArgs, type TensorInfo, withScratch } from './kernel-utils.ts';

export const IMAGE_EDIT_KERNEL = 'DlflowImageEdit';
export type ImageEdit = (values: Float32Array) => void;

export function imageEdit({ inputs, backend, attrs }: KernelArgs): TensorInfo {
  const { image } = inputs;
  const edit = attrs.edit;
  if (typeof edit !== 'function') throw new Error(`${IMAGE_EDIT_KERNEL}: attrs.edit must be a function`);
  if (image.dtype !== 'float32') throw new Error(`${IMAGE_EDIT_KERNEL}: expected a float32 tensor, got ${image.dtype}`);
  return withScratch(backend, (s) => {
    const out = s.alloc([...image.shape]);
    // Views after the allocation: it may grow (and so move) the heap.
    const values = heapF32(backend, out);
    const from = heapF32(backend, image);
    // copyWithin on one view of the heap is a plain memmove; TypedArray.set between two views
    // of the same buffer copies the source aside first (an extra allocation and pass).
    new Float32Array(values.buffer).copyWithin(values.byteOffset / 4, from.byteOffset / 4, from.byteOffset / 4 + from.length);
    (edit as ImageEdit)(values);
    return s.keep(out);
  });
}
