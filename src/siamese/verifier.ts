import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { galleryDir, type Settings } from '../config.js';
import type { Logger } from '../log.js';
import { createFaceDetector, extractFace, findFace, warmUpFaceDetector, type FaceDetector } from '../vision/faces.js';
import { cropResize, decodeImage, encodeJpeg, type RgbImage } from '../vision/image.js';
import { initBackend, type BackendPreference } from './backend.js';
import { cacheNamespace, EmbeddingCache, type FacePipeline } from './cache.js';
import { loadGallery, type PersonEmbeddings } from './gallery.js';
import { fingerprint, loadSiameseModel } from './io.js';
import type { SiameseModel } from './model.js';
import type { FaceBox, GalleryInfo, IdentityScore, Thresholds, Verifier, VerifyResult } from './types.js';

/**
 * The verification path of one attempt: decode -> largest face -> crop -> ONE tower pass for the probe ->
 * ONE batched head call against every cached gallery embedding -> per-image scores -> decision.
 * Seed semantics per person: detections = scores > detection threshold, fraction = detections / images,
 * verified = fraction > verification threshold. The best fraction wins (ties: higher mean score).
 */

/** Settings win over the thresholds calibrated into the model. */
export function resolveThresholds(settings: Settings['model'], model: SiameseModel): Thresholds {
  return {
    detection: settings.detectionThreshold ?? model.metadata.thresholds.detection,
    verification: settings.verificationThreshold ?? model.metadata.thresholds.verification,
  };
}

/** Per-person scores from one flat score array laid out person by person. */
export function scoreIdentities(people: Array<{ name: string; embeddings: ArrayLike<unknown> }>, scores: ArrayLike<number>, thresholds: Thresholds): IdentityScore[] {
  const out: IdentityScore[] = [];
  let offset = 0;
  for (const person of people) {
    const n = person.embeddings.length;
    let detections = 0;
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const score = scores[offset + i]!;
      sum += score;
      if (score > thresholds.detection) detections++;
    }
    offset += n;
    out.push({ identity: person.name, fraction: n ? detections / n : 0, meanScore: n ? sum / n : 0, detections, images: n });
  }
  return out;
}

/** Best person first: highest fraction, then highest mean score, then name (stable). */
export function rankIdentities(scores: IdentityScore[]): IdentityScore[] {
  return [...scores].sort((a, b) => b.fraction - a.fraction || b.meanScore - a.meanScore || (a.identity < b.identity ? -1 : 1));
}

export function decide(perIdentity: IdentityScore[], thresholds: Thresholds): Pick<VerifyResult, 'decision' | 'identity' | 'fraction' | 'meanScore' | 'reason'> {
  const best = rankIdentities(perIdentity)[0];
  if (!best) return { decision: 'denied', identity: null, fraction: 0, meanScore: 0, reason: 'gallery is empty: enrol someone with facegate enroll NAME --images DIR' };
  const granted = best.fraction > thresholds.verification;
  return {
    decision: granted ? 'granted' : 'denied',
    identity: best.identity,
    fraction: best.fraction,
    meanScore: best.meanScore,
    ...(granted ? {} : { reason: `best match ${best.identity}: ${best.detections} of ${best.images} images above ${thresholds.detection}` }),
  };
}

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

const require = createRequire(import.meta.url);

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

class AbortedError extends Error {
  override name = 'AbortError';
}

export class SiameseVerifier implements Verifier {
  private people: PersonEmbeddings[] = [];
  private flat: Float32Array[] = [];
  private healthy = true;
  /** Decode + detect + crop + embed with this verifier's model; enrolment uses it to check photos. */
  readonly pipeline: ReturnType<typeof modelPipeline>;

  constructor(
    readonly model: SiameseModel,
    private readonly detector: FaceDetector,
    readonly thresholds: Thresholds,
    private readonly gallery: { dir: string; cache: EmbeddingCache },
    readonly backend: string,
    readonly modelName: string,
    private readonly log?: Logger,
  ) {
    this.pipeline = modelPipeline(model, detector);
  }

  async reload(): Promise<GalleryInfo> {
    const loaded = await loadGallery(this.gallery.dir, this.pipeline, this.gallery.cache, this.log);
    this.people = loaded.people;
    this.flat = loaded.people.flatMap((p) => p.embeddings);
    this.log?.info({ identities: loaded.people.length, images: loaded.images, computed: loaded.computed, skipped: loaded.skipped.length }, 'gallery loaded');
    return this.galleryInfo();
  }

  private galleryInfo(): GalleryInfo {
    return { identities: this.people.length, images: this.flat.length, model: this.modelName };
  }

  info(): GalleryInfo & { backend: string; healthy: boolean } {
    return { ...this.galleryInfo(), backend: this.backend, healthy: this.healthy };
  }

  async verify(image: Buffer, options: { signal?: AbortSignal; wantFaceJpeg?: boolean } = {}): Promise<VerifyResult> {
    const checkAbort = () => {
      if (options.signal?.aborted) throw new AbortedError('verification aborted');
    };
    const t0 = performance.now();
    const img = await decodeImage(image);
    const t1 = performance.now();
    checkAbort();
    const found = await this.pipeline.cropFace(img);
    const t2 = performance.now();
    checkAbort();
    const base = { thresholds: this.thresholds, backend: this.backend };
    if (!found) {
      return {
        ...base, decision: 'no_face', identity: null, fraction: 0, meanScore: 0, perIdentity: [], face: null, reason: 'no face found',
        timings: { decode: t1 - t0, detect: t2 - t1, embed: 0, compare: 0, total: t2 - t0 },
      };
    }
    // The snapshot is a side output: encoded after the stages are timed so it never shows up as "embed".
    const snapshot = async () => (options.wantFaceJpeg ? { faceJpeg: await encodeJpeg(found.face) } : {});
    if (this.flat.length === 0) {
      const t = performance.now();
      const faceJpeg = await snapshot();
      return {
        ...base, ...decide([], this.thresholds), perIdentity: [], face: found.box, ...faceJpeg,
        timings: { decode: t1 - t0, detect: t2 - t1, embed: 0, compare: 0, total: t - t0 },
      };
    }
    const [probe] = await this.model.embed([found.face]);
    const t3 = performance.now();
    checkAbort();
    const scores = this.model.scorePairs(probe!, this.flat);
    const perIdentity = rankIdentities(scoreIdentities(this.people, scores, this.thresholds));
    const t4 = performance.now();
    const faceJpeg = await snapshot();
    return {
      ...base, ...decide(perIdentity, this.thresholds), perIdentity, face: found.box, ...faceJpeg,
      timings: { decode: t1 - t0, detect: t2 - t1, embed: t3 - t2, compare: t4 - t3, total: t4 - t0 },
    };
  }

  /**
   * Runs every stage of an attempt once on grey pictures (detector nets on a frame of the camera's size, one
   * tower pass, one head call against the whole gallery), so that the first real attempt does not pay wasm
   * kernel set-up, XNNPACK weight packing and JIT. Leaves no tensors behind. Returns how long it took (ms).
   */
  async warmUp(frame: { width: number; height: number }, detectorRuns = 3): Promise<number> {
    const t0 = performance.now();
    await warmUpFaceDetector(this.detector, frame.width, frame.height, detectorRuns);
    const size = this.model.metadata.inputSize;
    const greyFace: RgbImage = { data: new Uint8Array(size * size * 3).fill(128), width: size, height: size };
    const [probe] = await this.model.embed([greyFace]);
    // The gallery's batch shape is the one real attempts use; an empty gallery still warms the head.
    this.model.scorePairs(probe!, this.flat.length ? this.flat : [probe!]);
    // A grey picture has no face in it, so what runs only once a face is found (landmarks on it, the crop's
    // warp) stays cold: one enrolled photo, when there is one, runs the whole attempt path. Best effort.
    const photo = this.people.find((person) => person.files.length > 0)?.files[0];
    if (photo) {
      await readFile(photo).then((bytes) => this.verify(bytes)).catch((err: unknown) => this.log?.debug({ err, photo }, 'warm-up photo skipped'));
    }
    const durationMs = Math.round(performance.now() - t0);
    this.log?.info({ durationMs, frame, detectorRuns }, 'verifier warmed up');
    return durationMs;
  }

  async close(): Promise<void> {
    this.healthy = false;
    this.model.dispose();
  }
}

export interface VerifierOverrides {
  /** Model folder instead of settings.model.dir (`--model DIR`). */
  modelDir?: string;
  /**
   * Warm every stage up before returning (see SiameseVerifier.warmUp), for frames of this size. The daemon
   * does, so its first attempt is as fast as later ones (measured: first attempt 886 -> 181 ms median). One-shot
   * commands do not: warm-up plus one verification took longer than a cold verification (4.2 s vs 2.7 s in all).
   */
  warmUp?: { width: number; height: number };
}

/** The daemon's factory: backend, model, detector, gallery (through the on-disk embedding cache), optional warm-up. */
export async function createVerifier(settings: Settings, log?: Logger, overrides: VerifierOverrides = {}): Promise<SiameseVerifier> {
  const backend = await initBackend(settings.model.backend as BackendPreference, log);
  const modelDir = overrides.modelDir ?? settings.model.dir;
  const model = await loadSiameseModel(modelDir);
  try {
    const modelFingerprint = await fingerprint(modelDir);
    const detector = await createFaceDetector(settings.vision, log ? { log } : {});
    const namespace = embeddingNamespace({ model: modelFingerprint, detector: detector.name, settings: settings.vision, model_metadata: model.metadata });
    const cache = new EmbeddingCache(join(settings.paths.state, 'embeddings'), namespace, model.embeddingSize);
    const modelName = `${model.metadata.tower}@${modelFingerprint.slice(0, 12)}`;
    const verifier = new SiameseVerifier(model, detector, resolveThresholds(settings.model, model), { dir: galleryDir(settings), cache }, backend.name, modelName, log);
    await verifier.reload();
    if (overrides.warmUp) await verifier.warmUp(overrides.warmUp);
    return verifier;
  } catch (error) {
    model.dispose();
    throw error;
  }
}
