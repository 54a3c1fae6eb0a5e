import { tf } from './tf.js';
import type { LayersModel, Tensor, Tensor4D } from './tf.js';
import type { RgbImage } from '../image/image.js';

export type { RgbImage };

export type SeedVariant = 'seed' | 'seed-pool2';

/** 'scale-255': RGB / 255 (the seed). 'faceapi': face-api's own normalisation inside the net. */
/**
 * 'scale-255': RGB / 255 (the seed). 'faceapi': face-api's own normalisation inside the net.
 * 'bgr-127.5/128': BGR, (x - 127.5) / 128, NCHW (the opt-in ONNX embedder).
 */
export const PREPROCESSING = ['scale-255', 'faceapi', 'bgr-127.5/128'] as const;
export type Preprocessing = (typeof PREPROCESSING)[number];

/**
 * What the registry (tower-registry.ts) knows about a kind of tower, so that the verifier, trainer, model
 * loader and embedding cache ask it instead of comparing tower names.
 */
export interface TowerKind {
  /** One line for the CLI help. */
  doc: string;
  /** A fresh model's shape and preprocessing. */
  inputSize: number;
  embeddingSize: number;
  preprocessing: Preprocessing;
  /** What an embedding depends on besides the image (cache namespaces): the weights' version, or the model's fingerprint. */
  embeddingKey(modelFingerprint: string): string;
  /**
   * Pretrained, frozen towers only: builds the tower from weights shipped in an npm package. Such a model folder
   * holds only the head, training fits the head on cached embeddings, and workers can rebuild the tower alone.
   */
  load?(batchSize?: number, modelDir?: string): Promise<EmbeddingTower>;
  /** false: a model folder can name this tower, `facegate train --tower` cannot build one (the opt-in ONNX). */
  trainable?: boolean;
}

/** What the verifier needs from any tower: faces in (already cropped to inputSize), plain embeddings out. */
export interface EmbeddingTower {
  readonly id: string;
  readonly inputSize: number;
  readonly embeddingSize: number;
  embed(faces: RgbImage[]): Promise<Float32Array[]>;
  dispose(): void;
}

/**
 * The seed's `make_embedding()` dimensions. The defaults are the seed; the Keras fixture uses a scaled-down
 * copy of the same topology (same layer types and order) so it stays small enough to commit.
 */
export interface SeedDims {
  inputSize: number;
  /** Filters of the four Conv2D layers. */
  filters: [number, number, number, number];
  /** Square kernel sizes of the four Conv2D layers. */
  kernels: [number, number, number, number];
  /** Pool size of the three MaxPooling2D layers under the faithful 'seed' variant (the seed passes 64). */
  seedPoolSize: number;
  embeddingSize: number;
}

export const SEED_DIMS: Readonly<SeedDims> = {
  inputSize: 100,
  filters: [64, 128, 128, 256],
  kernels: [10, 7, 4, 4],
  seedPoolSize: 64,
  embeddingSize: 4096,
};

/**
 * The seed's embedding model, layer for layer, with the names Keras gives them in a fresh session.
 *
 * The seed writes `MaxPooling2D(64, (2,2), padding='same')`. Keras reads that as pool_size=64,
 * strides=(2,2): a 64x64 window moved by 2. 'seed' reproduces exactly that (so converted seed weights give
 * the seed's numbers); 'seed-pool2' is the evidently intended 2x2 pool. Both give the same shapes
 * (91->46->40->20->17->9->6 at 100 px) and the same parameter count, since pooling has no weights.
 */
export function buildSeedTower(variant: SeedVariant = 'seed', dims: SeedDims = SEED_DIMS): LayersModel {
  const poolSize = variant === 'seed' ? dims.seedPoolSize : 2;
  const input = tf.input({ shape: [dims.inputSize, dims.inputSize, 3], name: 'input_image' });
  let x = input;
  dims.filters.forEach((filters, i) => {
    const suffix = i === 0 ? '' : `_${i}`;
    const kernel = dims.kernels[i] ?? 1;
    x = tf.layers
      .conv2d({ filters, kernelSize: [kernel, kernel], activation: 'relu', name: `conv2d${suffix}` })
      .apply(x) as typeof input;
    if (i < 3) {
      x = tf.layers
        .maxPooling2d({ poolSize: [poolSize, poolSize], strides: [2, 2], padding: 'same', name: `max_pooling2d${suffix}` })
        .apply(x) as typeof input;
    }
  });
  x = tf.layers.flatten({ name: 'flatten' }).apply(x) as typeof input;
  const output = tf.layers
    .dense({ units: dims.embeddingSize, activation: 'sigmoid', name: 'dense' })
    .apply(x) as typeof input;
  return tf.model({ inputs: input, outputs: output, name: 'embedding' });
}

/** Checks that faces are what a tower expects; a wrong size is a caller bug, so it fails loudly. */
export function assertFaces(faces: RgbImage[], inputSize: number, towerId: string): void {
  faces.forEach((face, i) => {
    if (face.width !== inputSize || face.height !== inputSize) {
      throw new Error(`${towerId} tower expects ${inputSize}x${inputSize} faces, face ${i} is ${face.width}x${face.height}`);
    }
    if (face.data.length !== inputSize * inputSize * 3) {
      throw new Error(`face ${i}: ${face.data.length} bytes of RGB, expected ${inputSize * inputSize * 3}`);
    }
  });
}

/** Stacks faces into one [n, size, size, 3] float batch scaled to 0..1, as the seed's `preprocess` does. */
export function facesToBatch(faces: RgbImage[], inputSize: number): Tensor4D {
  const pixels = inputSize * inputSize * 3;
  const batch = new Float32Array(faces.length * pixels);
  faces.forEach((face, i) => {
    const offset = i * pixels;
    for (let p = 0; p < pixels; p++) batch[offset + p] = (face.data[p] ?? 0) / 255;
  });
  return tf.tensor4d(batch, [faces.length, inputSize, inputSize, 3]);
}

/** Splits a [n, d] tensor's values into n plain rows (copies, so no tensor memory is kept). */
export function rowsOf(values: Float32Array, rows: number, width: number): Float32Array[] {
  return Array.from({ length: rows }, (_, r) => values.slice(r * width, (r + 1) * width));
}

/** A seed-shaped tower around its Keras-style 'embedding' model. */
export class SeedTower implements EmbeddingTower {
  readonly inputSize: number;
  readonly embeddingSize: number;

  constructor(
    readonly id: SeedVariant,
    readonly model: LayersModel,
    /** Faces per forward pass: bounds peak memory on a Pi while still batching. */
    private readonly batchSize = 16,
  ) {
    const inShape = model.inputs[0]?.shape;
    const outShape = model.outputs[0]?.shape;
    if (!inShape || !outShape || inShape.length !== 4 || outShape.length !== 2) {
      throw new Error(`${id} tower: expected an image -> vector model, got ${JSON.stringify(inShape)} -> ${JSON.stringify(outShape)}`);
    }
    this.inputSize = inShape[1] ?? 0;
    this.embeddingSize = outShape[1] ?? 0;
  }

  async embed(faces: RgbImage[]): Promise<Float32Array[]> {
    assertFaces(faces, this.inputSize, this.id);
    const out: Float32Array[] = [];
    for (let start = 0; start < faces.length; start += this.batchSize) {
      const chunk = faces.slice(start, start + this.batchSize);
      const embeddings = tf.tidy(() => this.model.predict(facesToBatch(chunk, this.inputSize)) as Tensor);
      try {
        const values = (await embeddings.data()) as Float32Array;
        out.push(...rowsOf(values, chunk.length, this.embeddingSize));
      } finally {
        embeddings.dispose();
      }
    }
    return out;
  }

  dispose(): void {
    this.model.dispose();
  }
}

/** A fresh, randomly initialised seed tower (for training from scratch). */
export function createSeedTower(variant: SeedVariant = 'seed', dims: SeedDims = SEED_DIMS): SeedTower {
  return new SeedTower(variant, buildSeedTower(variant, dims));
}

/** A seed tower kind: trained end to end, so its embeddings belong to one model file (its fingerprint). */
export function seedTowerKind(variant: SeedVariant, doc: string): TowerKind {
  return {
    doc,
    inputSize: SEED_DIMS.inputSize,
    embeddingSize: SEED_DIMS.embeddingSize,
    preprocessing: 'scale-255',
    embeddingKey: (modelFingerprint) => `${variant}:${modelFingerprint}`,
  };
}

export function isSeedVariant(tower: string): tower is SeedVariant {
  return tower === 'seed' || tower === 'seed-pool2';
}
