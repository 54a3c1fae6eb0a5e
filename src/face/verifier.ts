import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { galleryDir, type Settings } from '../config/index.js';
import type { Logger } from '../log.js';
import { createFaceDetector, warmUpFaceDetector, type FaceDetector } from './detect/faces.js';
import { encodeJpeg, decodeImage, type RgbImage } from '../image/image.js';
import { initBackend, type BackendPreference } from '../model/backend.js';
import { EmbeddingCache } from '../gallery/cache.js';
import { loadGallery, type PersonEmbeddings } from '../gallery/gallery.js';
import { fingerprint, loadSiameseModel } from '../model/io.js';
import type { SiameseModel } from '../model/model.js';
import type { GalleryInfo, Thresholds, Verifier, VerifyResult } from '../core/types.js';
import { decide, rankIdentities, resolveThresholds, scoreIdentities } from './match.js';
import { embeddingNamespace, modelPipeline } from './pipeline.js';

/**
 * The verification path of one attempt: decode -> largest face -> crop -> ONE tower pass for the probe ->
 * ONE batched head call against every cached gallery embedding -> per-image scores -> decision (match.ts).
 */

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
