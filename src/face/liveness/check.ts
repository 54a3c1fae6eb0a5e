import type { FaceBox } from '../../core/types.js';
import type { RgbImage } from '../../image/image.js';
import type { Point } from '../align/align.js';
import type { FaceDetector } from '../detect/detector.js';
import type { LivenessSettings } from './settings.js';

/** The liveness stage's vocabulary: what a check looks at, what it answers, what it is built from. */

/** What a liveness check looks at: the probe face as the tower will see it, plus where it came from. */
export interface LivenessProbe {
  /** The aligned face crop (the tower's input size). */
  face: RgbImage;
  /** The detector's box in frame pixels. */
  box: FaceBox;
  /** The detector's landmarks in frame pixels (68 today), when it gives them. */
  landmarks: Point[] | null;
  /** The whole decoded frame the face was found in. */
  frame: RgbImage;
  /** Further frames of a burst, already decoded, oldest first; absent when the attempt had a single frame. */
  burst?: RgbImage[];
}

export interface LivenessResult {
  passed: boolean;
  /** Named scores for the audit and tuning, e.g. { parallax: 0.012, change: 24.1 }. */
  scores: Record<string, number>;
  /** Why it failed, for people (logs, MQTT reason). */
  reason?: string;
}

export interface LivenessCheck {
  readonly name: string;
  /**
   * Whether the check looks at a burst of frames: 'optional' (used when the camera gave one), 'required' (a
   * single frame fails, secure by default). Absent: the verifier does not even decode the burst for it.
   */
  readonly burst?: 'optional' | 'required';
  check(probe: LivenessProbe, signal?: AbortSignal): Promise<LivenessResult>;
  dispose?(): Promise<void> | void;
}

/** What a check may be built from: its thresholds and the pipeline's detector (to follow the face through a burst). */
export interface LivenessDeps {
  settings: LivenessSettings;
  detector: FaceDetector;
}

export interface LivenessEntry {
  /** Shown in the config docs: what it detects and what it costs. */
  doc: string;
  create(deps?: LivenessDeps): Promise<LivenessCheck> | LivenessCheck;
}
