import { resolve } from 'node:path';
import type { Settings } from '../config/index.js';
import type { Logger } from '../log.js';
import type { FaceDetector } from '../face/detect/faces.js';
import { EmbeddingCache, embedFiles, type FileEmbedding } from '../gallery/cache.js';
import type { Pair } from '../gallery/datasets.js';
import {
  bestAccuracy, confusionAt, crossValidatedAccuracy, equalErrorRate, rocAuc, thresholdForFar,
} from './metrics.js';
import type { SiameseModel } from '../model/model.js';
import { canEmbedInWorkers, defaultEmbedWorkers, fillCacheInParallel, MIN_FILES_FOR_WORKERS, uncachedFiles } from '../face/parallel-embed.js';
import { tf } from '../model/tf.js';
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

export function embeddingOf(embeddings: DatasetEmbeddings, file: string): Float32Array | null {
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

// The door test (1:1 and 1:N over these embeddings) lives in door-test.ts.
