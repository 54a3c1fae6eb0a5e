import { resolve } from 'node:path';
import type { Settings } from '../config/index.js';
import type { Logger } from '../log.js';
import { createFaceDetector, type FaceDetector } from '../face/detect/faces.js';
import type { RgbImage } from '../image/image.js';
import { sha256 } from '../gallery/cache.js';
import { saveLayersModel, saveSiameseModel } from '../model/io.js';
import { seedDefaults, towerDefaults } from '../model/metadata.js';
import { confusionAt, rocAuc } from '../evaluation/metrics.js';
import { buildHead, buildSeedSiamese, seedSiameseModel, SiameseModel, type HeadPair } from '../model/model.js';
import { tf } from '../model/tf.js';
import { isSeedVariant, type SeedVariant } from '../model/towers.js';
import { towerKind, type TowerId } from '../model/tower-registry.js';
import {
  EmbeddingPairs, fitPairs, ImagePairs, predictPairs, readCheckpoint, seedWeights, writeCheckpoint,
  type BatchReport, type EpochReport, type PairData,
} from './train.js';
import { identityPairs, seedWayPairs, type DataProgress, type IdentityData, type PreparedPairs, type SeedWayData } from './train-data.js';
import { modelPipeline } from '../face/pipeline.js';

/**
 * The whole `facegate train` run: data -> pairs -> training -> held-out numbers -> model folder. Two ways of
 * training share it: a face-api head on cached embeddings (seconds), and a seed tower end to end on face crops
 * (hours, so it checkpoints, resumes and stops cleanly on a signal). The command only parses flags and shows
 * progress; everything here is callable from scripts too.
 */

export interface TrainRequest {
  out: string;
  tower: TowerId;
  data: SeedWayData | IdentityData;
  epochs: number;
  batchSize: number;
  learningRate: number;
  split: number;
  seed: number;
  checkpointEvery: number;
  resume: boolean;
  detect: boolean;
}

export interface TrainSummary {
  out: string;
  tower: TowerId;
  backend: string;
  trainPairs: number;
  heldOutPairs: number;
  /** Images dropped because no face was found or they could not be read. */
  skippedImages: number;
  epochsDone: number;
  stopped: boolean;
  finalLoss: number | null;
  /** The seed's metrics on the held-out pairs at the detection threshold, and the threshold-free AUC. */
  heldOut: { precision: number; recall: number; accuracy: number; auc: number } | null;
  thresholds: { detection: number; verification: number };
  seconds: number;
  checkpoint: string | null;
}

/** Everything the run reports while it works; the command draws it as a bar or plain lines. */
export interface TrainProgress extends DataProgress {
  batch(report: BatchReport, epochs: number): void;
  epoch(report: EpochReport): void;
}

export interface TrainContext {
  log: Logger;
  signal?: AbortSignal;
  progress: TrainProgress;
}

interface FitOutcome {
  epochsDone: number;
  history: EpochReport[];
  stopped: boolean;
}

/** Thrown from the head's epoch callback to end trainHead early when the signal fires. */
class StopTraining extends Error {}

function buildModel(tower: TowerId, seed: number): Promise<SiameseModel> | SiameseModel {
  const load = towerKind(tower).load;
  if (load) {
    const metadata = towerDefaults(tower);
    return load().then((t) => new SiameseModel(t, buildHead(metadata.embeddingSize, { seed }), metadata));
  }
  if (!isSeedVariant(tower)) throw new Error(`tower ${tower} is neither pretrained nor a seed tower`);
  const full = buildSeedSiamese(tower);
  seedWeights(full, seed);
  return seedSiameseModel(full, tower, seedDefaults({ tower, training: {}, created: new Date().toISOString() }));
}

/** A detector made on first use: seed-way training on collect crops never needs face-api. */
function lazyDetector(settings: Settings, log: Logger): FaceDetector {
  let detector: Promise<FaceDetector> | null = null;
  return {
    name: settings.vision.detector,
    detect: async (img) => (await (detector ??= createFaceDetector(settings.vision, { log }))).detect(img),
  };
}

/** The whole `facegate train` run; also what scripts call to train programmatically. */
export async function trainSiamese(req: TrainRequest, settings: Settings, ctx: TrainContext): Promise<TrainSummary> {
  const started = Date.now();
  const ui = ctx.progress;
  let model = await buildModel(req.tower, req.seed);
  const head = towerKind(req.tower).load !== undefined;
  const detector = head && req.data.kind === 'identities' ? await createFaceDetector(settings.vision, { log: ctx.log }) : lazyDetector(settings, ctx.log);
  const prepared =
    req.data.kind === 'seed'
      ? await seedWayPairs(req.data, req, modelPipeline(model, detector), ui, ctx.log)
      : await identityPairs(req.data, req, model, detector, settings, ui, ctx.log);
  if (prepared.train.length === 0 || prepared.heldOut.length === 0) throw new Error('not enough pairs to train and hold some out; add images or change --split');
  const items = head && !(prepared.items[0] instanceof Float32Array) ? await model.embed(prepared.items as RgbImage[]) : prepared.items;
  const runKey = sha256(JSON.stringify({ tower: req.tower, data: req.data, split: req.split, seed: req.seed, batch: req.batchSize, lr: req.learningRate, detect: req.detect, files: prepared.fingerprint })).slice(0, 16);
  ui.phase(`${prepared.train.length} training pairs, ${prepared.heldOut.length} held out; ${prepared.skipped} images skipped (no face or unreadable); ${req.tower} tower on ${tf.getBackend()}`);

  const checkpointDir = `${resolve(req.out)}.checkpoint`;
  let checkpointed = false;
  let result: FitOutcome;
  let pairData: PairData;
  if (head) {
    pairData = new EmbeddingPairs(items as Float32Array[], prepared.pairs, prepared.labels);
    result = await fitHead(model, pairData, items as Float32Array[], prepared, req, ui, ctx.signal);
  } else {
    const seed = await fitSeedTower(model, items as RgbImage[], prepared, req, { runKey, checkpointDir, ui, ...(ctx.signal ? { signal: ctx.signal } : {}) });
    ({ model, pairData, result, checkpointed } = seed);
  }

  let heldOut: TrainSummary['heldOut'] = null;
  const thresholds = { detection: 0.5, verification: 0.5 }; // the seed's verify(model, 0.5, 0.5); calibrate with facegate evaluate
  if (!result.stopped) {
    const scores = predictPairs(model.full ?? model.head, pairData, prepared.heldOut, head ? 256 : 16);
    const truth = labelsOf(prepared, prepared.heldOut);
    const c = confusionAt(scores, truth, thresholds.detection);
    heldOut = { precision: c.precision, recall: c.recall, accuracy: c.accuracy, auc: rocAuc(scores, truth) };
  }
  const summary: TrainSummary = {
    out: resolve(req.out), tower: req.tower, backend: tf.getBackend(), trainPairs: prepared.train.length, heldOutPairs: prepared.heldOut.length,
    skippedImages: prepared.skipped, epochsDone: result.epochsDone, stopped: result.stopped, finalLoss: result.history.at(-1)?.loss ?? null,
    heldOut, thresholds, seconds: Math.round((Date.now() - started) / 100) / 10, checkpoint: head ? null : checkpointDir,
  };
  // Interrupted with a checkpoint on disk: <out> already holds that checkpoint's model; keep it as it is.
  // Interrupted before any checkpoint: save what there is, so the hours spent are not lost.
  if (!(result.stopped && checkpointed)) {
    await saveSiameseModel(req.out, model, { thresholds, training: { ...trainingInfo(req, result.history, heldOut), runKey } });
  }
  model.dispose();
  return summary;
}

function labelsOf(prepared: PreparedPairs<unknown>, indices: number[]): boolean[] {
  return indices.map((i) => prepared.labels[i] === 1);
}

/** The face-api head on embeddings: trainHead's whole-epoch loop, with the seed's precision/recall per epoch. */
async function fitHead(model: SiameseModel, pairData: PairData, embeddings: Float32Array[], prepared: PreparedPairs<unknown>, req: TrainRequest, ui: TrainProgress, signal: AbortSignal | undefined): Promise<FitOutcome> {
  const headPairs: HeadPair[] = prepared.train.map((i) => ({ a: embeddings[prepared.pairs[i]![0]]!, b: embeddings[prepared.pairs[i]![1]]!, label: prepared.labels[i] === 1 ? 1 : 0 }));
  const history: EpochReport[] = [];
  let last = Date.now();
  let stopped = false;
  try {
    await model.trainHead(headPairs, {
      epochs: req.epochs, batchSize: req.batchSize, learningRate: req.learningRate, seed: req.seed,
      onEpoch: (epoch, loss) => {
        const c = confusionAt(predictPairs(model.head, pairData, prepared.train, 256), labelsOf(prepared, prepared.train), 0.5);
        const report = { epoch: epoch + 1, epochs: req.epochs, loss, precision: c.precision, recall: c.recall, seconds: (Date.now() - last) / 1000 };
        last = Date.now();
        history.push(report);
        ui.epoch(report);
        if (signal?.aborted) throw new StopTraining();
      },
    });
  } catch (error) {
    if (!(error instanceof StopTraining)) throw error;
    stopped = true;
  }
  return { epochsDone: history.length, history, stopped };
}

interface SeedRun {
  runKey: string;
  checkpointDir: string;
  ui: TrainProgress;
  signal?: AbortSignal;
}

/**
 * A seed tower end to end on face crops, batch by batch. Each checkpoint also rewrites <out>, so a stopped or
 * killed run always leaves a usable model. On --resume the model is replaced by the checkpoint's, hence returned.
 */
async function fitSeedTower(model: SiameseModel, faces: RgbImage[], prepared: PreparedPairs<unknown>, req: TrainRequest, run: SeedRun): Promise<{ model: SiameseModel; pairData: PairData; result: FitOutcome; checkpointed: boolean }> {
  let checkpointed = false;
  let resumeFrom: Parameters<typeof fitPairs>[3]['resumeFrom'];
  if (req.resume) {
    const restored = await readCheckpoint(run.checkpointDir, run.runKey);
    model.dispose();
    model = seedSiameseModel(restored.model, req.tower as SeedVariant, model.metadata);
    resumeFrom = restored.state;
    checkpointed = true; // <out> and the checkpoint already hold a consistent model; a stop keeps them
    run.ui.phase(`resuming from ${run.checkpointDir} after epoch ${restored.state.epochsDone}`);
  }
  const trained = model.full!;
  const pairData = new ImagePairs(faces.map((f) => f.data), prepared.pairs, prepared.labels, model.metadata.inputSize);
  const result = await fitPairs(trained, pairData, prepared.train, {
    epochs: req.epochs, batchSize: req.batchSize, learningRate: req.learningRate, seed: req.seed, checkpointEvery: req.checkpointEvery,
    ...(resumeFrom ? { resumeFrom } : {}),
    ...(run.signal ? { signal: run.signal } : {}),
    onBatch: (report) => run.ui.batch(report, req.epochs),
    onEpoch: (report) => run.ui.epoch(report),
    checkpoint: async (state, optimizer) => {
      const metadata = { ...model.metadata, training: { ...trainingInfo(req, state.history, null), runKey: run.runKey }, created: new Date().toISOString() };
      await writeCheckpoint(run.checkpointDir, trained, metadata, optimizer, { ...state, runKey: run.runKey });
      await saveLayersModel(req.out, trained, metadata);
      checkpointed = true;
    },
  });
  return { model, pairData, result, checkpointed };
}

/** Provenance written into the model's metadata, so a model folder says how it was made. */
function trainingInfo(req: TrainRequest, history: EpochReport[], heldOut: TrainSummary['heldOut']): Record<string, unknown> {
  return {
    command: 'facegate train',
    data: req.data,
    split: req.split,
    seed: req.seed,
    epochs: history.length,
    batchSize: req.batchSize,
    learningRate: req.learningRate,
    optimizer: 'adam',
    loss: 'binary cross-entropy',
    losses: history.map((h) => Number(h.loss.toFixed(6))),
    heldOut,
  };
}
