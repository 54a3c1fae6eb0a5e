import type { Point } from './align.js';

/**
 * 5-point style alignment: the similarity transform (rotation, uniform scale, translation) that puts a face's
 * keypoints onto a template in the crop, by least squares (the closed form for 2-D similarity, as in Umeyama
 * 1991). Eyes are named as they appear in the picture: `leftEye` is the eye nearer the image's left edge.
 */
export interface FaceKeypoints {
  leftEye: Point;
  rightEye: Point;
  nose: Point;
  /** Centre of the mouth. */
  mouth: Point;
}

export const KEYPOINT_NAMES = ['leftEye', 'rightEye', 'nose', 'mouth'] as const;

/** Where each keypoint goes in the crop, in fractions of its side (0..1). */
export type KeypointTemplate = Record<(typeof KEYPOINT_NAMES)[number], Point>;

/**
 * Least-squares similarity from `from` to `to` (same length >= 2). Returns [a, b, c, d, e, f] with
 * to ≈ (a*x + b*y + c, d*x + e*y + f), where a = e = s·cosθ and d = -b = s·sinθ.
 */
export function fitSimilarity(from: readonly Point[], to: readonly Point[]): number[] {
  if (from.length !== to.length || from.length < 2) throw new RangeError(`need >= 2 point pairs, got ${from.length} and ${to.length}`);
  const n = from.length;
  let fx = 0, fy = 0, tx = 0, ty = 0;
  for (let i = 0; i < n; i++) {
    fx += from[i]!.x; fy += from[i]!.y; tx += to[i]!.x; ty += to[i]!.y;
  }
  fx /= n; fy /= n; tx /= n; ty /= n;
  // With centred points u (from) and v (to): a = Σ(u·v) / Σ|u|², b' = Σ(u×v) / Σ|u|² (s·cos, s·sin).
  let dot = 0, cross = 0, norm = 0;
  for (let i = 0; i < n; i++) {
    const ux = from[i]!.x - fx, uy = from[i]!.y - fy;
    const vx = to[i]!.x - tx, vy = to[i]!.y - ty;
    dot += ux * vx + uy * vy;
    cross += ux * vy - uy * vx;
    norm += ux * ux + uy * uy;
  }
  if (norm === 0) throw new RangeError('keypoints coincide: no similarity transform');
  const a = dot / norm;
  const s = cross / norm;
  return [a, -s, tx - a * fx + s * fy, s, a, ty - s * fx - a * fy];
}

/** The inverse of a similarity [a, -s, c, s, a, f] (another similarity). */
export function invertSimilarity(m: readonly number[]): number[] {
  const [a, b, c, d, e, f] = m as [number, number, number, number, number, number];
  const det = a * e - b * d;
  if (det === 0) throw new RangeError('singular transform');
  const ia = e / det, ib = -b / det, id = -d / det, ie = a / det;
  return [ia, ib, -(ia * c + ib * f), id, ie, -(id * c + ie * f)];
}

/**
 * The affine map from crop pixels (0..size) to source pixels that warpAffine() wants, so that the keypoints
 * land on `template` (scaled to `size`).
 */
export function alignToTemplate(points: FaceKeypoints, template: KeypointTemplate, size: number): number[] {
  const from = KEYPOINT_NAMES.map((k) => points[k]);
  const to = KEYPOINT_NAMES.map((k) => ({ x: template[k].x * size, y: template[k].y * size }));
  return invertSimilarity(fitSimilarity(from, to));
}
