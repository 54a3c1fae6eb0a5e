import { resolve } from 'node:path';
import type { Settings } from '../config.js';
import type { Logger } from '../log.js';
import type { FaceDetector } from '../vision/faces.js';
import { EmbeddingCache, embedFiles, type FileEmbedding } from './cache.js';
import type { Identity, Pair } from './datasets.js';
import {
  bestAccuracy, confusionAt, crossValidatedAccuracy, equalErrorRate, rocAuc, thresholdForFar,
} from './metrics.js';
import type { SiameseModel } from './model.js';
import type { Thresholds } from './types.js';
import { decide, embeddingNamespace, modelPipeline, scoreIdentities } from './verifier.js';

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
  options: { cacheDir?: string; log?: Logger; onProgress?: (done: number, total: number, computed: number) => void } = {},
): Promise<DatasetEmbeddings> {
  const namespace = embeddingNamespace({ model: towerKey, detector: detector.name, settings: vision, model_metadata: model.metadata });
  const cache = new EmbeddingCache(resolve(options.cacheDir ?? DATASET_CACHE_DIR), namespace, model.embeddingSize);
  const unique = [...new Set(files)];
  const results = await embedFiles(unique, modelPipeline(model, detector), cache, {
    batchSize: 16,
    ...(options.log ? { log: options.log } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
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

/** The per-pair scores and the thresholds worth marking, for ROC curves and histograms (src/plot/roc.ts). */
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

export interface GalleryTestResult {
  enrolled: number;
  genuine_attempts: number;
  impostor_attempts: number;
  /** Detection threshold at which the door's FAR over impostor attempts is <= maxFar (verification fixed). */
  detection_threshold_for_far: number;
  gallery_far: number;
  gallery_frr: number;
  misidentified: number;
  /** The same door at the model's own thresholds. */
  at_model_thresholds: { detection: number; verification: number; far: number; frr: number; misidentified: number };
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
 * The door test: enrol `enrolImages` images of everyone who has more, probe with their other images (genuine)
 * and with every image of people not enrolled (impostors). Each probe costs one batched head call, exactly
 * like the verifier. Reports the FRR at the detection threshold that keeps the door's FAR <= 0.1 %.
 */
export function galleryTest(model: SiameseModel, identities: Identity[], embeddings: DatasetEmbeddings, options: GalleryTestOptions): GalleryTestResult {
  const maxFar = options.maxFar ?? DOOR_MAX_FAR;
  const enrolled: Array<{ name: string; refs: Float32Array[]; probes: Float32Array[] }> = [];
  const impostorProbes: Float32Array[] = [];
  for (const identity of identities) {
    const usable = identity.images.map((f) => embeddingOf(embeddings, f)).filter((e): e is Float32Array => e !== null);
    if (usable.length > options.enrolImages) {
      enrolled.push({ name: identity.name, refs: usable.slice(0, options.enrolImages), probes: usable.slice(options.enrolImages) });
    } else {
      impostorProbes.push(...usable);
    }
  }
  if (enrolled.length === 0) throw new Error(`door test: nobody has more than ${options.enrolImages} usable images`);
  const refs = enrolled.flatMap((p) => p.refs);
  const attemptFor = (probe: Float32Array, truth: string | null): Attempt => {
    const scores = model.scorePairs(probe, refs);
    let offset = 0;
    return {
      truth,
      people: enrolled.map((p) => {
        const slice = scores.subarray(offset, offset + p.refs.length);
        offset += p.refs.length;
        return { name: p.name, scores: slice };
      }),
    };
  };
  const genuine = enrolled.flatMap((p) => p.probes.map((probe) => attemptFor(probe, p.name)));
  const impostors = impostorProbes.map((probe) => attemptFor(probe, null));

  // An impostor gets in at detection threshold t when some person has more than `verification` of their
  // images above t, i.e. when that person's k-th best score is above t. So the door's impostor score is the
  // highest k-th best score over people, and the FAR threshold is a quantile of those.
  const kthBest = (scores: Float32Array) => {
    const k = Math.floor(options.verification * scores.length + 1e-9) + 1;
    if (k > scores.length) return -Infinity;
    return [...scores].sort((a, b) => b - a)[k - 1]!;
  };
  const impostorDoorScores = impostors.map((a) => Math.max(...a.people.map((p) => kthBest(p.scores))));
  const detection = impostorDoorScores.length
    ? thresholdForFar(impostorDoorScores, impostorDoorScores.map(() => false), maxFar)
    : options.detection;

  const door = (thresholds: Thresholds) => {
    let accepted = 0, wrong = 0, falseAccepts = 0;
    for (const attempt of genuine) {
      const outcome = doorOutcome(attempt, thresholds);
      if (outcome === 'accepted') accepted++;
      else if (outcome === 'wrong_person') wrong++;
    }
    for (const attempt of impostors) if (doorOutcome(attempt, thresholds) !== 'rejected') falseAccepts++;
    return {
      far: impostors.length ? falseAccepts / impostors.length : 0,
      frr: genuine.length ? (genuine.length - accepted) / genuine.length : 0,
      misidentified: wrong,
    };
  };
  const calibrated = door({ detection, verification: options.verification });
  const atModel = door({ detection: options.detection, verification: options.verification });
  return {
    enrolled: enrolled.length,
    genuine_attempts: genuine.length,
    impostor_attempts: impostors.length,
    detection_threshold_for_far: detection,
    gallery_far: calibrated.far,
    gallery_frr: calibrated.frr,
    misidentified: calibrated.misidentified,
    at_model_thresholds: { detection: options.detection, verification: options.verification, ...atModel },
  };
}
