import type { FaceBox } from '../../core/types.js';
import type { RgbImage } from '../../image/image.js';
import type { FaceDetector } from '../detect/detector.js';
import { MIN_POINTS_FOR_RESIDUAL, type Point } from './homography.js';
import type { LivenessSettings } from './settings.js';
import type { LivenessCheck, LivenessProbe, LivenessResult } from './check.js';
import { eyeMouthMotion } from './motion.js';
import { planarFit } from './planar.js';
import { faceRegionChange } from './still.js';

/**
 * The burst check: the press frame and the frames the warm camera delivers right after it (5 frames at
 * 10 fps = ~400 ms). The probe's face is found again in every frame (the same detector and landmark net;
 * the face whose box overlaps the probe's most, IoU >= 0.3), then three tests judge the landmark tracks:
 *
 *   still   the face region changes by less than still.minChange grey levels: a photo held still -> spoof
 *   planar  the landmarks fit one homography (residual < planar.minResidual of the face size) ...
 *   motion  ... and the eyes and mouth keep their shape (< motion.minChange): a print or a screen -> spoof
 *
 * A live face passes by parallax (the head turns a little) or by eyelid/mouth motion (a blink, speech).
 * `score` folds the three into one number, >= 1 = live, for ROC curves (evaluate-pad):
 *   min(change / still.minChange, max(parallax / planar.minResidual, motion / motion.minChange)).
 */

export type BurstThresholds = Pick<LivenessSettings, 'still' | 'planar' | 'motion'> & { burst: Pick<LivenessSettings['burst'], 'minFaces'> };

/** Intersection over union of two boxes: which face in a burst frame is the probe's face. */
export function overlap(a: Omit<FaceBox, 'score'>, b: Omit<FaceBox, 'score'>): number {
  const x = Math.max(0, Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x));
  const y = Math.max(0, Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y));
  const inter = x * y;
  const union = a.width * a.height + b.width * b.height - inter;
  return union > 0 ? inter / union : 0;
}

/** The probe's face followed through the burst: the frames it was found in and its landmarks there. */
export interface BurstTrack {
  frames: number;
  images: RgbImage[];
  landmarks: Point[][];
}

/** Finds the probe's face in each burst frame; frames where it is missing (or has no landmarks) are left out. */
export async function trackFace(probe: Pick<LivenessProbe, 'frame' | 'box' | 'landmarks'>, burst: readonly RgbImage[], detector: FaceDetector, signal?: AbortSignal): Promise<BurstTrack> {
  const track: BurstTrack = { frames: burst.length + 1, images: [probe.frame], landmarks: probe.landmarks ? [probe.landmarks] : [] };
  if (!probe.landmarks) return track;
  for (const frame of burst) {
    signal?.throwIfAborted();
    const faces = await detector.detect(frame);
    let best: (typeof faces)[number] | null = null;
    let bestOverlap = 0.3;
    for (const face of faces) {
      const o = overlap(face.box, probe.box);
      if (face.landmarks && face.landmarks.length === probe.landmarks.length && o >= bestOverlap) [best, bestOverlap] = [face, o];
    }
    if (!best) continue;
    track.images.push(frame);
    track.landmarks.push(best.landmarks!);
  }
  return track;
}

const r3 = (v: number) => Math.round(v * 1000) / 1000;

/** The verdict on a tracked burst (pure: the tests and evaluate-pad call it directly). */
export function judgeBurst(probe: Pick<LivenessProbe, 'box'>, track: BurstTrack, t: BurstThresholds): LivenessResult {
  const faces = track.landmarks.length;
  const scores: Record<string, number> = { frames: track.frames, faces };
  if (faces < Math.max(2, t.burst.minFaces)) {
    const reason = track.frames < 2
      ? 'a single frame cannot show liveness (no burst: the folder camera, or verify without --burst)'
      : `the face was found with landmarks in only ${faces} of ${track.frames} burst frames (need ${t.burst.minFaces})`;
    return { passed: false, scores: { ...scores, score: 0 }, reason };
  }
  const points = track.landmarks[0]!.length;
  if (points < MIN_POINTS_FOR_RESIDUAL) {
    return { passed: false, scores: { ...scores, score: 0 }, reason: `the detector gives ${points} landmarks; the planar check needs at least ${MIN_POINTS_FOR_RESIDUAL}` };
  }
  const change = faceRegionChange(track.images, probe.box);
  const planar = planarFit(track.landmarks);
  const motion = eyeMouthMotion(track.landmarks, planar.homographies);
  const moved = motion ? Math.max(motion.eyes, motion.mouth) : 0;
  const score = Math.min(change / t.still.minChange, Math.max(planar.residual / t.planar.minResidual, moved / t.motion.minChange));
  Object.assign(scores, { change: r3(change), parallax: r3(planar.residual), ...(motion ? { eyes: r3(motion.eyes), mouth: r3(motion.mouth) } : {}), score: r3(score) });
  if (change < t.still.minChange) {
    return { passed: false, scores, reason: `near-identical frames (face region changed ${change.toFixed(2)} < ${t.still.minChange} grey levels): a still picture` };
  }
  if (planar.residual >= t.planar.minResidual || moved >= t.motion.minChange) return { passed: true, scores };
  return {
    passed: false, scores,
    reason: `the face moves as one flat plane (parallax ${planar.residual.toFixed(3)} < ${t.planar.minResidual})` +
      `${motion ? ` and its eyes and mouth keep their shape (${moved.toFixed(3)} < ${t.motion.minChange})` : ''}: a print or a screen`,
  };
}

export class BurstCheck implements LivenessCheck {
  readonly name = 'burst';
  readonly burst = 'required';

  constructor(private readonly settings: LivenessSettings, private readonly detector: FaceDetector) {}

  async check(probe: LivenessProbe, signal?: AbortSignal): Promise<LivenessResult> {
    return judgeBurst(probe, await trackFace(probe, probe.burst ?? [], this.detector, signal), this.settings);
  }
}
