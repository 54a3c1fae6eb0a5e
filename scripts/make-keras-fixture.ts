/**
 * Writes test/fixtures/keras-seed/: a scaled-down seed siamese model in exactly the layout that
 * `tensorflowjs_converter --input_format keras` writes for a Keras 2 functional model (model.json with
 * modelTopology.model_config, the nested 'embedding' Functional as a layer, the custom L1Dist layer called
 * the way the seed calls it, and a group1-shard1of1.bin weights file).
 *
 * Scaled down because the real seed carries 156 MB of weights: same layer types, order, names and the seed's
 * MaxPooling2D(64, (2,2), padding='same') call, but a 28x28 input, few filters and a 32-d embedding.
 * Deterministic: weights come from a seeded PRNG, so re-running gives identical bytes.
 * The JSON is written by hand here, independent of src/siamese, so the test compares two separate builds.
 *
 * Usage: node --import tsx scripts/make-keras-fixture.ts [outDir]
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { seededRandom } from '../src/random.js';

export const FIXTURE_DIMS = {
  inputSize: 28,
  filters: [8, 16, 16, 32] as [number, number, number, number],
  kernels: [5, 3, 2, 2] as [number, number, number, number],
  seedPoolSize: 64,
  embeddingSize: 32,
};
const KERAS_VERSION = '2.12.0';

const initializer = (seed: null | number = null) => ({ class_name: 'GlorotUniform', config: { seed } });
const zeros = { class_name: 'Zeros', config: {} };
const regularizers = { kernel_regularizer: null, bias_regularizer: null, activity_regularizer: null, kernel_constraint: null, bias_constraint: null };

function inputLayer(name: string, size: number) {
  return {
    class_name: 'InputLayer',
    config: { batch_input_shape: [null, size, size, 3], dtype: 'float32', sparse: false, ragged: false, name },
    name,
    inbound_nodes: [],
  };
}

function conv2d(name: string, filters: number, kernel: number, from: string) {
  return {
    class_name: 'Conv2D',
    config: {
      name, trainable: true, dtype: 'float32', filters, kernel_size: [kernel, kernel], strides: [1, 1], padding: 'valid',
      data_format: 'channels_last', dilation_rate: [1, 1], groups: 1, activation: 'relu', use_bias: true,
      kernel_initializer: initializer(), bias_initializer: zeros, ...regularizers,
    },
    name,
    inbound_nodes: [[[from, 0, 0, {}]]],
  };
}

function maxPool(name: string, poolSize: number, from: string) {
  return {
    class_name: 'MaxPooling2D',
    config: { name, trainable: true, dtype: 'float32', pool_size: [poolSize, poolSize], padding: 'same', strides: [2, 2], data_format: 'channels_last' },
    name,
    inbound_nodes: [[[from, 0, 0, {}]]],
  };
}

function dense(name: string, units: number, inboundNodes: unknown[]) {
  return {
    class_name: 'Dense',
    config: {
      name, trainable: true, dtype: 'float32', units, activation: 'sigmoid', use_bias: true,
      kernel_initializer: initializer(), bias_initializer: zeros, ...regularizers,
    },
    name,
    inbound_nodes: inboundNodes,
  };
}

/** The model.json topology and the weights (name, shape) in the order Keras' h5 file lists them. */
export function fixtureTopology(dims = FIXTURE_DIMS) {
  const [f1, f2, f3, f4] = dims.filters;
  const [k1, k2, k3, k4] = dims.kernels;
  // Spatial size after the four valid convs and three stride-2 'same' pools.
  let side = dims.inputSize;
  dims.kernels.forEach((k, i) => {
    side = side - k + 1;
    if (i < 3) side = Math.ceil(side / 2);
  });
  const flat = side * side * f4;
  const p = dims.seedPoolSize;
  const embedding = {
    class_name: 'Functional',
    config: {
      name: 'embedding',
      trainable: true,
      layers: [
        inputLayer('input_image', dims.inputSize),
        conv2d('conv2d', f1, k1, 'input_image'),
        maxPool('max_pooling2d', p, 'conv2d'),
        conv2d('conv2d_1', f2, k2, 'max_pooling2d'),
        maxPool('max_pooling2d_1', p, 'conv2d_1'),
        conv2d('conv2d_2', f3, k3, 'max_pooling2d_1'),
        maxPool('max_pooling2d_2', p, 'conv2d_2'),
        conv2d('conv2d_3', f4, k4, 'max_pooling2d_2'),
        { class_name: 'Flatten', config: { name: 'flatten', trainable: true, dtype: 'float32', data_format: 'channels_last' }, name: 'flatten', inbound_nodes: [[['conv2d_3', 0, 0, {}]]] },
        dense('dense', dims.embeddingSize, [[['flatten', 0, 0, {}]]]),
      ],
      input_layers: [['input_image', 0, 0]],
      output_layers: [['dense', 0, 0]],
    },
    name: 'embedding',
    // Node 0 of a nested Functional is its own construction, which Keras skips: its two calls are nodes 1 and 2.
    inbound_nodes: [[['input_img', 0, 0, {}]], [['validation_img', 0, 0, {}]]],
  };
  const distance = {
    class_name: 'L1Dist',
    config: { name: 'distance', trainable: true, dtype: 'float32' },
    name: 'distance',
    // The seed calls siamese_layer(embedding(input_image), embedding(validation_image)): Keras 2 keeps the first
    // tensor as the input and records the second as the call's keyword argument.
    inbound_nodes: [[['embedding', 1, 0, { validation_embedding: ['embedding', 2, 0] }]]],
  };
  const modelTopology = {
    keras_version: KERAS_VERSION,
    backend: 'tensorflow',
    model_config: {
      class_name: 'Functional',
      config: {
        name: 'SiameseNetwork',
        trainable: true,
        layers: [
          inputLayer('input_img', dims.inputSize),
          inputLayer('validation_img', dims.inputSize),
          embedding,
          distance,
          dense('dense_1', 1, [[['distance', 0, 0, {}]]]),
        ],
        input_layers: [['input_img', 0, 0], ['validation_img', 0, 0]],
        output_layers: [['dense_1', 0, 0]],
      },
    },
  };
  const weights: Array<{ name: string; shape: number[] }> = [
    { name: 'embedding/conv2d/kernel', shape: [k1, k1, 3, f1] },
    { name: 'embedding/conv2d/bias', shape: [f1] },
    { name: 'embedding/conv2d_1/kernel', shape: [k2, k2, f1, f2] },
    { name: 'embedding/conv2d_1/bias', shape: [f2] },
    { name: 'embedding/conv2d_2/kernel', shape: [k3, k3, f2, f3] },
    { name: 'embedding/conv2d_2/bias', shape: [f3] },
    { name: 'embedding/conv2d_3/kernel', shape: [k4, k4, f3, f4] },
    { name: 'embedding/conv2d_3/bias', shape: [f4] },
    { name: 'embedding/dense/kernel', shape: [flat, dims.embeddingSize] },
    { name: 'embedding/dense/bias', shape: [dims.embeddingSize] },
    { name: 'dense_1/kernel', shape: [dims.embeddingSize, 1] },
    { name: 'dense_1/bias', shape: [1] },
  ];
  return { modelTopology, weights };
}

/** Glorot-uniform-like kernels and small non-zero biases (so a test notices a bias that was not copied). */
export function fixtureWeights(shapes: Array<{ name: string; shape: number[] }>, seed = 20240607): Float32Array {
  const random = seededRandom(seed);
  const total = shapes.reduce((n, w) => n + w.shape.reduce((a, b) => a * b, 1), 0);
  const values = new Float32Array(total);
  let offset = 0;
  for (const { shape } of shapes) {
    const size = shape.reduce((a, b) => a * b, 1);
    const isBias = shape.length === 1;
    const fanIn = shape.slice(0, -1).reduce((a, b) => a * b, 1);
    const fanOut = (shape.length > 2 ? shape.slice(0, -2).reduce((a, b) => a * b, 1) : 1) * (shape[shape.length - 1] ?? 1);
    const limit = isBias ? 0.1 : Math.sqrt(6 / (fanIn + fanOut));
    for (let i = 0; i < size; i++) values[offset + i] = (random() * 2 - 1) * limit;
    offset += size;
  }
  return values;
}

export async function writeKerasFixture(outDir: string): Promise<void> {
  const { modelTopology, weights } = fixtureTopology();
  const values = fixtureWeights(weights);
  const bin = 'group1-shard1of1.bin';
  const modelJson = {
    format: 'layers-model',
    generatedBy: `keras v${KERAS_VERSION}`,
    convertedBy: 'TensorFlow.js Converter v4.22.0',
    modelTopology,
    weightsManifest: [{ paths: [bin], weights: weights.map((w) => ({ ...w, dtype: 'float32' })) }],
  };
  await mkdir(outDir, { recursive: true });
  // Little-endian float32, as the converter writes (numpy's native order on every supported platform).
  const bytes = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => bytes.writeFloatLE(v, i * 4));
  await writeFile(join(outDir, bin), bytes);
  await writeFile(join(outDir, 'model.json'), JSON.stringify(modelJson));
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const outDir = resolve(process.argv[2] ?? 'test/fixtures/keras-seed');
  await writeKerasFixture(outDir);
  console.log(`wrote ${outDir}`);
}
