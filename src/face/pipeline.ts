import type { FaceBox } from '../core/types.js';
import { decodeImage, type DecodeLimits, type RgbImage } from '../image/image.js';
import { cacheNamespace, type FacePipeline } from '../gallery/cache.js';
import type { FacegateMetadata } from '../model/metadata.js';
import { towerKind } from '../model/tower-registry.js';
import { cropAligner, type Aligner } from './align/crop.js';
import type { DetectedFace, FaceDetector, VisionSettings } from './detect/detector.js';
import type { LivenessCheck } from './liveness/stage.js';
import { headMatcher, type Matcher } from './match.js';
import type { Thresholds } from '../core/types.js';

/**
 * The face pipeline's stages: decode -> detect -> align/crop -> liveness -> embed -> match -> decide. Each is
 * a small interface with its implementations beside it (detect/, align/, liveness/, match.ts; the embedder is
 * the model, whose tensors stay inside model/). verifier.ts runs and times them for an attempt; enrolment, the
 * gallery and evaluation use decode -> detect -> align -> embed through modelPipeline() below.
 */

/** The embed stage: face crops of the tower's input size in, plain embeddings out. */
export interface Embedder {
  readonly embeddingSize: number;
  embed(faces: RgbImage[]): Promise<Float32Array[]>;
  dispose(): void;
}

export interface FaceStages {
  detector: FaceDetector;
  aligner: Aligner;
  /** Run in order on the aligned face; empty = no liveness checking. */
  liveness: LivenessCheck[];
  embedder: Embedder;
  matcher: Matcher;
}

/** The stages a Siamese model implies: its crop, its tower as the embedder, its head as the matcher. */
export function modelStages(
  model: Embedder & { metadata: Pick<FacegateMetadata, 'inputSize' | 'crop'>; scorePairs(probe: Float32Array, refs: Float32Array[]): ArrayLike<number> },
  detector: FaceDetector,
  thresholds: Thresholds,
  liveness: LivenessCheck[] = [],
): FaceStages {
  return { detector, aligner: modelAligner(model.metadata), liveness, embedder: model, matcher: headMatcher(model, thresholds) };
}

/** A face found and cut out for the tower. */
export interface FoundFace {
  face: RgbImage;
  box: FaceBox;
  detected: DetectedFace;
}

/** The model's aligner: crop size and crop rules come from its metadata. */
export function modelAligner(metadata: Pick<FacegateMetadata, 'inputSize' | 'crop'>): Aligner {
  return cropAligner(metadata.inputSize, metadata.crop);
}

/** Detect + align: the largest face cut out for the tower, or null. */
export async function cropLargestFace(img: RgbImage, detector: FaceDetector, aligner: Aligner): Promise<FoundFace | null> {
  const detected = (await detector.detect(img))[0];
  if (!detected) return null;
  return { face: aligner.align(img, detected), box: detected.box, detected };
}

/** Decode + detect + crop + embed for a model, shared by verification, enrolment, gallery and evaluation. */
export function modelPipeline(
  model: { metadata: Pick<FacegateMetadata, 'inputSize' | 'crop'>; embed(faces: RgbImage[]): Promise<Float32Array[]> },
  detector: FaceDetector,
  /** image.maxPixels: gallery photos over it are refused before decoding. */
  limits: Partial<DecodeLimits> = {},
): FacePipeline & { cropFace(img: RgbImage): Promise<{ face: RgbImage; box: FaceBox } | null> } {
  const aligner = modelAligner(model.metadata);
  const cropFace = (img: RgbImage) => cropLargestFace(img, detector, aligner);
  return {
    cropFace,
    async faceCrop(bytes: Buffer, options?: { isCrop?: boolean }) {
      const img = await decodeImage(bytes, limits);
      // Images saved by `facegate collect` are face crops already: use them whole.
      if (options?.isCrop) return aligner.whole(img);
      return (await cropFace(img))?.face ?? null;
    },
    embed: (faces) => model.embed(faces),
  };
}

/**
 * What an embedding depends on besides the image: the tower (and its weights), the crop and the detector.
 * The tower registry says which: a pretrained tower's package version, or a trained model's fingerprint.
 */
export function towerKey(model: { metadata: Pick<FacegateMetadata, 'tower'> }, modelFingerprint: string): string {
  return towerKind(model.metadata.tower).embeddingKey(modelFingerprint);
}

/**
 * Raised when a change to the code moves some pictures' embeddings while every setting stays the same, so that
 * galleries and dataset caches are re-embedded once (revision 1 had no key of its own). 2: pictures over 640 px reach face-api's detector at its
 * own input size and its landmark net reads the face from the full-resolution picture (phone photos enrolled
 * before would otherwise keep embeddings the door no longer computes).
 */
export const PIPELINE_REVISION = 2;

export function embeddingNamespace(parts: { model: string; detector: string; settings: Pick<VisionSettings, 'minConfidence'>; model_metadata: FacegateMetadata }): string {
  const { inputSize, crop, preprocessing, flipAverage } = parts.model_metadata;
  return cacheNamespace({
    model: parts.model,
    detector: parts.detector,
    minConfidence: parts.settings.minConfidence,
    inputSize,
    crop,
    preprocessing,
    // Only when set, so the namespaces of models without it stay as they were (no needless re-embedding).
    ...(flipAverage ? { flipAverage } : {}),
    revision: PIPELINE_REVISION,
  });
}
