import { applyHomography, invertHomography, type Homography, type Point } from './homography.js';

/**
 * The eyelid and mouth check: does the face change shape on its own, once the motion of a plane is taken
 * out? Each frame's landmarks are mapped back into the first frame through the inverse of the plane motion the
 * planar check fitted (so a print tilted towards the camera, which squashes the eyes in the picture, is undone),
 * then the eye aspect ratio (EAR: eyelid opening over eye width, per eye, averaged; Soukupova & Cech 2016) and
 * the mouth's inner-lip opening (the same ratio) are compared with the first frame's. A blink (EAR ~0.3 -> <0.15
 * for ~100-150 ms, so one or two frames at 10 fps) or speech shows; a photo's eyes never change.
 *
 * Needs the 68-point iBUG layout (eyelids: 37-41 / 43-47; inner lips 60-67); other landmark sets return null
 * and the burst decision rests on the planar and still checks.
 */

export interface MotionResult {
  /** Largest change of the mean eye aspect ratio against frame 0. */
  eyes: number;
  /** Largest change of the inner-mouth aspect ratio against frame 0. */
  mouth: number;
}

const dist = (a: Point, b: Point) => Math.hypot(a.x - b.x, a.y - b.y);

/** (|p2-p6| + |p3-p5|) / (2 |p1-p4|) for the six points of one eye, in iBUG order. */
export function eyeAspectRatio(p: readonly Point[]): number {
  return (dist(p[1]!, p[5]!) + dist(p[2]!, p[4]!)) / (2 * dist(p[0]!, p[3]!));
}

/** The inner lips (iBUG 60-67): mean of three openings over the mouth's width. */
export function mouthAspectRatio(p: readonly Point[]): number {
  return (dist(p[1]!, p[7]!) + dist(p[2]!, p[6]!) + dist(p[3]!, p[5]!)) / (3 * dist(p[0]!, p[4]!));
}

function shape(landmarks: readonly Point[]): { eyes: number; mouth: number } {
  return {
    eyes: (eyeAspectRatio(landmarks.slice(36, 42)) + eyeAspectRatio(landmarks.slice(42, 48))) / 2,
    mouth: mouthAspectRatio(landmarks.slice(60, 68)),
  };
}

/**
 * @param tracks landmarks per frame (frame 0 = the probe); @param homographies plane motion 0 -> i for i >= 1
 * (from planarFit; null = none found, the frame is compared as it is).
 */
export function eyeMouthMotion(tracks: readonly (readonly Point[])[], homographies: ReadonlyArray<Homography | null>): MotionResult | null {
  if (tracks.length < 2 || tracks.some((t) => t.length !== 68)) return null;
  const reference = shape(tracks[0]!);
  let eyes = 0;
  let mouth = 0;
  for (let i = 1; i < tracks.length; i++) {
    const h = homographies[i - 1];
    const inverse = h ? invertHomography(h) : null;
    const back = inverse ? tracks[i]!.map((p) => applyHomography(inverse, p)) : tracks[i]!;
    const now = shape(back);
    eyes = Math.max(eyes, Math.abs(now.eyes - reference.eyes));
    mouth = Math.max(mouth, Math.abs(now.mouth - reference.mouth));
  }
  return { eyes, mouth };
}
