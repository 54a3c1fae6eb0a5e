import type { CropTemplate } from '../../model/metadata.js';

/**
 * Where BlazeFace's keypoints sit, on average, in the 150 px square face-api's own pipeline feeds its 128-d
 * ResNet (the dlib-style square from the 68 landmarks: side = eye-to-mouth distance / 0.45). Measured on
 * 196 lfw-dev pictures (first picture of every 7th person) by running both detectors on each and averaging
 * the keypoints' positions in that square. Aligning to it keeps the net's input framed as in its training,
 * while the similarity warp also levels the eyes, which face-api's square does not.
 */
export const FACEAPI_150_TEMPLATE: CropTemplate = {
  leftEye: { x: 0.3141, y: 0.3067 },
  rightEye: { x: 0.6981, y: 0.3013 },
  nose: { x: 0.5087, y: 0.5242 },
  mouth: { x: 0.512, y: 0.7266 },
};

/**
 * The 112x112 ArcFace alignment template (the five reference points the InsightFace family of embedders is
 * trained on: eye centres, nose tip, mouth corners at (38.29, 51.70), (73.53, 51.50), (56.03, 71.74),
 * (41.55, 92.37), (70.73, 92.20) px), with the mouth corners averaged into BlazeFace's mouth centre.
 */
export const ARCFACE_112_TEMPLATE: CropTemplate = {
  leftEye: { x: 38.2946 / 112, y: 51.6963 / 112 },
  rightEye: { x: 73.5318 / 112, y: 51.5014 / 112 },
  nose: { x: 56.0252 / 112, y: 71.7366 / 112 },
  mouth: { x: (41.5493 + 70.7299) / 2 / 112, y: (92.3655 + 92.2041) / 2 / 112 },
};
