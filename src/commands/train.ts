import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import cliProgress from 'cli-progress';
import { loadConfig, type Settings } from '../config.js';
import { createLogger, type Logger } from '../log.js';
import { augmentAll } from '../siamese/augment.js';
import { initBackend, type BackendPreference } from '../siamese/backend.js';
import { isFaceCropFile, sha256, type FacePipeline } from '../siamese/cache.js';
import { isImageFile, listIdentities, makePairs, seededRandom, shuffle, splitIdentities } from '../siamese/datasets.js';
import { DATASET_CACHE_DIR, embedDataset } from '../siamese/evaluate.js';
import { saveLayersModel, saveSiameseModel } from '../siamese/io.js';
import { seedDefaults, type FacegateMetadata } from '../siamese/metadata.js';
import { confusionAt, rocAuc } from '../siamese/metrics.js';
import { buildHead, buildSeedSiamese, seedSiameseModel, SiameseModel, type HeadPair } from '../siamese/model.js';
import { tf } from '../siamese/tf.js';
import { createFaceApiTower, TOWER_IDS, type SeedVariant, type TowerId } from '../siamese/towers.js';
import {
  EmbeddingPairs, fitPairs, ImagePairs, predictPairs, readCheckpoint, seedWeights, writeCheckpoint,
  type BatchReport, type EpochReport, type PairData,
} from '../siamese/train.js';
import { modelPipeline, towerKey } from '../siamese/verifier.js';
import { createFaceDetector, type FaceDetector } from '../vision/faces.js';
import type { RgbImage } from '../vision/image.js';

const USAGE = `usage: facegate train --out DIR [--tower seed|seed-pool2|faceapi-resnet128] (seed way | identities) [options]
Seed way (the tutorial's data): pairs (anchor, positive) = 1 and (anchor, negative) = 0
  --anchor DIR --positive DIR --negative DIR   e.g. data/anchor, data/positive (facegate collect), ../shared/datasets/lfw-dev
  --per-class N        pairs of each label at most (default 300, the seed's take(300))
  --augment N          augmented variants per anchor/positive image (default 9, the seed's; 0 = none)
Identities: --dataset DIR   folders of people (e.g. ../shared/datasets/lfw-dev) -> seeded balanced pairs
  --per-class N        genuine pairs per person at most (default 20), as many impostor pairs
Common:
  --tower T            seed (faithful, pool 64) | seed-pool2 (2x2 pools) train end to end;
                       faceapi-resnet128 (default) trains only the head on cached embeddings (seconds)
  --epochs N           default 50 (seed towers) / 60 (head)
  --batch N            default 16 (seed towers) / 64 (head)
  --learning-rate F    Adam learning rate, default 1e-4 (seed towers, the seed's) / 0.01 (head)
  --split F            fraction of pairs (seed way) or people (identities) to train on, default 0.7; the rest is held out
  --seed N             seeds everything: split, pairs, augmentation, initial weights, batch order (default 1)
  --checkpoint-every N epochs between checkpoints (default 10); --resume continues from <out>.checkpoint
  --no-detect          images are face crops already (collect's *.crop.jpg are always taken as crops)
  --config FILE and settings flags (--detector, --backend, ...)
Ctrl-C stops after the current batch and writes a checkpoint; <out> then holds a usable model.`;

const OWN_OPTIONS = {
  out: { type: 'string' },
  tower: { type: 'string' },
  anchor: { type: 'string' },
  positive: { type: 'string' },
  negative: { type: 'string' },
  dataset: { type: 'string' },
  'per-class': { type: 'string' },
  augment: { type: 'string' },
  epochs: { type: 'string' },
  batch: { type: 'string' },
  'learning-rate': { type: 'string' },
  split: { type: 'string' },
  seed: { type: 'string' },
  'checkpoint-every': { type: 'string' },
  resume: { type: 'boolean' },
  'no-detect': { type: 'boolean' },
  config: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

class UsageError extends Error {}

function splitArgs(argv: string[]) {
  const { values, tokens } = parseArgs({ args: argv, options: OWN_OPTIONS, strict: false, allowPositionals: true, tokens: true });
  const rest: string[] = [];
  for (const token of tokens) {
    if (token.kind === 'option' && !(token.name in OWN_OPTIONS)) {
      rest.push(token.rawName);
      if (token.value !== undefined) rest.push(token.value);
    } else if (token.kind === 'positional') {
      rest.push(token.value);
    }
  }
  return { values: values as Partial<Record<keyof typeof OWN_OPTIONS, string | boolean>>, rest };
}

function numberOption(value: unknown, name: string, fallback: number, check: (n: number) => boolean, rule: string): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (typeof value !== 'string' || value.trim() === '' || !check(n)) throw new UsageError(`--${name} must be ${rule}, got "${String(value)}"`);
  return n;
}

const isCount = (n: number) => Number.isInteger(n) && n >= 1;

/** Turns flags into a checked request; every mistake is a UsageError naming the flag. */
export function parseTrainRequest(values: ReturnType<typeof splitArgs>['values']): TrainRequest {
  const str = (k: keyof typeof OWN_OPTIONS) => (typeof values[k] === 'string' ? (values[k] as string) : undefined);
  const out = str('out');
  if (!out) throw new UsageError('--out DIR is required (the model folder to write)');
  const tower = (str('tower') ?? 'faceapi-resnet128') as TowerId;
  if (!TOWER_IDS.includes(tower)) throw new UsageError(`--tower must be one of ${TOWER_IDS.join(', ')}, got "${tower}"`);
  const head = tower === 'faceapi-resnet128';
  if (head && values.resume === true) throw new UsageError('--resume is for seed towers; the face-api head retrains from scratch in about a minute');
  const seedWay = [str('anchor'), str('positive'), str('negative')];
  const dataset = str('dataset');
  if (dataset && seedWay.some(Boolean)) throw new UsageError('give either --dataset or --anchor/--positive/--negative, not both');
  if (!dataset && !seedWay.every(Boolean)) throw new UsageError('give --anchor, --positive and --negative (the seed way) or --dataset DIR');
  const data: TrainRequest['data'] = dataset
    ? { kind: 'identities', dir: dataset, pairsPerClass: numberOption(values['per-class'], 'per-class', 20, isCount, 'a whole number >= 1') }
    : {
        kind: 'seed',
        anchor: seedWay[0]!,
        positive: seedWay[1]!,
        negative: seedWay[2]!,
        perClass: numberOption(values['per-class'], 'per-class', 300, isCount, 'a whole number >= 1'),
        augment: numberOption(values.augment, 'augment', 9, (n) => Number.isInteger(n) && n >= 0 && n <= 50, 'a whole number from 0 to 50'),
      };
  return {
    out,
    tower,
    data,
    epochs: numberOption(values.epochs, 'epochs', head ? 60 : 50, isCount, 'a whole number >= 1'),
    batchSize: numberOption(values.batch, 'batch', head ? 64 : 16, isCount, 'a whole number >= 1'),
    learningRate: numberOption(values['learning-rate'], 'learning-rate', head ? 0.01 : 1e-4, (n) => n > 0 && n < 10, 'a number above 0'),
    split: numberOption(values.split, 'split', 0.7, (n) => n > 0 && n < 1, 'a fraction between 0 and 1'),
    seed: numberOption(values.seed, 'seed', 1, (n) => Number.isInteger(n) && n >= 0, 'a whole number >= 0'),
    checkpointEvery: numberOption(values['checkpoint-every'], 'checkpoint-every', 10, (n) => Number.isInteger(n) && n >= 0, 'a whole number >= 0'),
    resume: values.resume === true,
    detect: values['no-detect'] !== true,
  };
}

export async function run(argv: string[]): Promise<number> {
  let request: TrainRequest;
  let rest: string[];
  let values: ReturnType<typeof splitArgs>['values'];
  try {
    ({ values, rest } = splitArgs(argv));
    if (values.help) {
      console.log(USAGE);
      return 0;
    }
    request = parseTrainRequest(values);
  } catch (error) {
    console.error(`facegate train: ${(error as Error).message}\n\n${USAGE}`);
    return 64;
  }
  const settings: Settings = loadConfig({ file: typeof values.config === 'string' ? values.config : undefined, args: rest }).getProperties();
  // Progress goes to stderr (bar or lines); logs too, so stdout stays free for the final JSON summary.
  const log: Logger = createLogger({ level: settings.log.level === 'info' ? 'warn' : settings.log.level, destination: process.stderr });
  await initBackend(settings.model.backend as BackendPreference, log);

  const controller = new AbortController();
  let interrupts = 0;
  const onSigint = () => {
    interrupts++;
    if (interrupts > 1) process.exit(130); // a second Ctrl-C means now
    process.stderr.write('\nstopping after the current batch (Ctrl-C again to quit at once)...\n');
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  try {
    const summary = await trainSiamese(request, settings, { log, signal: controller.signal, progress: process.stderr });
    console.log(JSON.stringify(summary, null, 2));
    return summary.stopped ? 130 : 0;
  } finally {
    process.off('SIGINT', onSigint);
  }
}

/* ---------------------------------------------------------------------------------------------------------
 * The run: data -> pairs -> training -> held-out numbers -> model folder. Tensors stay in src/siamese.
 * ------------------------------------------------------------------------------------------------------- */

export interface TrainRequest {
  out: string;
  tower: TowerId;
  data:
    | { kind: 'seed'; anchor: string; positive: string; negative: string; perClass: number; augment: number }
    | { kind: 'identities'; dir: string; pairsPerClass: number };
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

export interface TrainContext {
  log: Logger;
  signal?: AbortSignal;
  /** Where progress goes: a bar when it is a TTY, plain lines otherwise. */
  progress: NodeJS.WritableStream & { isTTY?: boolean };
}

interface PreparedPairs<T> {
  items: T[];
  pairs: Array<[number, number]>;
  labels: Uint8Array;
  train: number[];
  heldOut: number[];
  skipped: number;
  /** Identifies the data for resuming. */
  fingerprint: string;
}

const FACEAPI_METADATA: FacegateMetadata = {
  format: 1,
  tower: 'faceapi-resnet128',
  inputSize: 150,
  embeddingSize: 128,
  preprocessing: 'faceapi',
  crop: { margin: 0, align: false },
  thresholds: { detection: 0.5, verification: 0.5 },
  training: {},
  created: new Date(0).toISOString(),
};

class StopTraining extends Error {}

/** Images under a folder, recursively (the seed's negatives may be LFW's identity folders), sorted. */
async function listImages(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
    throw new Error(`cannot read image folder ${dir}: ${error.code === 'ENOENT' ? 'it does not exist' : error.message}`);
  });
  const files: string[] = [];
  for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (entry.name.startsWith('.')) continue;
    if (entry.isDirectory()) files.push(...(await listImages(join(dir, entry.name))));
    else if (isImageFile(entry.name)) files.push(join(dir, entry.name));
  }
  return files;
}

/** Decodes and crops images until `want` faces are found; a file without a face or unreadable is skipped. */
async function loadFaces(files: string[], want: number, pipeline: FacePipeline, detect: boolean, log: Logger): Promise<{ faces: RgbImage[]; used: string[]; skipped: number }> {
  const faces: RgbImage[] = [];
  const used: string[] = [];
  let skipped = 0;
  for (const file of files) {
    if (faces.length >= want) break;
    try {
      const face = await pipeline.faceCrop(await readFile(file), { isCrop: !detect || isFaceCropFile(file) });
      if (face) {
        faces.push(face);
        used.push(file);
      } else skipped++;
    } catch (error) {
      skipped++;
      log.warn({ file, err: (error as Error).message }, 'skipping an image that cannot be read');
    }
  }
  return { faces, used, skipped };
}

function splitPairs(count: number, split: number, seed: number): { train: number[]; heldOut: number[] } {
  const order = shuffle(Array.from({ length: count }, (_, i) => i), seededRandom(seed + 31));
  const cut = Math.min(count - 1, Math.max(1, Math.round(count * split)));
  return { train: order.slice(0, cut), heldOut: order.slice(cut) };
}

/** The seed's pairs: anchor i with positive i (1) and with negative i (0), after augmenting the collected images. */
async function seedWayPairs(req: TrainRequest, data: Extract<TrainRequest['data'], { kind: 'seed' }>, pipeline: FacePipeline, ui: Progress, log: Logger): Promise<PreparedPairs<RgbImage>> {
  const lists = await Promise.all([data.anchor, data.positive, data.negative].map(listImages));
  const names = ['anchor', 'positive', 'negative'];
  lists.forEach((list, k) => {
    if (list.length === 0) throw new Error(`no images in the ${names[k]} folder ${[data.anchor, data.positive, data.negative][k]}`);
  });
  const shuffled = lists.map((list, k) => shuffle(list, seededRandom(req.seed + k)));
  let skipped = 0;
  const pools: RgbImage[][] = [];
  for (const k of [0, 1]) {
    ui.phase(`cropping up to ${data.perClass} ${names[k]} images and making ${data.augment} variants of each`);
    const loaded = await loadFaces(shuffled[k]!, data.perClass, pipeline, req.detect, log);
    skipped += loaded.skipped;
    const variants = data.augment > 0 ? await augmentAll(loaded.faces, req.seed + 11 + k, data.augment) : [];
    pools.push(shuffle([...loaded.faces, ...variants], seededRandom(req.seed + 21 + k)).slice(0, data.perClass));
  }
  ui.phase(`cropping up to ${data.perClass} negative images`);
  const negatives = await loadFaces(shuffled[2]!, data.perClass, pipeline, req.detect, log);
  skipped += negatives.skipped;
  const n = Math.min(data.perClass, pools[0]!.length, pools[1]!.length, negatives.faces.length);
  if (n < 2) throw new Error(`too few usable images: ${pools[0]!.length} anchor, ${pools[1]!.length} positive, ${negatives.faces.length} negative faces (need 2 of each)`);
  const items = [...pools[0]!.slice(0, n), ...pools[1]!.slice(0, n), ...negatives.faces.slice(0, n)];
  const pairs: Array<[number, number]> = [];
  const labels: number[] = [];
  for (let i = 0; i < n; i++) {
    pairs.push([i, n + i], [i, 2 * n + i]);
    labels.push(1, 0);
  }
  return { items, pairs, labels: Uint8Array.from(labels), ...splitPairs(pairs.length, req.split, req.seed), skipped, fingerprint: sha256(JSON.stringify(lists)) };
}

/** Identity folders -> identity-disjoint train/held-out people -> seeded balanced pairs -> faces or embeddings. */
async function identityPairs(req: TrainRequest, data: Extract<TrainRequest['data'], { kind: 'identities' }>, model: SiameseModel, detector: FaceDetector, settings: Settings, ui: Progress, log: Logger): Promise<PreparedPairs<RgbImage | Float32Array>> {
  const identities = listIdentities(data.dir);
  const [trainIds, heldIds] = splitIdentities(identities, req.split, req.seed);
  const trainPairs = makePairs(trainIds, { pairsPerClass: data.pairsPerClass, seed: req.seed });
  const heldPairs = makePairs(heldIds, { pairsPerClass: data.pairsPerClass, seed: req.seed + 1 });
  const files = [...new Set([...trainPairs, ...heldPairs].flatMap((p) => [p.a, p.b]))];
  const index = new Map<string, number>();
  const items: Array<RgbImage | Float32Array> = [];
  let skipped = 0;
  if (model.metadata.tower === 'faceapi-resnet128') {
    ui.phase(`embedding ${files.length} images (cached in ${DATASET_CACHE_DIR}: seconds after the first run)`);
    const embedded = await embedDataset(model, detector, towerKey(model, ''), settings.vision, files, { log, onProgress: (done, total) => ui.count('embedded', done, total) });
    for (const [file, entry] of embedded.byFile) {
      if (entry.kind === 'embedding') index.set(file, items.push(entry.embedding) - 1);
      else skipped++;
    }
  } else {
    const pipeline = modelPipeline(model, detector);
    for (const [k, file] of files.entries()) {
      const loaded = await loadFaces([file], 1, pipeline, req.detect, log);
      if (loaded.faces[0]) index.set(file, items.push(loaded.faces[0]) - 1);
      else skipped++;
      if (k % 100 === 99) ui.count('cropped', k + 1, files.length);
    }
  }
  const pairs: Array<[number, number]> = [];
  const labels: number[] = [];
  const train: number[] = [];
  const heldOut: number[] = [];
  for (const [group, list] of [[train, trainPairs], [heldOut, heldPairs]] as const) {
    for (const pair of list) {
      const a = index.get(pair.a);
      const b = index.get(pair.b);
      if (a === undefined || b === undefined) continue;
      group.push(pairs.push([a, b]) - 1);
      labels.push(pair.same ? 1 : 0);
    }
  }
  return { items, pairs, labels: Uint8Array.from(labels), train, heldOut, skipped, fingerprint: sha256(JSON.stringify(files)) };
}

/** Epoch progress: a cli-progress bar with ETA, loss, precision and recall on a terminal, plain lines elsewhere. */
class Progress {
  private bar: cliProgress.SingleBar | null = null;
  private readonly tty: boolean;
  private readonly started = Date.now();

  constructor(private readonly stream: TrainContext['progress']) {
    this.tty = stream.isTTY === true;
  }

  phase(text: string): void {
    this.stopBar();
    this.stream.write(`${text}\n`);
  }

  private lastCount = 0;

  /** Reports every 500 items (callers report at uneven steps, e.g. per batch) and at the end. */
  count(what: string, done: number, total: number): void {
    if (done !== total && Math.floor(done / 500) === Math.floor(this.lastCount / 500)) return;
    this.lastCount = done;
    this.stream.write(`  ${what} ${done}/${total}\n`);
  }

  batch(report: BatchReport, epochs: number): void {
    if (!this.tty) return;
    const payload = { epoch: report.epoch, epochs, loss: report.loss.toFixed(4), precision: report.precision.toFixed(3), recall: report.recall.toFixed(3) };
    if (!this.bar) {
      this.bar = new cliProgress.SingleBar(
        {
          stream: this.stream as NodeJS.WritableStream,
          format: 'epoch {epoch}/{epochs} [{bar}] {value}/{total} batches | ETA {eta_formatted} | loss {loss} precision {precision} recall {recall}',
          hideCursor: true,
          etaBuffer: 20,
          clearOnComplete: true,
        },
        cliProgress.Presets.shades_classic,
      );
      this.bar.start(report.batches, 0, payload);
    }
    this.bar.update(report.batch, payload);
  }

  epoch(report: EpochReport): void {
    this.stopBar();
    const elapsed = (Date.now() - this.started) / 1000;
    const remaining = (report.epochs - report.epoch) * report.seconds;
    this.stream.write(
      `epoch ${report.epoch}/${report.epochs}  loss ${report.loss.toFixed(4)}  precision ${report.precision.toFixed(3)}  recall ${report.recall.toFixed(3)}` +
        `  ${report.seconds.toFixed(1)} s  (elapsed ${formatSeconds(elapsed)}, ETA ${formatSeconds(remaining)})\n`,
    );
  }

  private stopBar(): void {
    this.bar?.stop();
    this.bar = null;
  }
}

function formatSeconds(s: number): string {
  if (s < 90) return `${Math.round(s)} s`;
  if (s < 5400) return `${Math.round(s / 60)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

function buildModel(tower: TowerId, seed: number): Promise<SiameseModel> | SiameseModel {
  if (tower === 'faceapi-resnet128') {
    return createFaceApiTower().then((t) => new SiameseModel(t, buildHead(FACEAPI_METADATA.embeddingSize, { seed }), { ...FACEAPI_METADATA }));
  }
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
  const ui = new Progress(ctx.progress);
  let model = await buildModel(req.tower, req.seed);
  const head = req.tower === 'faceapi-resnet128';
  const detector = head && req.data.kind === 'identities' ? await createFaceDetector(settings.vision, { log: ctx.log }) : lazyDetector(settings, ctx.log);
  const prepared =
    req.data.kind === 'seed'
      ? await seedWayPairs(req, req.data, modelPipeline(model, detector), ui, ctx.log)
      : await identityPairs(req, req.data, model, detector, settings, ui, ctx.log);
  if (prepared.train.length === 0 || prepared.heldOut.length === 0) throw new Error('not enough pairs to train and hold some out; add images or change --split');
  const items = head && !(prepared.items[0] instanceof Float32Array) ? await model.embed(prepared.items as RgbImage[]) : prepared.items;
  const runKey = sha256(JSON.stringify({ tower: req.tower, data: req.data, split: req.split, seed: req.seed, batch: req.batchSize, lr: req.learningRate, detect: req.detect, files: prepared.fingerprint })).slice(0, 16);
  const labelsOf = (indices: number[]) => indices.map((i) => prepared.labels[i] === 1);
  ui.phase(`${prepared.train.length} training pairs, ${prepared.heldOut.length} held out; ${prepared.skipped} images skipped (no face or unreadable); ${req.tower} tower on ${tf.getBackend()}`);

  const checkpointDir = `${resolve(req.out)}.checkpoint`;
  let checkpointed = false;
  let result: { epochsDone: number; history: EpochReport[]; stopped: boolean };
  let pairData: PairData;
  if (head) {
    pairData = new EmbeddingPairs(items as Float32Array[], prepared.pairs, prepared.labels);
    const headPairs: HeadPair[] = prepared.train.map((i) => ({ a: (items as Float32Array[])[prepared.pairs[i]![0]]!, b: (items as Float32Array[])[prepared.pairs[i]![1]]!, label: prepared.labels[i] === 1 ? 1 : 0 }));
    const history: EpochReport[] = [];
    let last = Date.now();
    let stopped = false;
    try {
      await model.trainHead(headPairs, {
        epochs: req.epochs, batchSize: req.batchSize, learningRate: req.learningRate, seed: req.seed,
        onEpoch: (epoch, loss) => {
          const c = confusionAt(predictPairs(model.head, pairData, prepared.train, 256), labelsOf(prepared.train), 0.5);
          const report = { epoch: epoch + 1, epochs: req.epochs, loss, precision: c.precision, recall: c.recall, seconds: (Date.now() - last) / 1000 };
          last = Date.now();
          history.push(report);
          ui.epoch(report);
          if (ctx.signal?.aborted) throw new StopTraining();
        },
      });
    } catch (error) {
      if (!(error instanceof StopTraining)) throw error;
      stopped = true;
    }
    result = { epochsDone: history.length, history, stopped };
  } else {
    let resumeFrom: Parameters<typeof fitPairs>[3]['resumeFrom'];
    if (req.resume) {
      const restored = await readCheckpoint(checkpointDir, runKey);
      model.dispose();
      model = seedSiameseModel(restored.model, req.tower as SeedVariant, model.metadata);
      resumeFrom = restored.state;
      checkpointed = true; // <out> and the checkpoint already hold a consistent model; a stop keeps them
      ui.phase(`resuming from ${checkpointDir} after epoch ${restored.state.epochsDone}`);
    }
    const trained = model.full!;
    pairData = new ImagePairs((items as RgbImage[]).map((f) => f.data), prepared.pairs, prepared.labels, model.metadata.inputSize);
    result = await fitPairs(trained, pairData, prepared.train, {
      epochs: req.epochs, batchSize: req.batchSize, learningRate: req.learningRate, seed: req.seed, checkpointEvery: req.checkpointEvery,
      ...(resumeFrom ? { resumeFrom } : {}),
      ...(ctx.signal ? { signal: ctx.signal } : {}),
      onBatch: (report) => ui.batch(report, req.epochs),
      onEpoch: (report) => ui.epoch(report),
      checkpoint: async (state, optimizer) => {
        const metadata = { ...model.metadata, training: { ...trainingInfo(req, state.history, null), runKey }, created: new Date().toISOString() };
        await writeCheckpoint(checkpointDir, trained, metadata, optimizer, { ...state, runKey });
        await saveLayersModel(req.out, trained, metadata);
        checkpointed = true;
      },
    });
  }

  let heldOut: TrainSummary['heldOut'] = null;
  const thresholds = { detection: 0.5, verification: 0.5 }; // the seed's verify(model, 0.5, 0.5); calibrate with facegate evaluate
  if (!result.stopped) {
    const scores = predictPairs(model.full ?? model.head, pairData, prepared.heldOut, head ? 256 : 16);
    const truth = labelsOf(prepared.heldOut);
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
