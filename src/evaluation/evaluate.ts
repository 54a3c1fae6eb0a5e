import { resolve } from 'node:path';
import type { Settings } from '../config/index.js';
import type { Logger } from '../log.js';
import type { FaceDetector } from '../face/detect/faces.js';
import { EmbeddingCache, embedFiles, type FileEmbedding } from '../gallery/cache.js';
import type { Identity, Pair } from '../gallery/datasets.js';
import {
  bestAccuracy, confusionAt, crossValidatedAccuracy, equalErrorRate, rocAuc, thresholdForFar,
} from './metrics.js';
import type { SiameseModel } from '../model/model.js';
import { canEmbedInWorkers, defaultEmbedWorkers, fillCacheInParallel, MIN_FILES_FOR_WORKERS, uncachedFiles } from '../face/parallel-embed.js';
import { tf } from '../model/tf.js';
import type { Thresholds } from '../core/types.js';
import { decide, scoreIdentities } from '../face/match.js';
import { embeddingNamespace, modelPipeline } from '../face/pipeline.js';

/** Where dataset embeddings are kept between runs (gitignored). */
export const DATASET_CACHE_DIR = '.cache/embeddings';

/** The door's bar: at most one false accept in a thousand. */
export const DOOR_MAX_FAR = 0.001;

export interface DatasetEmbeddings {
  byFile: Map<string, FileEmbedding>;
  /** Files whose image had no detectable face, and files that could not be read. */
  noFace: string[];
  unreadable: string[];
}

/**
 * Embeds every file once through the on-disk cache, keyed by the tower (not the head), so re-evaluating or
 * re-training a head never re-runs the tower.
 */
export async function embedDataset(
  model: SiameseModel,
  detector: FaceDetector,
  towerKey: string,
  vision: Settings['vision'],
  files: string[],
  options: {
    cacheDir?: string;
    log?: Logger;
    onProgress?: (done: number, total: number, computed: number) => void;
    /** Threads that embed uncached files (face-api tower only); 1 = this thread alone. Default min(cores, 4). */
    workers?: number;
  } = {},
): Promise<DatasetEmbeddings> {
  const namespace = embeddingNamespace({ model: towerKey, detector: detector.name, settings: vision, model_metadata: model.metadata });
  const cacheRoot = resolve(options.cacheDir ?? DATASET_CACHE_DIR);
  const cache = new EmbeddingCache(cacheRoot, namespace, model.embeddingSize);
  const unique = [...new Set(files)];
  const workers = options.workers ?? defaultEmbedWorkers();
  let computedByWorkers = new Set<string>();
  let computed = 0;
  if (workers > 1 && canEmbedInWorkers(model.metadata)) {
    const missing = uncachedFiles(unique, cache);
    if (missing.length >= MIN_FILES_FOR_WORKERS) {
      const alreadyCached = unique.length - missing.length;
      options.log?.info({ files: missing.length, workers }, 'embedding uncached files in worker threads');
      const job = { backend: tf.getBackend(), vision, detectorName: detector.name, metadata: model.metadata, cacheRoot, namespace, embeddingSize: model.embeddingSize, batchSize: 16 };
      await fillCacheInParallel(missing, job, workers, (done, made) => {
        computed = made;
        options.onProgress?.(alreadyCached + done, unique.length, made);
      });
      computedByWorkers = new Set(missing);
    }
  }
  // Reads back what the workers wrote (and computes whatever they could not, e.g. to log unreadable files).
  const results = await embedFiles(unique, modelPipeline(model, detector), cache, {
    batchSize: 16,
    ...(options.log ? { log: options.log } : {}),
    ...(options.onProgress && computedByWorkers.size === 0 ? { onProgress: options.onProgress } : {}),
  });
  if (computedByWorkers.size > 0) {
    for (const r of results) if (r.kind !== 'error' && computedByWorkers.has(r.file)) r.cached = false;
    options.onProgress?.(unique.length, unique.length, computed);
  }
  return {
    byFile: new Map(results.map((r) => [r.file, r])),
    noFace: results.filter((r) => r.kind === 'no_face').map((r) => r.file),
    unreadable: results.filter((r) => r.kind === 'error').map((r) => r.file),
  };
}

function embeddingOf(embeddings: DatasetEmbeddings, file: string): Float32Array | null {
  const entry = embeddings.byFile.get(file);
  return entry?.kind === 'embedding' ? entry.embedding : null;
}

export interface PairScores {
  /** Head score per scored pair (both faces found). */
  scores: Float32Array;
  labels: boolean[];
  pairs: Pair[];
  /** Pairs not scored because one of the images has no face or cannot be read. */
  skipped: Pair[];
}

/** Scores pairs with the model's head, grouping by the first image so each group is one batched head call. */
export function scoreDatasetPairs(model: SiameseModel, pairs: Pair[], embeddings: DatasetEmbeddings): PairScores {
  const scored: Pair[] = [];
  const skipped: Pair[] = [];
  const groups = new Map<string, Pair[]>();
  for (const pair of pairs) {
    if (!embeddingOf(embeddings, pair.a) || !embeddingOf(embeddings, pair.b)) {
      skipped.push(pair);
      continue;
    }
    const group = groups.get(pair.a) ?? [];
    group.push(pair);
    groups.set(pair.a, group);
  }
  const scores: number[] = [];
  for (const [file, group] of groups) {
    const result = model.scorePairs(embeddingOf(embeddings, file)!, group.map((p) => embeddingOf(embeddings, p.b)!));
    group.forEach((pair, i) => {
      scored.push(pair);
      scores.push(result[i]!);
    });
  }
  return { scores: Float32Array.from(scores), labels: scored.map((p) => p.same), pairs: scored, skipped };
}

export interface PairMetrics {
  pairs: number;
  genuine: number;
  impostor: number;
  /** LFW protocol: 10-fold cross-validated threshold, so no pair is judged by a threshold fitted on it. */
  accuracy: number;
  accuracy_std: number;
  /** At the detection threshold the door uses. */
  detection_threshold: number;
  accuracy_at_detection_threshold: number;
  precision: number;
  recall: number;
  far: number;
  frr: number;
  /** Optimistic: the threshold is chosen on the very pairs it is scored on. */
  best_accuracy: number;
  best_threshold: number;
  eer: number;
  eer_threshold: number;
  auc: number;
  /** The most lenient pair threshold with FAR <= 0.1 %, and the FRR there. */
  threshold: number;
  frr_at_threshold: number;
}

export function pairMetrics(scores: ArrayLike<number>, labels: boolean[], detectionThreshold: number): PairMetrics {
  const atDoor = confusionAt(scores, labels, detectionThreshold);
  const cv = crossValidatedAccuracy(scores, labels, 10);
  const best = bestAccuracy(scores, labels);
  const eer = equalErrorRate(scores, labels);
  const threshold = thresholdForFar(scores, labels, DOOR_MAX_FAR);
  const genuine = labels.filter(Boolean).length;
  return {
    pairs: labels.length,
    genuine,
    impostor: labels.length - genuine,
    accuracy: cv.accuracy,
    accuracy_std: cv.std,
    detection_threshold: detectionThreshold,
    accuracy_at_detection_threshold: atDoor.accuracy,
    precision: atDoor.precision,
    recall: atDoor.recall,
    far: atDoor.far,
    frr: atDoor.frr,
    best_accuracy: best.accuracy,
    best_threshold: best.threshold,
    eer: eer.eer,
    eer_threshold: eer.threshold,
    auc: rocAuc(scores, labels),
    threshold,
    frr_at_threshold: confusionAt(scores, labels, threshold).frr,
  };
}

/** The per-pair scores and the thresholds worth marking, for ROC curves and histograms (src/evaluation/plot/roc.ts). */
export function plotData(scored: PairScores, metrics: PairMetrics): { scores: Float32Array; labels: boolean[]; thresholds: Array<{ name: string; value: number }> } {
  return {
    scores: scored.scores,
    labels: scored.labels,
    thresholds: [
      { name: 'detection (door)', value: metrics.detection_threshold },
      { name: 'FAR <= 0.1 %', value: metrics.threshold },
      { name: 'EER', value: metrics.eer_threshold },
    ],
  };
}

/** One probe attempt of the door test: the verifier's decision logic over the probe's scores. */
interface Attempt {
  truth: string | null;
  people: Array<{ name: string; scores: Float32Array }>;
}

export interface GalleryTestOptions {
  /** Images enrolled per person; people need at least one more to be probed. */
  enrolImages: number;
  verification: number;
  /** The detection threshold to report the door at (the model's), besides the calibrated one. */
  detection: number;
  maxFar?: number;
}

export interface DoorRates {
  far: number;
  frr: number;
}

export interface GalleryTestResult {
  enrolled: number;
  /** Per-person claims (1:1): a person's own held-back images... */
  genuine_attempts: number;
  /** ...and every image of everyone else, each tried against that person. */
  impostor_attempts: number;
  /** Detection threshold at which the per-person FAR is <= maxFar (verification threshold fixed). */
  detection_threshold_for_far: number;
  gallery_far: number;
  gallery_frr: number;
  at_model_thresholds: DoorRates & { detection: number; verification: number };
  /**
   * The whole gallery at once (1:N, what a door with `enrolled` people does): an impostor gets in when ANY
   * person matches, so its FAR grows with the number of people enrolled. Impostors here are people not enrolled.
   */
  one_to_n: DoorRates & { impostor_attempts: number; detection_threshold_for_far: number; misidentified: number; at_model_thresholds: DoorRates & { misidentified: number } };
}

function doorOutcome(attempt: Attempt, thresholds: Thresholds): 'accepted' | 'rejected' | 'wrong_person' {
  const ids = scoreIdentities(attempt.people.map((p) => ({ name: p.name, embeddings: p.scores })), concatScores(attempt), thresholds);
  const result = decide(ids, thresholds);
  if (result.decision !== 'granted') return 'rejected';
  return result.identity === attempt.truth ? 'accepted' : 'wrong_person';
}

function concatScores(attempt: Attempt): Float32Array {
  const total = attempt.people.reduce((n, p) => n + p.scores.length, 0);
  const out = new Float32Array(total);
  let offset = 0;
  for (const p of attempt.people) {
    out.set(p.scores, offset);
    offset += p.scores.length;
  }
  return out;
}

/**
 * A person is verified at detection threshold t when more than `verification` of their n images score above
 * t, i.e. when their k-th best score is above t (k = floor(verification * n) + 1). So each claim reduces to
 * one number, and the threshold for a FAR bar is a quantile of the impostor claims' numbers.
 */
function kthBest(scores: Float32Array, verification: number): number {
  const k = Math.floor(verification * scores.length + 1e-9) + 1;
  if (k > scores.length) return -Infinity;
  return [...scores].sort((a, b) => b - a)[k - 1]!;
}

function ratesAt(genuine: number[], impostor: number[], t: number): DoorRates {
  return {
    far: impostor.length ? impostor.filter((v) => v > t).length / impostor.length : 0,
    frr: genuine.length ? genuine.filter((v) => v <= t).length / genuine.length : 0,
  };
}

/**
 * The door test: enrol `enrolImages` images of everyone who has more; probe each person with their other
 * images (genuine) and with everyone else's images (impostors); report the FRR at the detection threshold that
 * keeps the FAR <= 0.1 % (gallery_frr). Each probe image costs one batched head call against the whole
 * gallery, exactly like the verifier. The 1:N door over all enrolled people is reported beside it.
 */
export function galleryTest(model: SiameseModel, identities: Identity[], embeddings: DatasetEmbeddings, options: GalleryTestOptions): GalleryTestResult {
  const maxFar = options.maxFar ?? DOOR_MAX_FAR;
  const v = options.verification;
  const enrolled: Array<{ name: string; refs: Float32Array[]; probes: Float32Array[] }> = [];
  const outsiders: Float32Array[] = [];
  const everyone: Array<{ name: string; images: Float32Array[] }> = [];
  for (const identity of identities) {
    const usable = identity.images.map((f) => embeddingOf(embeddings, f)).filter((e): e is Float32Array => e !== null);
    everyone.push({ name: identity.name, images: usable });
    if (usable.length > options.enrolImages) {
      enrolled.push({ name: identity.name, refs: usable.slice(0, options.enrolImages), probes: usable.slice(options.enrolImages) });
    } else {
      outsiders.push(...usable);
    }
  }
  if (enrolled.length === 0) throw new Error(`door test: nobody has more than ${options.enrolImages} usable images`);
  const refs = enrolled.flatMap((p) => p.refs);
  const scoresByPerson = (probe: Float32Array): Float32Array[] => {
    const scores = model.scorePairs(probe, refs);
    let offset = 0;
    return enrolled.map((p) => {
      const slice = scores.subarray(offset, offset + p.refs.length);
      offset += p.refs.length;
      return slice;
    });
  };

  // Per person (1:1 claims).
  const genuine: number[] = [];
  const impostor: number[] = [];
  const genuineAttempts: Attempt[] = [];
  const outsiderAttempts: Attempt[] = [];
  for (const owner of everyone) {
    const own = enrolled.findIndex((p) => p.name === owner.name);
    const probes = own >= 0 ? enrolled[own]!.probes : owner.images;
    for (const image of own >= 0 ? [...enrolled[own]!.refs, ...probes] : probes) {
      const isProbe = own < 0 || probes.includes(image);
      const perPerson = scoresByPerson(image);
      perPerson.forEach((scores, i) => {
        if (i === own) {
          if (isProbe) genuine.push(kthBest(scores, v));
        } else {
          impostor.push(kthBest(scores, v));
        }
      });
      const attempt = { truth: own >= 0 ? owner.name : null, people: enrolled.map((p, i) => ({ name: p.name, scores: perPerson[i]! })) };
      if (own < 0) outsiderAttempts.push(attempt);
      else if (isProbe) genuineAttempts.push(attempt);
    }
  }
  const detection = thresholdForFar(impostor, impostor.map(() => false), maxFar);

  // The whole gallery (1:N): outsiders against everyone; genuine probes must be granted as themselves.
  const oneToN = (thresholds: Thresholds) => {
    let accepted = 0, wrong = 0, falseAccepts = 0;
    for (const attempt of genuineAttempts) {
      const outcome = doorOutcome(attempt, thresholds);
      if (outcome === 'accepted') accepted++;
      else if (outcome === 'wrong_person') wrong++;
    }
    for (const attempt of outsiderAttempts) if (doorOutcome(attempt, thresholds) !== 'rejected') falseAccepts++;
    return {
      far: outsiderAttempts.length ? falseAccepts / outsiderAttempts.length : 0,
      frr: genuineAttempts.length ? (genuineAttempts.length - accepted) / genuineAttempts.length : 0,
      misidentified: wrong,
    };
  };
  const outsiderScores = outsiderAttempts.map((a) => Math.max(...a.people.map((p) => kthBest(p.scores, v))));
  const detectionOneToN = outsiderScores.length ? thresholdForFar(outsiderScores, outsiderScores.map(() => false), maxFar) : options.detection;
  const calibrated = ratesAt(genuine, impostor, detection);
  return {
    enrolled: enrolled.length,
    genuine_attempts: genuine.length,
    impostor_attempts: impostor.length,
    detection_threshold_for_far: detection,
    gallery_far: calibrated.far,
    gallery_frr: calibrated.frr,
    at_model_thresholds: { detection: options.detection, verification: v, ...ratesAt(genuine, impostor, options.detection) },
    one_to_n: {
      impostor_attempts: outsiderAttempts.length,
      detection_threshold_for_far: detectionOneToN,
      ...oneToN({ detection: detectionOneToN, verification: v }),
      at_model_thresholds: oneToN({ detection: options.detection, verification: v }),
    },
  };
}
