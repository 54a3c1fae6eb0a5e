import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { initBackend } from '../../src/model/backend.js';
import { tf } from '../../src/model/tf.js';
import type { LayersModel, Tensor } from '../../src/model/tf.js';
import { registerWasmTrainingKernels } from '../../src/training/wasm-grads.js';
import { buildSeedTower, SeedTower } from '../../src/model/towers.js';
import { createFaceApiTower } from '../../src/model/faceapi-tower.js';
import type { RgbImage, SeedDims } from '../../src/model/towers.js';
import { seededRandom } from '../../src/random.js';

before(async () => {
  await initBackend('wasm');
});

const SMALL: SeedDims = { inputSize: 28, filters: [4, 8, 8, 8], kernels: [5, 3, 2, 2], seedPoolSize: 64, embeddingSize: 16 };

/** A deterministic pseudo-random RGB face of the given size. */
function face(size: number, seed: number): RgbImage {
  const data = new Uint8Array(size * size * 3);
  let state = seed;
  for (let i = 0; i < data.length; i++) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    data[i] = state >>> 24;
  }
  return { data, width: size, height: size };
}

/**
 * The tower's weights from a seed instead of tfjs's unseeded initialiser: a small tower with random weights can
 * come out dead (every ReLU zero, every face 0.5 out of the sigmoid), which made the "faces differ" check flaky.
 * Small positive biases keep the ReLUs alive; the values are fixed, so the check is too.
 */
function withSeededWeights(model: LayersModel, seed: number): LayersModel {
  const random = seededRandom(seed);
  const seeded = model.getWeights().map((w) => {
    const isBias = w.shape.length === 1;
    return tf.tensor(Float32Array.from({ length: w.size }, () => (isBias ? 0.05 : (random() - 0.5) * 0.4)), w.shape);
  });
  model.setWeights(seeded);
  tf.dispose(seeded);
  return model;
}

/** The two full-size towers are slow to initialise (39M weights each), so both tests share one pair. */
let fullSize: { seed: LayersModel; pool2: LayersModel } | null = null;
function fullSizeTowers() {
  fullSize ??= { seed: buildSeedTower('seed'), pool2: buildSeedTower('seed-pool2') };
  return fullSize;
}
after(() => {
  fullSize?.seed.dispose();
  fullSize?.pool2.dispose();
});

const maxAbsDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);

test('both seed variants have the seed\'s 38,960,448 parameters and its 91-46-40-20-17-9-6 shapes', () => {
  const { seed, pool2 } = fullSizeTowers();
  for (const [variant, tower] of [['seed', seed], ['seed-pool2', pool2]] as const) {
    assert.equal(tower.name, 'embedding');
    assert.equal(tower.countParams(), 38_960_448, variant);
    const sides = tower.layers.slice(1, 8).map((l) => (l.outputShape as number[])[1]);
    assert.deepEqual(sides, [91, 46, 40, 20, 17, 9, 6], variant);
    assert.deepEqual(tower.outputs[0]?.shape, [null, 4096]);
    assert.equal(tower.layers[0]?.name, 'input_image');
  }
});

test('faithful seed pool is 64x64 stride 2: same shapes as the 2x2 pool, different numbers', () => {
  const { seed, pool2 } = fullSizeTowers();
  const poolConfig = seed.getLayer('max_pooling2d').getConfig();
  assert.deepEqual(poolConfig.poolSize, [64, 64]);
  assert.deepEqual(poolConfig.strides, [2, 2]);
  assert.equal(poolConfig.padding, 'same');
  assert.deepEqual(pool2.getLayer('max_pooling2d').getConfig().poolSize, [2, 2]);
  pool2.setWeights(seed.getWeights());
  const x = tf.randomUniform([1, 100, 100, 3], 0, 1, 'float32', 7);
  const a = seed.predict(x) as ReturnType<typeof tf.tensor2d>;
  const b = pool2.predict(x) as ReturnType<typeof tf.tensor2d>;
  assert.deepEqual(a.shape, b.shape);
  const diff = tf.tidy(() => a.sub(b).abs().max().dataSync()[0]!);
  assert.ok(diff > 1e-3, `outputs should differ, max diff ${diff}`);
  tf.dispose([x, a, b]);
});

/** Keras/TF 'same' max pooling done by hand: window k, stride 2, padding split floor/ceil and never a value. */
function bruteForceMaxPool(x: Float32Array, side: number, channels: number, k: number): Float32Array {
  const outSide = Math.ceil(side / 2);
  const padBefore = Math.floor(Math.max((outSide - 1) * 2 + k - side, 0) / 2);
  const out = new Float32Array(outSide * outSide * channels).fill(-Infinity);
  for (let oy = 0; oy < outSide; oy++)
    for (let ox = 0; ox < outSide; ox++)
      for (let y = Math.max(0, oy * 2 - padBefore); y < Math.min(side, oy * 2 - padBefore + k); y++)
        for (let xx = Math.max(0, ox * 2 - padBefore); xx < Math.min(side, ox * 2 - padBefore + k); xx++)
          for (let c = 0; c < channels; c++) {
            const o = (oy * outSide + ox) * channels + c;
            out[o] = Math.max(out[o]!, x[(y * side + xx) * channels + c]!);
          }
  return out;
}

test('the faithful pool computes what Keras computes for MaxPooling2D(64, (2,2), padding=\'same\')', async () => {
  const pool = fullSizeTowers().seed.getLayer('max_pooling2d');
  // Negative values too: a padded border must never win the max (TF pads with -inf, not 0).
  const input = tf.randomUniform([1, 91, 91, 3], -1, 0.2, 'float32', 3);
  const expected = bruteForceMaxPool(input.dataSync() as Float32Array, 91, 3, 64);
  const check = (label: string) => {
    const out = pool.apply(input) as Tensor;
    assert.deepEqual(out.shape, [1, 46, 46, 3]);
    assert.ok(maxAbsDiff(out.dataSync() as Float32Array, expected) === 0, `${label}: pool differs from Keras semantics`);
    out.dispose();
  };
  check('stock wasm kernel');
  assert.ok(registerWasmTrainingKernels(), 'wasm backend expected');
  check('facegate training kernel');
  input.dispose();
});

test('SeedTower scales by 1/255, batches in chunks, returns plain arrays and frees every tensor', async () => {
  const model: LayersModel = withSeededWeights(buildSeedTower('seed-pool2', SMALL), 11);
  const tower = new SeedTower('seed-pool2', model, 2);
  assert.equal(tower.inputSize, 28);
  assert.equal(tower.embeddingSize, 16);
  const faces = [face(28, 1), face(28, 2), face(28, 3)];
  const before = tf.memory().numTensors;
  const batched = await tower.embed(faces);
  assert.equal(tf.memory().numTensors, before, 'embed must not leak tensors');
  assert.equal(batched.length, 3);
  for (const [i, f] of faces.entries()) {
    assert.ok(batched[i] instanceof Float32Array);
    assert.equal(batched[i]!.length, 16);
    const [single] = await tower.embed([f]);
    assert.ok(maxAbsDiff(batched[i]!, single!) < 1e-6, 'a face embeds the same alone or in a batch');
    const expected = tf.tidy(() => (model.predict(tf.tensor4d(Float32Array.from(f.data, (v) => v / 255), [1, 28, 28, 3])) as ReturnType<typeof tf.tensor2d>).dataSync());
    assert.ok(maxAbsDiff(single!, Float32Array.from(expected)) < 1e-6, 'preprocessing is RGB / 255');
  }
  assert.notDeepEqual(batched[0], batched[1]);
  await assert.rejects(tower.embed([face(27, 1)]), /expects 28x28 faces, face 0 is 27x27/);
  assert.deepEqual(await tower.embed([]), []);
  tower.dispose();
});

test('face-api ResNet tower: 128-d descriptors, one batched pass equals single passes, no leaks', async () => {
  const tower = await createFaceApiTower(8);
  assert.equal(tower.id, 'faceapi-resnet128');
  assert.equal(tower.inputSize, 150);
  const faces = [face(150, 11), face(150, 12), face(150, 13)];
  const before = tf.memory().numTensors;
  const batched = await tower.embed(faces);
  assert.equal(tf.memory().numTensors, before, 'embed must not leak tensors');
  assert.equal(batched.length, 3);
  for (const [i, f] of faces.entries()) {
    assert.equal(batched[i]!.length, 128);
    const [single] = await tower.embed([f]);
    assert.ok(maxAbsDiff(batched[i]!, single!) < 1e-4, `face ${i}: batch and single disagree`);
  }
  assert.ok(maxAbsDiff(batched[0]!, batched[1]!) > 1e-3, 'different faces give different descriptors');
  await assert.rejects(tower.embed([face(100, 1)]), /expects 150x150/);
  tower.dispose();
});
