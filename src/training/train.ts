import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { tf } from '../model/tf.js';
import type { LayersModel, Tensor } from '../model/tf.js';
import { seededRandom, shuffle } from '../random.js';
import { layersModelFromFiles, readModelFiles, serializeModel, MODEL_JSON, WEIGHTS_BIN } from '../model/io.js';
import type { FacegateMetadata } from '../model/metadata.js';
import { registerWasmTrainingKernels } from './wasm-grads.js';

/**
 * The training loop of `facegate train`, for both ways of training: the seed tower end to end on image
 * pairs, and a head alone on cached embeddings. The seed compiles with Adam(1e-4) and binary cross-entropy
 * and trains batch by batch; so does this, with seeded initialisation and batch order so that a run (and a
 * resumed run) is reproducible, checkpoints that resume exactly, and a stop signal honoured between batches.
 */

type Variable = ReturnType<typeof tf.variable>;
type Scalar = ReturnType<typeof tf.scalar>;
type NamedTensor = { name: string; tensor: Tensor };

/** Pairs the loop can batch: the model's two inputs for any subset, and the labels (1 = same person). */
export interface PairData {
  readonly labels: Uint8Array;
  /** Builds the two input tensors for these pairs; the caller disposes them. */
  inputs(indices: number[]): [Tensor, Tensor];
}

/** Seed-tower pairs: two face crops (RGB bytes, inputSize square) per pair, scaled to 0..1 like the seed. */
export class ImagePairs implements PairData {
  constructor(
    private readonly faces: Uint8Array[],
    private readonly pairs: Array<[number, number]>,
    readonly labels: Uint8Array,
    private readonly size: number,
  ) {}
  inputs(indices: number[]): [Tensor, Tensor] {
    const pixels = this.size * this.size * 3;
    const side = (which: 0 | 1) => {
      const batch = new Float32Array(indices.length * pixels);
      indices.forEach((pair, k) => {
        const face = this.faces[this.pairs[pair]![which]]!;
        for (let p = 0; p < pixels; p++) batch[k * pixels + p] = face[p]! / 255;
      });
      return tf.tensor4d(batch, [indices.length, this.size, this.size, 3]);
    };
    return [side(0), side(1)];
  }
}

/** Head pairs: two precomputed embeddings per pair. */
export class EmbeddingPairs implements PairData {
  constructor(
    private readonly embeddings: Float32Array[],
    private readonly pairs: Array<[number, number]>,
    readonly labels: Uint8Array,
  ) {}
  inputs(indices: number[]): [Tensor, Tensor] {
    const size = this.embeddings[0]?.length ?? 0;
    const side = (which: 0 | 1) => {
      const batch = new Float32Array(indices.length * size);
      indices.forEach((pair, k) => batch.set(this.embeddings[this.pairs[pair]![which]]!, k * size));
      return tf.tensor2d(batch, [indices.length, size]);
    };
    return [side(0), side(1)];
  }
}

/**
 * Replaces the model's random weights with seeded ones drawn like Keras' defaults (Glorot uniform kernels,
 * zero biases); tfjs' own initialisers are not seeded, which would make two runs differ.
 */
export function seedWeights(model: LayersModel, seed: number): void {
  const random = seededRandom(seed);
  const values = model.getWeights().map((weight) => {
    const shape = weight.shape;
    if (shape.length < 2) return tf.zeros(shape);
    const receptive = shape.slice(0, -2).reduce((n, d) => n * d, 1);
    const fanIn = shape[shape.length - 2]! * receptive;
    const fanOut = shape[shape.length - 1]! * receptive;
    const limit = Math.sqrt(6 / (fanIn + fanOut));
    const data = new Float32Array(weight.size);
    for (let i = 0; i < data.length; i++) data[i] = (2 * random() - 1) * limit;
    return tf.tensor(data, shape);
  });
  model.setWeights(values);
  tf.dispose(values);
}

export interface EpochReport {
  /** 1-based. */
  epoch: number;
  epochs: number;
  loss: number;
  /** Over this epoch's training predictions at 0.5, the seed's Precision()/Recall() metrics. */
  precision: number;
  recall: number;
  seconds: number;
}

export interface BatchReport {
  epoch: number;
  batch: number;
  batches: number;
  /** Running means over this epoch so far. */
  loss: number;
  precision: number;
  recall: number;
}

export interface FitOptions {
  epochs: number;
  batchSize: number;
  learningRate: number;
  seed: number;
  /** Save a checkpoint after every this many epochs (and after the last); 0 = only after the last. */
  checkpointEvery: number;
  /** Called at each checkpoint; receives the epochs done and the history so far. */
  checkpoint?: (state: CheckpointState, optimizer: ReturnType<typeof tf.train.adam>) => Promise<void>;
  /** Continue from this state (epochs done, history, optimizer weights). */
  resumeFrom?: CheckpointState & { optimizerWeights: NamedTensor[] };
  /** Stops after the current batch; a checkpoint is written for the completed epochs. */
  signal?: AbortSignal;
  onBatch?: (report: BatchReport) => void;
  onEpoch?: (report: EpochReport) => void;
}

export interface CheckpointState {
  epochsDone: number;
  history: EpochReport[];
}

export interface FitResult extends CheckpointState {
  /** True when the signal ended training early. */
  stopped: boolean;
}

/** Order of the pairs in one epoch: depends only on (seed, epoch), so a resumed run sees the same batches. */
export function epochOrder(count: number, seed: number, epoch: number): number[] {
  return shuffle(Array.from({ length: count }, (_, i) => i), seededRandom((seed ^ Math.imul(epoch + 1, 0x9e3779b1)) >>> 0));
}

export async function fitPairs(model: LayersModel, data: PairData, trainIndices: number[], options: FitOptions): Promise<FitResult> {
  if (trainIndices.length === 0) throw new Error('no training pairs');
  registerWasmTrainingKernels();
  const optimizer = tf.train.adam(options.learningRate);
  const variables = model.trainableWeights.map((w) => w.read() as Variable);
  const history = [...(options.resumeFrom?.history ?? [])];
  let epochsDone = options.resumeFrom?.epochsDone ?? 0;
  if (options.resumeFrom) await optimizer.setWeights(options.resumeFrom.optimizerWeights);
  const batches = Math.ceil(trainIndices.length / options.batchSize);
  let stopped = false;
  try {
    while (epochsDone < options.epochs && !stopped) {
      const started = Date.now();
      const order = epochOrder(trainIndices.length, options.seed, epochsDone).map((i) => trainIndices[i]!);
      let lossSum = 0;
      let seen = 0;
      let tp = 0, fp = 0, fn = 0;
      for (let b = 0; b < batches; b++) {
        if (options.signal?.aborted) {
          stopped = true;
          break;
        }
        const batch = order.slice(b * options.batchSize, (b + 1) * options.batchSize);
        const labels = Float32Array.from(batch, (i) => data.labels[i]!);
        const [a, bInput] = data.inputs(batch);
        let output: Tensor | null = null;
        const loss = tf.tidy(() => {
          const y = tf.tensor2d(labels, [batch.length, 1]);
          return optimizer.minimize(() => {
            // Kept past the gradient tape's own cleanup: the epoch's precision and recall come from it.
            output = tf.keep(model.apply([a, bInput], { training: true }) as Tensor);
            return tf.metrics.binaryCrossentropy(y, output).mean() as Scalar;
          }, true, variables) as Scalar;
        });
        const predictions = (output as unknown as Tensor).dataSync() as Float32Array;
        tf.dispose([a, bInput, output as unknown as Tensor]);
        const batchLoss = loss.dataSync()[0] ?? NaN;
        loss.dispose();
        if (!Number.isFinite(batchLoss)) throw new Error(`training diverged: loss is ${batchLoss} at epoch ${epochsDone + 1}, batch ${b + 1}`);
        lossSum += batchLoss * batch.length;
        seen += batch.length;
        predictions.forEach((p, k) => {
          const positive = labels[k] === 1;
          if (p > 0.5) positive ? tp++ : fp++;
          else if (positive) fn++;
        });
        options.onBatch?.({ epoch: epochsDone + 1, batch: b + 1, batches, loss: lossSum / seen, precision: tp + fp ? tp / (tp + fp) : 0, recall: tp + fn ? tp / (tp + fn) : 0 });
        await new Promise((next) => setImmediate(next)); // lets SIGINT and the progress bar through
      }
      if (stopped) break;
      epochsDone++;
      const report: EpochReport = {
        epoch: epochsDone,
        epochs: options.epochs,
        loss: lossSum / seen,
        precision: tp + fp ? tp / (tp + fp) : 0,
        recall: tp + fn ? tp / (tp + fn) : 0,
        seconds: (Date.now() - started) / 1000,
      };
      history.push(report);
      options.onEpoch?.(report);
      const due = options.checkpointEvery > 0 && epochsDone % options.checkpointEvery === 0;
      if (options.checkpoint && (due || epochsDone === options.epochs)) await options.checkpoint({ epochsDone, history }, optimizer);
    }
  } finally {
    optimizer.dispose();
  }
  return { epochsDone, history, stopped };
}

/** Scores of `indices` pairs (inference mode), batched. */
export function predictPairs(model: LayersModel, data: PairData, indices: number[], batchSize = 32): Float32Array {
  const scores = new Float32Array(indices.length);
  for (let start = 0; start < indices.length; start += batchSize) {
    const batch = indices.slice(start, start + batchSize);
    const [a, b] = data.inputs(batch);
    const out = tf.tidy(() => model.predict([a, b]) as Tensor);
    scores.set(out.dataSync() as Float32Array, start);
    tf.dispose([a, b, out]);
  }
  return scores;
}

const OPTIMIZER_BIN = 'optimizer.bin';
const STATE_JSON = 'training-state.json';

interface StateFile extends CheckpointState {
  /** Must match on resume: another data set or other options would not continue the same run. */
  runKey: string;
  optimizer: Array<{ name: string; shape: number[]; dtype: string }>;
}

/**
 * Writes a resumable checkpoint folder: the model (a loadable model folder itself), the Adam state and the
 * loop state. Written beside, then renamed into place, so a kill mid-write leaves the previous checkpoint.
 */
export async function writeCheckpoint(dir: string, model: LayersModel, metadata: FacegateMetadata, optimizer: ReturnType<typeof tf.train.adam>, state: CheckpointState & { runKey: string }): Promise<void> {
  const target = resolve(dir);
  const temp = join(dirname(target), `.${basename(target)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  const { json, weights } = await serializeModel(model, metadata);
  const named = (await optimizer.getWeights()) as NamedTensor[];
  const chunks = await Promise.all(named.map(async (w) => Buffer.from(((await w.tensor.data()) as Float32Array | Int32Array).buffer)));
  const file: StateFile = { ...state, optimizer: named.map((w) => ({ name: w.name, shape: w.tensor.shape, dtype: w.tensor.dtype })) };
  named[0]?.tensor.dispose(); // 'iter' is a fresh scalar; the others are the optimizer's own variables
  await mkdir(temp, { recursive: true });
  try {
    await writeFile(join(temp, WEIGHTS_BIN), weights);
    await writeFile(join(temp, MODEL_JSON), json);
    await writeFile(join(temp, OPTIMIZER_BIN), Buffer.concat(chunks));
    await writeFile(join(temp, STATE_JSON), JSON.stringify(file, null, 1));
    const old = `${temp}-old`;
    const had = await stat(target).then(() => true, () => false);
    if (had) await rename(target, old);
    await rename(temp, target);
    if (had) await rm(old, { recursive: true, force: true });
  } catch (error) {
    await rm(temp, { recursive: true, force: true });
    throw error;
  }
}

/** Reads a checkpoint for resuming; refuses one made by a different run (data, tower or options). */
export async function readCheckpoint(dir: string, runKey: string): Promise<{ model: LayersModel; state: CheckpointState & { optimizerWeights: NamedTensor[] } }> {
  const statePath = join(dir, STATE_JSON);
  let file: StateFile;
  try {
    file = JSON.parse(await readFile(statePath, 'utf8')) as StateFile;
  } catch (error) {
    throw new Error(`cannot resume: no readable checkpoint at ${statePath} (${(error as Error).message})`);
  }
  if (file.runKey !== runKey) {
    throw new Error(`cannot resume from ${dir}: it was made with other data or options (run key ${file.runKey}, now ${runKey}); train without --resume or restore the same options`);
  }
  const bytes = await readFile(join(dir, OPTIMIZER_BIN));
  let offset = 0;
  const optimizerWeights = file.optimizer.map((spec) => {
    const count = spec.shape.reduce((n, d) => n * d, 1);
    const slice = bytes.buffer.slice(bytes.byteOffset + offset, bytes.byteOffset + offset + count * 4);
    offset += count * 4;
    const values = spec.dtype === 'int32' ? new Int32Array(slice) : new Float32Array(slice);
    return { name: spec.name, tensor: tf.tensor(values, spec.shape, spec.dtype as 'float32' | 'int32') };
  });
  if (offset !== bytes.length) throw new Error(`cannot resume: ${join(dir, OPTIMIZER_BIN)} has ${bytes.length} bytes, expected ${offset}`);
  const model = await layersModelFromFiles(await readModelFiles(dir));
  return { model, state: { epochsDone: file.epochsDone, history: file.history, optimizerWeights } };
}
