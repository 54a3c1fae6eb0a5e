import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { initBackend } from '../../src/model/backend.js';
import { fingerprint, loadSiameseModel, ModelLoadError, saveSiameseModel } from '../../src/model/io.js';
import { seedDefaults } from '../../src/model/metadata.js';
import { buildHead, buildSeedSiamese, seedSiameseModel, SiameseModel } from '../../src/model/model.js';
import { createFaceApiTower } from '../../src/model/faceapi-tower.js';
import type { SeedDims } from '../../src/model/towers.js';

const SMALL: SeedDims = { inputSize: 28, filters: [4, 8, 8, 8], kernels: [5, 3, 2, 2], seedPoolSize: 64, embeddingSize: 16 };
let root = '';

before(async () => {
  await initBackend('wasm');
  root = await mkdtemp(join(tmpdir(), 'facegate-io-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

function smallSeedModel(variant: 'seed' | 'seed-pool2' = 'seed-pool2'): SiameseModel {
  const meta = seedDefaults({ tower: variant, inputSize: 28, embeddingSize: 16, thresholds: { detection: 0.7, verification: 0.6 }, training: { epochs: 3 } });
  return seedSiameseModel(buildSeedSiamese(variant, SMALL), variant, meta);
}

const bytesOf = (model: SiameseModel) => model.saveable.weights.map((w) => Buffer.from(w.read().dataSync().buffer));

async function expectLoadError(dir: string, kind: string, message: RegExp): Promise<void> {
  await assert.rejects(loadSiameseModel(dir), (err: unknown) => {
    assert.ok(err instanceof ModelLoadError, `expected ModelLoadError, got ${String(err)}`);
    assert.equal(err.kind, kind);
    assert.match(err.message, message);
    return true;
  });
}

test('save -> load round trip is bit-exact: weights, scores and metadata', async () => {
  const dir = join(root, 'roundtrip');
  const model = smallSeedModel();
  await saveSiameseModel(dir, model);
  assert.deepEqual((await readdir(dir)).sort(), ['model.json', 'weights.bin']);
  const json = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8'));
  assert.equal(json.format, 'layers-model');
  assert.deepEqual(json.weightsManifest[0].paths, ['weights.bin']);
  assert.equal(json.userDefinedMetadata.facegate.tower, 'seed-pool2');

  const loaded = await loadSiameseModel(dir);
  const { created, ...meta } = loaded.metadata;
  const { created: _unused, ...original } = model.metadata;
  assert.deepEqual(meta, original);
  assert.ok(!Number.isNaN(Date.parse(created)));
  const [a, b] = [bytesOf(model), bytesOf(loaded)];
  assert.equal(a.length, b.length);
  a.forEach((buf, i) => assert.ok(buf.equals(b[i]!), `weight ${i} changed on disk`));
  const probe = Float32Array.from({ length: 16 }, (_, i) => i / 16);
  const refs = [Float32Array.from({ length: 16 }, (_, i) => 1 - i / 16), new Float32Array(16)];
  assert.deepEqual(loaded.scorePairs(probe, refs), model.scorePairs(probe, refs));
  model.dispose();
  loaded.dispose();
});

test('a pretrained-tower model stores only its head and reloads with the face-api tower', async () => {
  const dir = join(root, 'faceapi');
  const meta = seedDefaults({ tower: 'faceapi-resnet128', inputSize: 150, embeddingSize: 128, preprocessing: 'faceapi' });
  const model = new SiameseModel(await createFaceApiTower(), buildHead(128, { seed: 3 }), meta);
  await saveSiameseModel(dir, model);
  const json = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8'));
  const layerNames = json.modelTopology.config.layers.map((l: { name: string }) => l.name);
  assert.deepEqual(layerNames, ['embedding_a', 'embedding_b', 'distance', 'classification']);
  assert.equal((await readFile(join(dir, 'weights.bin'))).length, 129 * 4);
  const loaded = await loadSiameseModel(dir);
  assert.equal(loaded.tower.id, 'faceapi-resnet128');
  const probe = Float32Array.from({ length: 128 }, (_, i) => Math.sin(i));
  const refs = [Float32Array.from({ length: 128 }, (_, i) => Math.cos(i))];
  assert.deepEqual(loaded.scorePairs(probe, refs), model.scorePairs(probe, refs));
  model.dispose();
  loaded.dispose();
});

test('saving over a model replaces it whole and leaves no temp folders behind', async () => {
  const parent = join(root, 'atomic');
  const dir = join(parent, 'model');
  const first = smallSeedModel();
  const second = smallSeedModel('seed');
  await saveSiameseModel(dir, first);
  const before = await fingerprint(dir);
  await saveSiameseModel(dir, second);
  assert.notEqual(await fingerprint(dir), before);
  assert.deepEqual(await readdir(parent), ['model']);
  const loaded = await loadSiameseModel(dir);
  assert.equal(loaded.metadata.tower, 'seed');
  first.dispose();
  second.dispose();
  loaded.dispose();
});

test('fingerprint is stable, and changes when one weight byte changes', async () => {
  const dir = join(root, 'fingerprint');
  const model = smallSeedModel();
  await saveSiameseModel(dir, model);
  model.dispose();
  const first = await fingerprint(dir);
  assert.match(first, /^[0-9a-f]{64}$/);
  assert.equal(await fingerprint(dir), first);
  const weights = await readFile(join(dir, 'weights.bin'));
  weights[100] = weights[100]! ^ 1;
  await writeFile(join(dir, 'weights.bin'), weights);
  assert.notEqual(await fingerprint(dir), first);
});

test('broken model folders fail with clear, typed errors', async () => {
  await expectLoadError(join(root, 'nowhere'), 'missing', /model folder .*nowhere does not exist/);

  const dir = join(root, 'broken');
  const model = smallSeedModel();
  await saveSiameseModel(dir, model);
  model.dispose();
  const goodJson = await readFile(join(dir, 'model.json'), 'utf8');
  const weightBytes = (await readFile(join(dir, 'weights.bin'))).length;

  await truncate(join(dir, 'weights.bin'), weightBytes - 10);
  await expectLoadError(dir, 'truncated', new RegExp(`weights\\.bin has ${weightBytes - 10} bytes, manifest expects ${weightBytes}`));
  await rm(join(dir, 'weights.bin'));
  await expectLoadError(dir, 'missing', /weights\.bin does not exist/);

  const withWeights = async (json: string) => {
    const fresh = smallSeedModel();
    await saveSiameseModel(dir, fresh);
    fresh.dispose();
    await writeFile(join(dir, 'model.json'), json);
  };
  await withWeights(goodJson.slice(0, -20));
  await expectLoadError(dir, 'syntax', /model\.json is not valid JSON/);

  const swapped = JSON.parse(goodJson);
  const dense = swapped.weightsManifest[0].weights.find((w: { name: string }) => w.name === 'dense/kernel');
  dense.shape = [...dense.shape].reverse(); // same byte count, wrong shape
  await withWeights(JSON.stringify(swapped));
  await expectLoadError(dir, 'shape', /shape/i);

  const unknown = JSON.parse(goodJson);
  unknown.userDefinedMetadata.facegate.tower = 'vgg-face';
  await withWeights(JSON.stringify(unknown));
  await expectLoadError(dir, 'unknown-tower', /tower is unknown: "vgg-face"/);

  const badThreshold = JSON.parse(goodJson);
  badThreshold.userDefinedMetadata.facegate.thresholds.detection = 1.5;
  await withWeights(JSON.stringify(badThreshold));
  await expectLoadError(dir, 'metadata', /thresholds\.detection must be a number in \[0, 1\], got 1\.5/);

  const newer = JSON.parse(goodJson);
  newer.userDefinedMetadata.facegate.format = 2;
  await withWeights(JSON.stringify(newer));
  await expectLoadError(dir, 'metadata', /format must be 1, got 2/);

  const escaping = JSON.parse(goodJson);
  escaping.weightsManifest[0].paths = ['../weights.bin'];
  await withWeights(JSON.stringify(escaping));
  await expectLoadError(dir, 'format', /must be a plain file name/);

  await rm(join(dir, 'model.json'));
  await expectLoadError(dir, 'missing', /model\.json does not exist/);
});
