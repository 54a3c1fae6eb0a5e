import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Logger } from '../log.js';
import { createFaceDetector } from './detect/faces.js';
import type { VisionSettings } from './detect/detector.js';
import { encodeJpeg, decodeImage, type DecodeLimits, type RgbImage } from '../image/image.js';
import { initBackend, type BackendPreference } from '../model/backend.js';
import { EmbeddingCache, type FacePipeline } from '../gallery/cache.js';
import type { EnrolledPerson, GalleryStore } from '../gallery/store.js';
import { galleryStoreEntry, type GalleryStoreSettings } from '../gallery/stores.js';
import { fingerprint, loadSiameseModel } from '../model/io.js';
import type { GalleryInfo, LivenessReport, LivenessStatus, StageTimings, Thresholds, Verifier, VerifyOptions, VerifyResult } from '../core/types.js';
import { decide, resolveThresholds, type ThresholdSettings } from './match.js';
import { createLivenessChecks, runLiveness } from './liveness/stage.js';
import { resolveLiveness } from './liveness/mode.js';
import type { LivenessSettings } from './liveness/settings.js';
import { embeddingNamespace, modelPipeline, modelStages, towerKey, type FaceStages } from './pipeline.js';

/**
 * The verification path of one attempt, stage by stage (pipeline.ts): decode -> detect (largest face) ->
 * align/crop -> liveness checks -> ONE tower pass for the probe -> ONE batched head call against every
 * enrolled embedding -> per-person scores -> decision (match.ts). Each stage is timed.
 */

class AbortedError extends Error {
  override name = 'AbortError';
}

type Stage = Exclude<keyof StageTimings, 'total'>;

/** Laps of one attempt: each stage's time is from the end of the previous one. */
function stageClock() {
  const t0 = performance.now();
  let last = t0;
  const timings: StageTimings = { decode: 0, detect: 0, align: 0, liveness: 0, embed: 0, compare: 0, total: 0 };
  return {
    lap(stage: Stage) {
      const now = performance.now();
      timings[stage] = now - last;
      last = now;
    },
    timings: (): StageTimings => ({ ...timings, total: last - t0 }),
  };
}

export class SiameseVerifier implements Verifier {
  private people: EnrolledPerson[] = [];
  private images = 0;
  private healthy = true;

  constructor(
    private readonly stages: FaceStages,
    /**
     * Thresholds for a gallery of n people: fixed for a model without open-set calibration, else growing with
     * the household (match.ts resolveThresholds()). A plain object means fixed thresholds.
     */
    thresholds: Thresholds | ((people: number) => Thresholds),
    private readonly store: GalleryStore,
    /** Decode + detect + crop + embed with this verifier's model; enrolment uses it to check photos. */
    readonly pipeline: FacePipeline,
    readonly backend: string,
    readonly modelName: string,
    private readonly log?: Logger,
    /** image.maxPixels: frames over it are refused before decoding (a decompression bomb stalls nothing). */
    private readonly decodeLimits: Partial<DecodeLimits> = {},
    private readonly livenessStatus: LivenessStatus = { mode: 'off', burstFrames: 1, burstDurationMs: 0 },
  ) {
    this.thresholdsFor = typeof thresholds === 'function' ? thresholds : () => thresholds;
    this.current = this.thresholdsFor(0);
  }

  private readonly thresholdsFor: (people: number) => Thresholds;
  private current: Thresholds;

  /** The thresholds in force for the gallery as loaded. */
  get thresholds(): Thresholds {
    return this.current;
  }

  liveness(): LivenessStatus {
    return this.livenessStatus;
  }

  /** Decodes the burst for the checks; a corrupt (or oversized) frame is left out and logged, never fatal. */
  private async decodeBurst(burst: Buffer[]): Promise<RgbImage[]> {
    const decoded = await Promise.allSettled(burst.map((bytes) => decodeImage(bytes, this.decodeLimits)));
    const frames = decoded.flatMap((d) => (d.status === 'fulfilled' ? [d.value] : []));
    if (frames.length < burst.length) this.log?.warn({ corrupt: burst.length - frames.length, of: burst.length }, 'corrupt burst frames left out of the liveness check');
    return frames;
  }

  async reload(): Promise<GalleryInfo> {
    const loaded = await this.store.load();
    this.people = loaded.people;
    this.images = loaded.people.reduce((n, p) => n + p.embeddings.length, 0);
    this.current = this.thresholdsFor(this.people.length);
    this.log?.info({ store: this.store.description, identities: this.people.length, images: this.images, computed: loaded.computed, skipped: loaded.skipped.length, thresholds: this.current }, 'gallery loaded');
    return this.galleryInfo();
  }

  private galleryInfo(): GalleryInfo {
    return { identities: this.people.length, images: this.images, model: this.modelName };
  }

  info(): GalleryInfo & { backend: string; healthy: boolean } {
    return { ...this.galleryInfo(), backend: this.backend, healthy: this.healthy };
  }

  async verify(image: Buffer, options: VerifyOptions = {}): Promise<VerifyResult> {
    const checkAbort = () => {
      if (options.signal?.aborted) throw new AbortedError('verification aborted');
    };
    const { detector, aligner, liveness, embedder, matcher } = this.stages;
    const clock = stageClock();
    const frame = await decodeImage(image, this.decodeLimits);
    clock.lap('decode');
    checkAbort();
    const detected = (await detector.detect(frame))[0];
    clock.lap('detect');
    checkAbort();
    const base = { thresholds: this.thresholds, backend: this.backend };
    if (!detected) {
      return { ...base, decision: 'no_face', identity: null, closest: null, fraction: 0, meanScore: 0, perIdentity: [], face: null, reason: 'no face found', liveness: 'not_checked', timings: clock.timings() };
    }
    const face = aligner.align(frame, detected);
    clock.lap('align');
    // The snapshot is a side output: encoded after the stages are timed so it never shows up as a stage.
    const snapshot = async () => (options.wantFaceJpeg ? { faceJpeg: await encodeJpeg(face) } : {});
    // The matcher never sees a face that failed (or skipped, when required) the liveness check.
    let livenessOutcome: LivenessReport = 'not_checked';
    if (liveness.length > 0) {
      const wantsBurst = liveness.some((check) => check.burst !== undefined) && options.burst?.length;
      const burst = wantsBurst ? await this.decodeBurst(options.burst!) : undefined;
      const result = await runLiveness(liveness, { face, box: detected.box, landmarks: detected.landmarks, frame, ...(burst?.length ? { burst } : {}) }, options.signal);
      livenessOutcome = { mode: this.livenessStatus.mode, ...result };
      clock.lap('liveness');
      checkAbort();
      if (!result.passed) {
        const timings = clock.timings();
        return {
          ...base, decision: 'spoof', identity: null, closest: null, fraction: 0, meanScore: 0, perIdentity: [], face: detected.box,
          reason: `liveness (${this.livenessStatus.mode}): ${result.reason ?? 'check failed'}`, liveness: livenessOutcome, ...(await snapshot()), timings,
        };
      }
    }
    const withLiveness = { liveness: livenessOutcome };
    if (this.images === 0) {
      const timings = clock.timings();
      return { ...base, ...decide([], this.thresholds), perIdentity: [], face: detected.box, ...withLiveness, ...(await snapshot()), timings };
    }
    const [probe] = await embedder.embed([face]);
    clock.lap('embed');
    checkAbort();
    const perIdentity = matcher.match(probe!, this.people, this.thresholds);
    const decision = decide(perIdentity, this.thresholds);
    clock.lap('compare');
    const timings = clock.timings();
    return { ...base, ...decision, perIdentity, face: detected.box, ...withLiveness, ...(await snapshot()), timings };
  }

  /**
   * Runs every stage of an attempt once on grey pictures (detector nets on a frame of the camera's size, one
   * tower pass, one head call against the whole gallery), so that the first real attempt does not pay wasm
   * kernel set-up, XNNPACK weight packing and JIT. Leaves no tensors behind. Returns how long it took (ms).
   */
  async warmUp(frame: { width: number; height: number }, detectorRuns = 3): Promise<number> {
    const t0 = performance.now();
    const { detector, aligner, embedder, matcher } = this.stages;
    if (detector.warmUp) await detector.warmUp(frame.width, frame.height, detectorRuns);
    const size = aligner.size;
    const greyFace: RgbImage = { data: new Uint8Array(size * size * 3).fill(128), width: size, height: size };
    const [probe] = await embedder.embed([greyFace]);
    // The gallery's batch shape is the one real attempts use; an empty gallery still warms the head.
    matcher.match(probe!, this.images ? this.people : [{ name: 'warm-up', embeddings: [probe!] }]);
    // A grey picture has no face in it, so what runs only once a face is found (landmarks on it, the crop's
    // warp) stays cold: one enrolled photo, when the store has one, runs the whole attempt path. Best effort.
    const photo = await this.store.samplePhoto?.().catch(() => null);
    if (photo) await this.verify(photo).catch((err: unknown) => this.log?.debug({ err }, 'warm-up photo skipped'));
    const durationMs = Math.round(performance.now() - t0);
    this.log?.info({ durationMs, frame, detectorRuns }, 'verifier warmed up');
    return durationMs;
  }

  async close(): Promise<void> {
    this.healthy = false;
    for (const check of this.stages.liveness) await check.dispose?.();
    this.stages.embedder.dispose();
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
  /** The liveness mode to use instead of resolving settings.liveness against the camera (verify: one image or a --burst). */
  liveness?: LivenessStatus;
  /**
   * Wraps the configured gallery store: the daemon's fleet puts the site gallery in front of it (the site
   * decides about the names it knows, the local store keeps the rest).
   */
  wrapStore?: (store: GalleryStore) => GalleryStore;
}

/** The settings slice the verifier is composed from (structurally part of the config's Settings). */
export interface VerifierSettings extends GalleryStoreSettings {
  model: { dir: string; backend: BackendPreference } & ThresholdSettings;
  vision: VisionSettings;
  liveness: LivenessSettings;
  camera: { driver: string };
  gallery: { dir: string; store: string };
  paths: { data: string; state: string };
  /** Decode limit; the default (25 MP) when absent. */
  image?: { maxPixels: number };
}

/**
 * The liveness checks follow 68 landmarks through a burst; plain BlazeFace gives keypoints only. With liveness
 * on, its twin that also finds face-api's landmarks on each face is used: same boxes and keypoints, so a
 * template crop (the default model's) embeds the same, for ~21 ms more per face. The detector's name differs,
 * so turning liveness on re-embeds the gallery once under its own cache key.
 */
function detectorFor(modelDetector: string | undefined, livenessMode: string): string | undefined {
  return modelDetector === 'blazeface' && livenessMode !== 'off' ? 'blazeface-landmarks68' : modelDetector;
}

/** The composition of the face pipeline: backend, model, detector, aligner, liveness checks, matcher, gallery store. */
export async function createVerifier(settings: VerifierSettings, log?: Logger, overrides: VerifierOverrides = {}): Promise<SiameseVerifier> {
  const backend = await initBackend(settings.model.backend, log);
  const modelDir = overrides.modelDir ?? settings.model.dir;
  const model = await loadSiameseModel(modelDir);
  try {
    const modelFingerprint = await fingerprint(modelDir);
    const thresholds = resolveThresholds(settings.model, model);
    const livenessStatus = overrides.liveness ?? resolveLiveness(settings);
    const detector = await createFaceDetector(settings.vision, { model: { detector: detectorFor(model.metadata.detector, livenessStatus.mode) }, ...(log ? { log } : {}) });
    const stages = modelStages(model, detector, thresholds, await createLivenessChecks(livenessStatus.mode, { settings: settings.liveness, detector }));
    const namespace = embeddingNamespace({ model: modelFingerprint, detector: detector.name, settings: settings.vision, model_metadata: model.metadata });
    const cache = new EmbeddingCache(join(settings.paths.state, 'embeddings'), namespace, model.embeddingSize);
    const limits = settings.image ? { maxPixels: settings.image.maxPixels } : {};
    const pipeline = modelPipeline(model, detector, limits);
    const configured = galleryStoreEntry(settings.gallery.store).create(settings, { pipeline, cache, modelKey: towerKey(model, modelFingerprint), ...(log ? { log } : {}) });
    const store = overrides.wrapStore ? overrides.wrapStore(configured) : configured;
    const modelName = `${model.metadata.tower}@${modelFingerprint.slice(0, 12)}`;
    const verifier = new SiameseVerifier(stages, (people) => resolveThresholds(settings.model, model, people), store, pipeline, backend.name, modelName, log, limits, livenessStatus);
    await verifier.reload();
    if (overrides.warmUp) await verifier.warmUp(overrides.warmUp);
    return verifier;
  } catch (error) {
    model.dispose();
    throw error;
  }
}
