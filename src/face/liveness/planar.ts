import { fitHomography, MIN_POINTS_FOR_RESIDUAL, planarResidual, type Homography, type Point } from './homography.js';

/**
 * The geometry check: do the face's landmarks move as one plane across the burst?
 *
 * For every frame after the first, one homography is fitted from the first frame's landmarks to that frame's,
 * and its RMS residual is divided by the landmarks' spread (RMS distance from their centroid; about 0.35 of the
 * face's width for 68 points). A print or a phone screen, whatever its motion, leaves only the landmark
 * detector's jitter (measured on the proxies: ~0.01-0.02); a real head turning by a few degrees moves the nose
 * and the jaw line against the eyes (parallax) and the mouth and eyelids on their own (0.04-0.13 on ORL's
 * consecutive captures). The burst's figure is the MEDIAN over the frames, so that one frame whose landmarks
 * the detector got wrong cannot make a photo look alive.
 *
 * Minimum landmarks: a homography has 8 degrees of freedom, so 4 points always fit exactly; from 5 points on a
 * residual exists (MIN_POINTS_FOR_RESIDUAL). The points must not all lie on one plane of the face: with the 5-6
 * points of a BlazeFace-style detector (eyes, nose tip, mouth, ear tragions) the nose tip against the ears and
 * eyes carries the parallax, with only 2-4 residual degrees of freedom, so its noise floor is higher and the
 * threshold must be measured again for that detector (evaluate-pad does).
 *
 * Not stopped by this check alone: a video of a moving face replayed on a screen (the landmarks in the video show
 * real parallax), a 3-D mask, a photo bent round a cylinder. See the README's "What stops a photo".
 */

export interface PlanarResult {
  /** Median over frames 1..n-1 of the normalised residual; NaN when fewer than two frames have landmarks. */
  residual: number;
  perFrame: number[];
  /** Plane motion frame 0 -> frame i (null where the fit failed): the motion check undoes it. */
  homographies: Array<Homography | null>;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** @param tracks one landmark list per frame (the same points in the same order), frame 0 being the probe. */
export function planarFit(tracks: readonly (readonly Point[])[]): PlanarResult {
  const [first, ...rest] = tracks;
  if (!first || rest.length === 0) return { residual: Number.NaN, perFrame: [], homographies: [] };
  if (first.length < MIN_POINTS_FOR_RESIDUAL) {
    throw new RangeError(`the planar check needs at least ${MIN_POINTS_FOR_RESIDUAL} landmarks per face, got ${first.length}`);
  }
  const perFrame: number[] = [];
  const homographies: Array<Homography | null> = [];
  for (const points of rest) {
    if (points.length !== first.length) throw new RangeError(`landmark counts differ between frames: ${first.length} vs ${points.length}`);
    homographies.push(fitHomography(first, points));
    perFrame.push(planarResidual(first, points));
  }
  return { residual: median(perFrame), perFrame, homographies };
}
