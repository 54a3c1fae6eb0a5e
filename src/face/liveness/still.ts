import type { FaceBox } from '../../core/types.js';
import { cropResize, type RgbImage } from '../../image/image.js';

/**
 * The near-identical-frames check: a photo held still (or propped up) gives frames that differ only by sensor
 * noise. Each frame's face region (the probe's box, in every frame, as a 32x32 grey patch: the averaging of
 * ~30 px per patch pixel removes most sensor noise) is compared with the probe's: mean absolute difference in
 * grey levels, the largest over the burst. Proxies: a still print ~0.3-0.6, anything that moves or changes
 * several grey levels.
 *
 * A person standing perfectly still in front of a perfectly still camera also gives near-identical frames:
 * then the burst shows no sign of life, and the attempt is refused as spoof. Asking people to look at the camera
 * and press the button (a small movement) is part of the design; the threshold is low on purpose.
 */

const PATCH = 32;

function greyPatch(img: RgbImage, box: FaceBox): Float32Array {
  const patch = cropResize(img, box, PATCH);
  const out = new Float32Array(PATCH * PATCH);
  for (let i = 0; i < out.length; i++) out[i] = 0.299 * patch.data[i * 3]! + 0.587 * patch.data[i * 3 + 1]! + 0.114 * patch.data[i * 3 + 2]!;
  return out;
}

/** Largest mean absolute grey-level difference of the face region against frame 0; 0 for fewer than two frames. */
export function faceRegionChange(frames: readonly RgbImage[], box: FaceBox): number {
  if (frames.length < 2) return 0;
  const reference = greyPatch(frames[0]!, box);
  let largest = 0;
  for (const frame of frames.slice(1)) {
    const patch = greyPatch(frame, box);
    let sum = 0;
    for (let i = 0; i < patch.length; i++) sum += Math.abs(patch[i]! - reference[i]!);
    largest = Math.max(largest, sum / patch.length);
  }
  return largest;
}
