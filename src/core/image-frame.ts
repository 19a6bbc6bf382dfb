/**
 * A camera frame as the shield receives it (the fields of sensor_msgs/msg/Image that matter),
 * and the check that decides whether its bytes can be read. Pure: no Node imports.
 */

/** Encodings the shield reads; any other is refused when the node starts. */
export const IMAGE_ENCODINGS = ['rgb8', 'bgr8', 'mono8'] as const;
export type ImageEncoding = (typeof IMAGE_ENCODINGS)[number];

export interface ImageFrame {
  readonly width: number;
  readonly height: number;
  /** sensor_msgs/Image encoding string as received (only IMAGE_ENCODINGS are readable). */
  readonly encoding: string;
  /** Bytes per row. */
  readonly step: number;
  readonly data: Uint8Array;
  /** Wall-clock time (clock.nowMs() base) the frame was captured or received; 0 means unknown. */
  readonly stampMs: number;
}

export function isImageEncoding(e: string): e is ImageEncoding {
  return (IMAGE_ENCODINGS as readonly string[]).includes(e);
}

/** Bytes per pixel of an encoding the shield reads. */
export function channelsOf(e: ImageEncoding): 1 | 3 {
  return e === 'mono8' ? 1 : 3;
}

/** Why a frame cannot be read, with the numbers; null when it can. */
export type FrameFault =
  | { readonly kind: 'encoding'; readonly message: string }
  | { readonly kind: 'size'; readonly message: string }
  | { readonly kind: 'step'; readonly message: string }
  | { readonly kind: 'truncated'; readonly message: string };

export const FRAME_FAULTS = ['encoding', 'size', 'step', 'truncated'] as const;

/**
 * Checks one frame against what the model expects: a readable encoding, the camera's size,
 * a row stride of exactly width × channels bytes (the model reads packed rows), and that
 * many bytes. `expect` null accepts any size.
 */
export function checkFrame(f: ImageFrame, expect: { readonly width: number; readonly height: number } | null): FrameFault | null {
  if (!isImageEncoding(f.encoding)) return { kind: 'encoding', message: `encoding '${f.encoding}' is not one of ${IMAGE_ENCODINGS.join(', ')}` };
  if (!(Number.isInteger(f.width) && f.width > 0 && Number.isInteger(f.height) && f.height > 0)) {
    return { kind: 'size', message: `frame is ${f.width}×${f.height}, expected positive integers` };
  }
  if (expect !== null && (f.width !== expect.width || f.height !== expect.height)) {
    return { kind: 'size', message: `frame is ${f.width}×${f.height}, the model's camera is ${expect.width}×${expect.height}` };
  }
  const row = f.width * channelsOf(f.encoding);
  if (f.step !== row) return { kind: 'step', message: `step is ${f.step} bytes, ${f.width} px of ${f.encoding} is ${row}` };
  const need = row * f.height;
  if (f.data.length < need) return { kind: 'truncated', message: `data has ${f.data.length} bytes, ${f.width}×${f.height} ${f.encoding} needs ${need}` };
  if (f.data.length > need) return { kind: 'size', message: `data has ${f.data.length} bytes, more than the ${need} of ${f.width}×${f.height} ${f.encoding}` };
  return null;
}

/**
 * Writes a readable frame as packed RGB into `out` (width × height × 3 bytes): bgr8 swapped,
 * mono8 replicated. Call checkFrame first. Non-allocating.
 */
export function toRgb(f: ImageFrame, out: Uint8Array): void {
  const n = f.width * f.height;
  const d = f.data;
  switch (f.encoding as ImageEncoding) {
    case 'rgb8':
      out.set(d.subarray(0, n * 3));
      return;
    case 'bgr8':
      for (let i = 0; i < n * 3; i += 3) {
        out[i] = d[i + 2]!;
        out[i + 1] = d[i + 1]!;
        out[i + 2] = d[i]!;
      }
      return;
    case 'mono8':
      for (let i = 0, j = 0; i < n; i++, j += 3) out[j] = out[j + 1] = out[j + 2] = d[i]!;
      return;
  }
}
