import { createRequire } from 'node:module';
import type { Settings } from '../config/index.js';
import { extractFace, findFace, type FaceDetector } from './detect/faces.js';
import { cropResize, decodeImage, type RgbImage } from '../image/image.js';
import { cacheNamespace, type FacePipeline } from '../gallery/cache.js';
import type { SiameseModel } from '../model/model.js';
import type { FaceBox } from '../core/types.js';

const require = createRequire(import.meta.url);

/** Decode + detect + crop + embed for a model, shared by verification, enrolment, gallery and evaluation. */
export function modelPipeline(model: SiameseModel, detector: FaceDetector): FacePipeline & { cropFace(img: RgbImage): Promise<{ face: RgbImage; box: FaceBox } | null> } {
  const { inputSize, crop } = model.metadata;
  const cropFace = async (img: RgbImage) => {
    const found = await findFace(img, detector);
    if (!found) return null;
    return { face: extractFace(img, found, inputSize, crop), box: found.box };
  };
  return {
    cropFace,
    async faceCrop(bytes: Buffer, options?: { isCrop?: boolean }) {
      const img = await decodeImage(bytes);
      // Images saved by `facegate collect` are face crops already: use them whole.
      if (options?.isCrop) return cropResize(img, { x: 0, y: 0, width: img.width, height: img.height }, inputSize);
      return (await cropFace(img))?.face ?? null;
    },
    embed: (faces) => model.embed(faces),
  };
}

/**
 * What an embedding depends on besides the image: the tower (and its weights), the crop and the detector.
 * The face-api tower is frozen and versioned with its npm package, so a retrained head keeps the dataset cache.
 */
export function towerKey(model: SiameseModel, modelFingerprint: string): string {
  if (model.metadata.tower === 'faceapi-resnet128') {
    const version = (require('@vladmandic/face-api/package.json') as { version: string }).version;
    return `faceapi-resnet128@${version}`;
  }
  return `${model.metadata.tower}:${modelFingerprint}`;
}

export function embeddingNamespace(parts: { model: string; detector: string; settings: Settings['vision']; model_metadata: SiameseModel['metadata'] }): string {
  const { inputSize, crop, preprocessing } = parts.model_metadata;
  return cacheNamespace({ model: parts.model, detector: parts.detector, minConfidence: parts.settings.minConfidence, inputSize, crop, preprocessing });
}
