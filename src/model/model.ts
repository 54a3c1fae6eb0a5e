import { tf } from './tf.js';
import type { LayersModel, Tensor } from './tf.js';
import { L1Dist, l1Dist } from './layers.js';
import { buildSeedTower, SEED_DIMS, SeedTower } from './towers.js';
import type { EmbeddingTower, RgbImage, SeedDims, SeedVariant } from './towers.js';
import type { FacegateMetadata } from './metadata.js';
import { seededRandom, shuffle } from '../random.js';
import { mirrorImage } from '../image/image.js';

type Layer = InstanceType<typeof tf.layers.Layer>;
type Symbolic = ReturnType<typeof tf.input>;
type Variable = ReturnType<typeof tf.variable>;
type Scalar = ReturnType<typeof tf.scalar>;

/**
 * Where a head starts. By default the Dense kernel is seeded Glorot-uniform (reproducible). With `l1Threshold`
 * it starts as score = sigmoid(sharpness * (1 - L1 / l1Threshold)): 0.5 at that L1 distance, near 1 for identical
 * embeddings. That is a distance threshold already (what face-api users do with Euclidean distance), so training
 * only refines it. Measured on ~1.5k LFW-dev face-api pairs: this start alone equals a plain L1 distance (test
 * AUC 0.9968); training all 128 weights on those pairs gave 0.9965, so with few pairs train little or not at all.
 */
export interface HeadInit {
  seed?: number;
  l1Threshold?: number;
  sharpness?: number;
}

/**
 * The head: two embeddings -> L1Dist('distance') -> Dense(1, sigmoid)('classification'), the seed's form.
 * A bare number is the seed (the first API took only that). A richer head (|a-b| and (a-b)^2 features) was
 * measured on LFW-dev face-api pairs and did not beat this one (test AUC 0.9966 vs 0.9965), so the seed's
 * form stays the only one.
 */
export function buildHead(embeddingSize: number, init: HeadInit | number = {}): LayersModel {
  const { seed = 42, l1Threshold, sharpness = 4 } = typeof init === 'number' ? { seed: init } : init;
  const a = tf.input({ shape: [embeddingSize], name: 'embedding_a' });
  const b = tf.input({ shape: [embeddingSize], name: 'embedding_b' });
  const distance = l1Dist().apply([a, b]) as Symbolic;
  const classifier = tf.layers.dense({
    units: 1,
    activation: 'sigmoid',
    name: 'classification',
    kernelInitializer: tf.initializers.glorotUniform({ seed }),
  });
  const head = tf.model({ inputs: [a, b], outputs: classifier.apply(distance) as Symbolic, name: 'head' });
  if (l1Threshold !== undefined) {
    if (!(l1Threshold > 0)) throw new Error(`l1Threshold must be > 0, got ${l1Threshold}`);
    const start = [tf.fill([embeddingSize, 1], -sharpness / l1Threshold), tf.tensor1d([sharpness])];
    classifier.setWeights(start); // copies the values into the layer's variables
    tf.dispose(start);
  }
  return head;
}

/**
 * The seed's whole `make_siamese_model()`: input_img and validation_img share one 'embedding' tower, then
 * L1Dist and the Dense classifier. This is what a converted Keras seed contains and what end-to-end training fits.
 */
export function buildSeedSiamese(variant: SeedVariant = 'seed', dims: SeedDims = SEED_DIMS): LayersModel {
  const embedding = buildSeedTower(variant, dims);
  const inputImg = tf.input({ shape: [dims.inputSize, dims.inputSize, 3], name: 'input_img' });
  const validationImg = tf.input({ shape: [dims.inputSize, dims.inputSize, 3], name: 'validation_img' });
  const distance = l1Dist().apply([embedding.apply(inputImg) as Symbolic, embedding.apply(validationImg) as Symbolic]) as Symbolic;
  const score = tf.layers.dense({ units: 1, activation: 'sigmoid', name: 'classification' }).apply(distance) as Symbolic;
  return tf.model({ inputs: [inputImg, validationImg], outputs: score, name: 'SiameseNetwork' });
}

/** Parts of a full siamese model: the shared tower and the layers after it. */
export interface SiameseParts {
  tower: LayersModel;
  distance: L1Dist;
  classifier: Layer;
}

/** Finds the tower, the L1Dist layer and the Dense after it, by role rather than by (Keras-generated) name. */
export function splitSiamese(full: LayersModel): SiameseParts {
  const towers = full.layers.filter((layer): layer is LayersModel => layer instanceof tf.LayersModel);
  const distances = full.layers.filter((layer): layer is L1Dist => layer instanceof L1Dist);
  const dense = full.layers.filter((layer) => layer.getClassName() === 'Dense');
  if (towers.length !== 1 || distances.length !== 1 || dense.length !== 1) {
    throw new Error(
      `not a seed-shaped siamese model: expected one nested tower, one L1Dist and one Dense, found ${towers.length}, ${distances.length}, ${dense.length}`,
    );
  }
  return { tower: towers[0]!, distance: distances[0]!, classifier: dense[0]! };
}

/**
 * A head that reuses the full model's own Dense layer (same variables), so training either updates both and
 * only the probe has to go through the tower at verify time.
 */
export function headFromParts(parts: SiameseParts): LayersModel {
  const size = parts.tower.outputs[0]?.shape[1];
  if (typeof size !== 'number') throw new Error('tower output must be a vector');
  const a = tf.input({ shape: [size], name: 'embedding_a' });
  const b = tf.input({ shape: [size], name: 'embedding_b' });
  const score = parts.classifier.apply(parts.distance.apply([a, b])) as Symbolic;
  return tf.model({ inputs: [a, b], outputs: score, name: 'head' });
}

export class SiameseModel {
  constructor(
    readonly tower: EmbeddingTower,
    readonly head: LayersModel,
    readonly metadata: FacegateMetadata,
    /** The Keras-shaped model for seed towers (what gets saved); absent for pretrained towers. */
    readonly full: LayersModel | null = null,
  ) {
    const headSize = head.inputs[0]?.shape[1];
    if (headSize !== tower.embeddingSize) {
      throw new Error(`head takes ${headSize}-d embeddings but the ${tower.id} tower makes ${tower.embeddingSize}-d`);
    }
  }

  get embeddingSize(): number {
    return this.tower.embeddingSize;
  }

  /** The model that io.ts writes: the whole siamese network for seed towers, only the head otherwise. */
  get saveable(): LayersModel {
    return this.full ?? this.head;
  }

  /** The tower's embeddings, or with `flipAverage` the unit-length sum of each face's and its mirror's. */
  async embed(faces: RgbImage[]): Promise<Float32Array[]> {
    if (!this.metadata.flipAverage || faces.length === 0) return this.tower.embed(faces);
    // One tower call for both halves: the tower batches them (face-api four a pass) as it would any faces.
    const both = await this.tower.embed([...faces, ...faces.map(mirrorImage)]);
    return faces.map((_, i) => unitSum(both[i]!, both[i + faces.length]!));
  }

  /** Scores one probe embedding against many references in one batched head call (score i = head(probe, refs[i])). */
  scorePairs(probe: Float32Array, refs: Float32Array[]): Float32Array {
    const size = this.embeddingSize;
    if (probe.length !== size) throw new Error(`probe embedding has ${probe.length} values, model uses ${size}`);
    if (refs.length === 0) return new Float32Array(0);
    const stacked = new Float32Array(refs.length * size);
    refs.forEach((ref, i) => {
      if (ref.length !== size) throw new Error(`reference embedding ${i} has ${ref.length} values, model uses ${size}`);
      stacked.set(ref, i * size);
    });
    // head.apply on eager tensors runs the layers once over all refs, the probe row broadcasting inside L1Dist.
    // predict() would tile the probe and slice into batches of 32: measured 20-100x slower on wasm
    // (4096-d, 500 refs: 2.4 s vs 23 ms), same numbers.
    const scores = tf.tidy(() => {
      const a = tf.tensor2d(probe, [1, size]);
      const b = tf.tensor2d(stacked, [refs.length, size]);
      return this.head.apply([a, b]) as Tensor;
    });
    try {
      return Float32Array.from(scores.dataSync());
    } finally {
      scores.dispose();
    }
  }

  /** Trains the head in place (see trainHead); for seed models the full model shares these weights. */
  trainHead(pairs: HeadPair[], options?: TrainHeadOptions): Promise<number[]> {
    return trainHead(this.head, pairs, options);
  }

  dispose(): void {
    // Layers shared between the full model, its tower and the head are reference-counted by tfjs per call,
    // so model.dispose() would leave some alive; freeing each weight variable once releases all of them.
    const weights = new Set([...(this.full?.weights ?? []), ...this.head.weights]);
    for (const weight of weights) weight.dispose();
    if (!this.full) this.tower.dispose();
  }
}

/** A seed-shaped SiameseModel around a full siamese LayersModel (built here or loaded from disk). */
export function seedSiameseModel(full: LayersModel, variant: SeedVariant, metadata: FacegateMetadata): SiameseModel {
  const parts = splitSiamese(full);
  return new SiameseModel(new SeedTower(variant, parts.tower), headFromParts(parts), metadata, full);
}

export interface HeadPair {
  a: Float32Array;
  b: Float32Array;
  label: 0 | 1;
}

export interface TrainHeadOptions {
  epochs?: number;
  batchSize?: number;
  learningRate?: number;
  /** Seeds the batch order; with the head's seeded initialisation the run is reproducible. */
  seed?: number;
  onEpoch?: (epoch: number, loss: number) => void;
}

/**
 * Fits only the head's weights on embedding pairs (Adam, binary cross-entropy, as the seed compiles it) and
 * returns the mean loss of each epoch. The tower is untouched: its embeddings come in precomputed.
 */
export async function trainHead(head: LayersModel, pairs: HeadPair[], options: TrainHeadOptions = {}): Promise<number[]> {
  const { epochs = 50, batchSize = 64, learningRate = 1e-3, seed = 42, onEpoch } = options;
  const size = head.inputs[0]?.shape[1];
  if (typeof size !== 'number') throw new Error('head input must be a vector');
  if (pairs.length === 0) throw new Error('trainHead needs at least one pair');
  pairs.forEach((pair, i) => {
    if (pair.a.length !== size || pair.b.length !== size) throw new Error(`pair ${i}: embeddings must have ${size} values`);
  });
  const random = seededRandom(seed);
  const optimizer = tf.train.adam(learningRate);
  const variables = head.trainableWeights.map((weight) => weight.read() as Variable);
  let order = pairs.map((_, i) => i);
  const history: number[] = [];
  try {
    for (let epoch = 0; epoch < epochs; epoch++) {
      // Each epoch reshuffles the previous epoch's order, as the in-place Fisher-Yates did before.
      order = shuffle(order, random);
      let lossSum = 0;
      for (let start = 0; start < order.length; start += batchSize) {
        const batch = order.slice(start, start + batchSize).map((i) => pairs[i]!);
        const a = new Float32Array(batch.length * size);
        const b = new Float32Array(batch.length * size);
        batch.forEach((pair, k) => {
          a.set(pair.a, k * size);
          b.set(pair.b, k * size);
        });
        const labels = Float32Array.from(batch, (pair) => pair.label);
        const loss = tf.tidy((): Scalar => {
          const inputs = [tf.tensor2d(a, [batch.length, size]), tf.tensor2d(b, [batch.length, size])];
          const y = tf.tensor2d(labels, [batch.length, 1]);
          return optimizer.minimize(() => tf.metrics.binaryCrossentropy(y, head.apply(inputs, { training: true }) as Tensor).mean() as Scalar, true, variables) as Scalar;
        });
        lossSum += (loss.dataSync()[0] ?? NaN) * batch.length;
        loss.dispose();
      }
      const meanLoss = lossSum / pairs.length;
      history.push(meanLoss);
      onEpoch?.(epoch, meanLoss);
      await new Promise((resolve) => setImmediate(resolve)); // let timers and signals run between epochs
    }
  } finally {
    optimizer.dispose();
  }
  return history;
}

function unitSum(a: Float32Array, b: Float32Array): Float32Array {
  const out = new Float32Array(a.length);
  let norm = 0;
  for (let i = 0; i < a.length; i++) {
    out[i] = a[i]! + b[i]!;
    norm += out[i]! * out[i]!;
  }
  const scale = norm > 0 ? 1 / Math.sqrt(norm) : 0;
  for (let i = 0; i < out.length; i++) out[i]! *= scale;
  return out;
}
