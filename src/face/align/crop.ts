import { cropResize, warpAffine, type RgbImage } from '../../image/image.js';
import type { DetectedFace } from '../detect/detector.js';
import { squareFromBox, squareFromLandmarks, squareToAffine } from './align.js';
import { alignToTemplate } from './similarity.js';
import type { CropSpec } from '../../model/metadata.js';

/**
 * The align/crop stage: a detected face -> the size x size crop the tower takes, as the model's metadata
 * says (margin, eye alignment, keypoint template). Keypoints and a template: a similarity warp onto it;
 * else landmarks, when the detector gives them, place the square; else its box.
 */
export interface Aligner {
  /** Crop side in pixels (the tower's input size). */
  readonly size: number;
  align(img: RgbImage, face: DetectedFace): RgbImage;
  /** A picture that is a face crop already (collect's *.crop.jpg): resized whole. */
  whole(img: RgbImage): RgbImage;
}

export function cropAligner(size: number, crop: Partial<CropSpec> = {}): Aligner {
  return {
    size,
    align: (img, face) => extractFace(img, face, size, crop),
    whole: (img) => cropResize(img, { x: 0, y: 0, width: img.width, height: img.height }, size),
  };
}

/**
 * The face as a size x size RGB crop: a square around the face (face-api's descriptor square when landmarks
 * exist, else the detector box made square), enlarged by `margin` (fraction of the side added on each side,
 * default 0), rotated so the eyes are level when `align` is set and landmarks exist (default false: face-api's
 * own crop is unrotated). Parts outside the image are black.
 */
export function extractFace(img: RgbImage, face: DetectedFace, size: number, opts: Partial<CropSpec> = {}): RgbImage {
  // 5-point style alignment when the model has a template and the detector found the keypoints.
  if (opts.template && face.keypoints) return warpAffine(img, size, size, alignToTemplate(face.keypoints, opts.template, size));
  const margin = opts.margin ?? 0;
  const square =
    face.landmarks && face.landmarks.length === 68
      ? squareFromLandmarks(face.landmarks, margin, opts.align ?? false)
      : squareFromBox(face.box, margin);
  return warpAffine(img, size, size, squareToAffine(square, size));
}
