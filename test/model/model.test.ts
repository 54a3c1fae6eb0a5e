import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { initBackend } from '../../src/model/backend.js';
import { seedDefaults } from '../../src/model/metadata.js';
import { buildHead, buildSeedSiamese, seedSiameseModel, trainHead } from '../../src/model/model.js';
import type { HeadPair } from '../../src/model/model.js';
import { tf } from '../../src/model/tf.js';
import type { Tensor } from '../../src/model/tf.js';
import type { SeedDims } from '../../src/model/towers.js';

const SMALL: SeedDims = { inputSize: 28, filters: [4, 8, 8, 8], kernels: [5, 3, 2, 2], seedPoolSize: 64, embeddingSize: 16 };

before(async () => {
  await initBackend('wasm');
});

function rng(seed: number): () => number {
  let state = seed;
  return () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state / 4294967296;
  };
}

/** Synthetic embeddings: a genuine pair differs a little, an impostor pair a lot, on the first dimensions only. */
function syntheticPairs(count: number, size: number, seed: number): HeadPair[] {
  const random = rng(seed);
  return Array.from({ length: count }, (_, i) => {
    const label = (i % 2) as 0 | 1;
    const a = Float32Array.from({ length: size }, () => random());
    const spread = label === 1 ? 0.05 : 0.6;
    const b = Float32Array.from(a, (v, d) => (d < size / 2 ? v + (random() - 0.5) * spread : random()));
    return { a, b, label };
  });
}

test('the head is L1Dist + Dense(1, sigmoid) with 4,097 parameters for 4096-d embeddings', () => {
  const head = buildHead(4096);
  assert.equal(head.countParams(), 4097);
  assert.deepEqual(head.layers.map((l) => l.name), ['embedding_a', 'embedding_b', 'distance', 'classification']);
  assert.equal(head.getLayer('distance').getClassName(), 'L1Dist');
  head.dispose();
});

test('a threshold-initialised head scores 0.5 at that L1 distance and near 1 for identical embeddings', () => {
  const size = 128;
  const head = buildHead(size, { l1Threshold: 5.4, sharpness: 4 });
  const probe = new Float32Array(size);
  const atThreshold = new Float32Array(size).fill(5.4 / size);
  const far = new Float32Array(size).fill(10.8 / size);
  const scores = tf.tidy(() => {
    const out = head.predict([tf.tensor2d([...probe, ...probe, ...probe], [3, size]), tf.tensor2d([...probe, ...atThreshold, ...far], [3, size])]) as Tensor;
    return Array.from(out.dataSync());
  });
  assert.ok(scores[0]! > 0.98, `identical: ${scores[0]}`);
  assert.ok(Math.abs(scores[1]! - 0.5) < 1e-4, `at threshold: ${scores[1]}`);
  assert.ok(scores[2]! < 0.02, `twice the threshold: ${scores[2]}`);
  head.dispose();
});

test('scorePairs scores all references in one call, equal to the full siamese model on the images', async () => {
  const full = buildSeedSiamese('seed-pool2', SMALL);
  const model = seedSiameseModel(full, 'seed-pool2', seedDefaults({ tower: 'seed-pool2', inputSize: 28, embeddingSize: 16 }));
  const random = rng(5);
  const faces = Array.from({ length: 4 }, () => ({ width: 28, height: 28, data: Uint8Array.from({ length: 28 * 28 * 3 }, () => Math.floor(random() * 256)) }));
  const [probe, ...refs] = await model.embed(faces);
  const scores = model.scorePairs(probe!, refs);
  assert.equal(scores.length, 3);
  const expected = tf.tidy(() => {
    const images = tf.tensor4d(Float32Array.from(faces.flatMap((f) => Array.from(f.data, (v) => v / 255))), [4, 28, 28, 3]);
    const probes = tf.tile(images.slice([0, 0, 0, 0], [1, 28, 28, 3]), [3, 1, 1, 1]);
    return Array.from((full.predict([probes, images.slice([1, 0, 0, 0], [3, 28, 28, 3])]) as Tensor).dataSync());
  });
  scores.forEach((s, i) => assert.ok(Math.abs(s - expected[i]!) < 1e-6, `pair ${i}: ${s} vs ${expected[i]}`));
  refs.forEach((ref, i) => assert.equal(model.scorePairs(probe!, [ref])[0], scores[i], 'batched equals one at a time'));
  assert.deepEqual(model.scorePairs(probe!, []), new Float32Array(0));
  assert.throws(() => model.scorePairs(new Float32Array(15), refs), /probe embedding has 15 values, model uses 16/);
  assert.throws(() => model.scorePairs(probe!, [new Float32Array(3)]), /reference embedding 0 has 3 values/);
  model.dispose();
});

test('trainHead is deterministic, lowers the loss and separates genuine from impostor pairs', async () => {
  const pairs = syntheticPairs(400, 16, 1);
  const run = async () => {
    const head = buildHead(16, { seed: 9 });
    const history = await trainHead(head, pairs, { epochs: 30, batchSize: 32, learningRate: 0.05, seed: 4 });
    const weights = head.getWeights().map((w) => Array.from(w.dataSync()));
    return { head, history, weights };
  };
  const first = await run();
  const second = await run();
  assert.deepEqual(second.history, first.history, 'same seed, same data -> same losses');
  assert.deepEqual(second.weights, first.weights, 'same seed, same data -> same weights');
  assert.equal(first.history.length, 30);
  assert.ok(first.history.at(-1)! < first.history[0]! * 0.5, `loss ${first.history[0]} -> ${first.history.at(-1)}`);

  const test = syntheticPairs(200, 16, 2);
  const correct = tf.tidy(() => {
    const a = tf.tensor2d(test.flatMap((p) => Array.from(p.a)), [test.length, 16]);
    const b = tf.tensor2d(test.flatMap((p) => Array.from(p.b)), [test.length, 16]);
    const scores = (first.head.predict([a, b]) as Tensor).dataSync();
    return test.filter((p, i) => (scores[i]! > 0.5 ? 1 : 0) === p.label).length;
  });
  assert.ok(correct / test.length > 0.95, `held-out accuracy ${correct / test.length}`);
  first.head.dispose();
  second.head.dispose();
});

test('training the head of a seed model updates the full model it will be saved as', async () => {
  const model = seedSiameseModel(buildSeedSiamese('seed-pool2', SMALL), 'seed-pool2', seedDefaults({ tower: 'seed-pool2', inputSize: 28, embeddingSize: 16 }));
  const fullKernel = () => Array.from(model.full!.getLayer('classification').getWeights()[0]!.dataSync());
  const before = fullKernel();
  await model.trainHead(syntheticPairs(64, 16, 3), { epochs: 2, batchSize: 16 });
  assert.notDeepEqual(fullKernel(), before);
  model.dispose();
});

test('disposing a model frees every tensor it made, including shared tower and head weights', async () => {
  const start = tf.memory().numTensors;
  const model = seedSiameseModel(buildSeedSiamese('seed', SMALL), 'seed', seedDefaults({ inputSize: 28, embeddingSize: 16 }));
  const [e] = await model.embed([{ width: 28, height: 28, data: new Uint8Array(28 * 28 * 3).fill(128) }]);
  model.scorePairs(e!, [e!, e!]);
  await model.trainHead([{ a: e!, b: e!, label: 1 }], { epochs: 1 });
  assert.ok(tf.memory().numTensors > start);
  model.dispose();
  assert.equal(tf.memory().numTensors, start);
});
