import { detectorEntry } from './registry.js';
import type { DetectedFace, DetectorOptions, FaceDetector, VisionSettings } from './detector.js';
import type { RgbImage } from '../../image/image.js';

/** The detect stage's front door: build the configured detector, find the largest face, warm a detector up. */

export type { DetectedFace, DetectorOptions, FaceDetector, VisionSettings };
export { extractFace } from '../align/crop.js';

/**
 * Builds the detector the model names (its metadata's `detector`), else the one named in settings (see
 * registry.ts). Network-based ones need initBackend() to have run.
 */
export async function createFaceDetector(settings: VisionSettings, options: DetectorOptions = {}): Promise<FaceDetector> {
  return detectorEntry(options.model?.detector ?? settings.detector).create(settings, options);
}

/**
 * Runs the detector a few times on a grey picture of the camera's size, so that the first real attempt does
 * not pay the first-call cost. Harmless for detectors without nets.
 */
export async function warmUpFaceDetector(detector: FaceDetector, width: number, height: number, runs = 3): Promise<void> {
  if (detector.warmUp) return detector.warmUp(width, height, runs);
  const grey: RgbImage = { data: new Uint8Array(width * height * 3).fill(128), width, height };
  for (let i = 0; i < runs; i++) await detector.detect(grey);
}

/** The largest face, or null. */
export async function findFace(img: RgbImage, detector: FaceDetector): Promise<DetectedFace | null> {
  const faces = await detector.detect(img);
  return faces[0] ?? null;
}
