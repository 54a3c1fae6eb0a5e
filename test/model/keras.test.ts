import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { FIXTURE_DIMS, writeKerasFixture } from '../../scripts/make-keras-fixture.js';
import { initBackend } from '../../src/model/backend.js';
import { loadSiameseModel, readModelFiles } from '../../src/model/io.js';
import { normalizeKerasTopology, stripNestedModelPrefixes } from '../../src/model/layers.js';
import { buildSeedSiamese } from '../../src/model/model.js';
import { tf } from '../../src/model/tf.js';
import type { LayersModel, Tensor } from '../../src/model/tf.js';
import { repoRoot } from '../helpers/datasets.js';

const FIXTURE = join(repoRoot, 'test/fixtures/keras-seed');

before(async () => {
  await initBackend('wasm');
});

/** Our own builder's model with the fixture's weights copied in by Keras weight name. */
async function builderWithFixtureWeights(): Promise<LayersModel> {
  const files = await readModelFiles(FIXTURE);
  const values = new Float32Array(files.weightData);
  const byName = new Map<string, Float32Array>();
  let offset = 0;
  for (const spec of files.weightSpecs) {
    const size = spec.shape.reduce((a, b) => a * b, 1);
    byName.set(spec.name, values.slice(offset, offset + size));
    offset += size;
  }
  const model = buildSeedSiamese('seed', FIXTURE_DIMS);
  for (const weight of model.weights) {
    // Keras names the nested tower's weights embedding/<layer>/..., and the unnamed head Dense is dense_1.
    const kerasName = weight.originalName.startsWith('classification/')
      ? weight.originalName.replace('classification/', 'dense_1/')
      : `embedding/${weight.originalName}`;
    const value = byName.get(kerasName);
    assert.ok(value, `fixture has no weight ${kerasName}`);
    weight.write(tf.tensor(value, weight.shape as number[]));
    byName.delete(kerasName);
  }
  assert.equal(byName.size, 0, `fixture weights left unused: ${[...byName.keys()].join(', ')}`);
  return model;
}

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);

test('the committed fixture is exactly what the generator writes', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'facegate-keras-'));
  try {
    await writeKerasFixture(dir);
    for (const name of ['model.json', 'group1-shard1of1.bin']) {
      assert.ok((await readFile(join(dir, name))).equals(await readFile(join(FIXTURE, name))), `${name} is stale: run scripts/make-keras-fixture.ts`);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('the seed\'s L1Dist(a, b) call, stored by Keras as a kwarg, becomes a two-input node', async () => {
  const { json } = await readModelFiles(FIXTURE);
  type Layer = { name: string; inbound_nodes: unknown };
  const layersOf = (t: unknown) => (t as { model_config: { config: { layers: Layer[] } } }).model_config.config.layers;
  assert.deepEqual(layersOf(json.modelTopology).find((l) => l.name === 'distance')?.inbound_nodes, [
    [['embedding', 1, 0, { validation_embedding: ['embedding', 2, 0] }]],
  ]);
  const normalized = normalizeKerasTopology(json.modelTopology);
  assert.deepEqual(layersOf(normalized).find((l) => l.name === 'distance')?.inbound_nodes, [
    [['embedding', 1, 0, {}], ['embedding', 2, 0, {}]],
  ]);
  assert.notDeepEqual(layersOf(json.modelTopology), layersOf(normalized), 'the original is left untouched');
});

test('weights sharded over several files, as the converter writes big models, load the same', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'facegate-shards-'));
  try {
    const json = JSON.parse(await readFile(join(FIXTURE, 'model.json'), 'utf8'));
    const bin = await readFile(join(FIXTURE, 'group1-shard1of1.bin'));
    const cuts = [0, 10_000, 20_000, bin.length];
    const paths = [1, 2, 3].map((i) => `group1-shard${i}of3.bin`);
    await Promise.all(paths.map((p, i) => writeFile(join(dir, p), bin.subarray(cuts[i], cuts[i + 1]))));
    json.weightsManifest[0].paths = paths;
    await writeFile(join(dir, 'model.json'), JSON.stringify(json));
    const [sharded, single] = [await loadSiameseModel(dir), await loadSiameseModel(FIXTURE)];
    const x = tf.randomUniform([2, 28, 28, 3], 0, 1, 'float32', 4);
    const [a, b] = [sharded.full!.predict([x, x.reverse(0)]) as Tensor, single.full!.predict([x, x.reverse(0)]) as Tensor];
    assert.deepEqual(a.dataSync(), b.dataSync());
    tf.dispose([x, a, b]);
    sharded.dispose();
    single.dispose();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('weights named after their nested model (embedding/conv2d/kernel) map to tfjs names; others stay', async () => {
  const { json } = await readModelFiles(FIXTURE);
  const names = stripNestedModelPrefixes(json.modelTopology, [
    { name: 'embedding/conv2d/kernel' },
    { name: 'conv2d/kernel' },
    { name: 'dense_1/bias' },
    { name: 'embedding' },
  ]).map((w) => w.name);
  assert.deepEqual(names, ['conv2d/kernel', 'conv2d/kernel', 'dense_1/bias', 'embedding']);
});

test('a Keras-converted model loads as is and matches our builder with the same weights (<= 1e-5)', async () => {
  const loaded = await loadSiameseModel(FIXTURE);
  const ours = await builderWithFixtureWeights();
  try {
    assert.equal(loaded.metadata.tower, 'seed', 'a 64-window pool means the faithful seed');
    assert.equal(loaded.metadata.inputSize, 28);
    assert.equal(loaded.metadata.embeddingSize, 32);
    assert.equal(loaded.metadata.preprocessing, 'scale-255');
    assert.deepEqual(loaded.metadata.thresholds, { detection: 0.5, verification: 0.5 });

    const inputImg = tf.randomUniform([6, 28, 28, 3], 0, 1, 'float32', 1);
    const validationImg = tf.randomUniform([6, 28, 28, 3], 0, 1, 'float32', 2);
    const fromKeras = loaded.full!.predict([inputImg, validationImg]) as Tensor;
    const fromBuilder = ours.predict([inputImg, validationImg]) as Tensor;
    const diff = maxAbsDiff(fromKeras.dataSync(), fromBuilder.dataSync());
    assert.ok(diff <= 1e-5, `full models differ by ${diff}`);

    // The verify-time path (tower once per face, then the head) gives the full model's scores.
    // Different brightness per face: a 64-window max pool on 28 px sees nearly the whole image.
    const faces = [0, 1, 2].map((seed) => {
      const data = new Uint8Array(28 * 28 * 3).map((_, i) => (((i * 31 + seed * 97) % 256) * (seed + 1)) / 3);
      return { data, width: 28, height: 28 };
    });
    const [probe, ...refs] = await loaded.embed(faces);
    const scores = loaded.scorePairs(probe!, refs);
    const batch = tf.tensor4d(Float32Array.from(faces.flatMap((f) => Array.from(f.data, (v) => v / 255))), [3, 28, 28, 3]);
    const probeBatch = tf.tile(batch.slice([0, 0, 0, 0], [1, 28, 28, 3]), [2, 1, 1, 1]);
    const refBatch = batch.slice([1, 0, 0, 0], [2, 28, 28, 3]);
    const expected = (ours.predict([probeBatch, refBatch]) as Tensor).dataSync();
    assert.ok(maxAbsDiff(scores, expected) <= 1e-5, `split scoring differs: ${scores} vs ${expected}`);
    assert.ok(Math.abs(scores[0]! - scores[1]!) > 1e-6, 'the validation image matters: L1Dist got both inputs');
    tf.dispose([inputImg, validationImg, fromKeras, fromBuilder, batch, probeBatch, refBatch]);
  } finally {
    loaded.dispose();
    ours.dispose();
  }
});
