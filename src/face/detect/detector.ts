import type { Logger } from '../../log.js';
import type { FaceBox } from '../../core/types.js';
import type { Point } from '../align/align.js';
import type { RgbImage } from '../../image/image.js';
import type { FaceKeypoints } from '../align/similarity.js';

/**
 * Border added around a picture in which no face was found, for one more try, as a fraction of its longer
 * side. Tight crops (ID photos, ORL's 92x112 faces) give detectors no context: face-api's tiny missed 103 of
 * 200 ORL pictures and BlazeFace 2 of 200 without it; with it neither missed any (measured here, one run).
 * Pictures with a face pay nothing; only a faceless one pays a second detection.
 */
export const RETRY_PADDING = 0.5;

/** The detect stage: a decoded frame in, every face found out. One file per implementation, registered in registry.ts. */
export interface FaceDetector {
  readonly name: string;
  /** All faces found, largest first; [] when none. */
  detect(img: RgbImage): Promise<DetectedFace[]>;
  /** Runs the detector's nets on a grey frame of the camera's size so the first attempt is not slow. Optional. */
  warmUp?(width: number, height: number, runs: number): Promise<void>;
}

export interface DetectedFace {
  /** In original image pixels, clipped to the image. */
  box: FaceBox;
  /** 68 points (iBUG order) in original image pixels, or null (fixed crop, or landmarks switched off). */
  landmarks: Point[] | null;
  /** Eyes, nose and mouth centre in original image pixels, from detectors that give them (BlazeFace). */
  keypoints?: FaceKeypoints;
}

/**
 * The `vision` settings slice every detector is built from (structurally the config's `vision`; the face
 * folder never imports config, so config can list the registry's keys without an import cycle).
 */
export interface VisionSettings {
  detector: string;
  inputSize: number;
  minConfidence: number;
  padding: number;
  fixedCrop: { x: number; y: number; size: number };
}

export interface DetectorOptions {
  /** Run the 68-landmark net on each face (needed for aligned crops and face-api descriptors). Default true. */
  landmarks?: boolean;
  /** The model's own detector (its metadata's `detector`), which wins over `settings.detector`. */
  model?: { detector?: string };
  log?: Logger;
}

/** The box between two corners, clipped to the image. */
export function toFaceBox(topLeft: Point, bottomRight: Point, score: number, img: { width: number; height: number }): FaceBox {
  const left = Math.max(0, topLeft.x);
  const top = Math.max(0, topLeft.y);
  const right = Math.min(img.width, bottomRight.x);
  const bottom = Math.min(img.height, bottomRight.y);
  return { x: left, y: top, width: Math.max(0, right - left), height: Math.max(0, bottom - top), score };
}
