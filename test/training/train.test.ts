import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { tf } from '../../src/model/tf.js';
import { initBackend } from '../../src/model/backend.js';
import { buildSeedSiamese } from '../../src/model/model.js';
import { seedDefaults } from '../../src/model/metadata.js';
import { loadSiameseModel } from '../../src/model/io.js';
import type { SeedDims } from '../../src/model/towers.js';
import { epochOrder, fitPairs, ImagePairs, readCheckpoint, seedWeights, writeCheckpoint, type FitOptions } from '../../src/training/train.js';
import { parseTrainRequest } from '../../src/commands/train.js';
import { repoRoot } from '../helpers/datasets.js';

/**
 * The seed topology (4 convs 10/7/4/4, three MaxPooling2D(64, strides 2, same), Flatten, Dense sigmoid, L1Dist,
 * Dense sigmoid) at a size CI can train in seconds: 64 px input and few filters. Same layers, same pools.
 */
const TINY_SEED: SeedDims = { inputSize: 64, filters: [4, 8, 8, 16], kernels: [10, 7, 4, 4], seedPoolSize: 64, embeddingSize: 32 };

const work = mkdtempSync(join(tmpdir(), 'facegate-train-'));
after(() => rmSync(work, { recursive: true, force: true }));
before(async () => {
  await initBackend('wasm');
});

/** Eight pairs of seeded noise faces: "same" pairs share a base pattern, "different" pairs do not. */
function tinyPairs(): ImagePairs {
  let state = 9;
  const next = () => (state = (state * 48271) % 2147483647) / 2147483647;
  const pixels = TINY_SEED.inputSize ** 2 * 3;
  const bases = Array.from({ length: 4 }, () => Uint8Array.from({ length: pixels }, () => Math.floor(next() * 256)));
  const faces: Uint8Array[] = [];
  for (const base of bases) for (let v = 0; v < 3; v++) faces.push(base.map((p) => Math.max(0, Math.min(255, p + Math.floor((next() - 0.5) * 40)))));
  const pairs: Array<[number, number]> = [];
  const labels: number[] = [];
  for (let person = 0; person < 4; person++) {
    pairs.push([person * 3, person * 3 + 1], [person * 3, ((person + 1) % 4) * 3 + 2]);
    labels.push(1, 0);
  }
  return new ImagePairs(faces, pairs, Uint8Array.from(labels), TINY_SEED.inputSize);
}

const options = (overrides: Partial<FitOptions> = {}): FitOptions => ({ epochs: 3, batchSize: 2, learningRate: 1e-3, seed: 5, checkpointEvery: 1, ...overrides });
const all = Array.from({ length: 8 }, (_, i) => i);

function freshModel() {
  const model = buildSeedSiamese('seed', TINY_SEED);
  seedWeights(model, 5);
  return model;
}

test('epoch order is a seeded permutation that changes from epoch to epoch', () => {
  const first = epochOrder(20, 3, 0);
  assert.deepEqual([...first].sort((a, b) => a - b), Array.from({ length: 20 }, (_, i) => i));
  assert.deepEqual(epochOrder(20, 3, 0), first);
  assert.notDeepEqual(epochOrder(20, 3, 1), first);
});

test('seeded initialisation is reproducible and Glorot-sized', () => {
  const a = freshModel();
  const b = freshModel();
  const wa = a.getWeights().map((w) => w.dataSync());
  const wb = b.getWeights().map((w) => w.dataSync());
  wa.forEach((w, i) => assert.deepEqual(w, wb[i]));
  const firstKernel = wa[0]!;
  const limit = Math.sqrt(6 / (10 * 10 * 3 + 10 * 10 * 4));
  assert.ok(firstKernel.every((v) => Math.abs(v) <= limit) && firstKernel.some((v) => Math.abs(v) > limit / 2));
  a.dispose();
  b.dispose();
});

test('the seed topology trains on wasm: loss falls over 3 epochs, and a resumed run ends where an uninterrupted one does', async () => {
  const data = tinyPairs();
  const straight = freshModel();
  const uninterrupted = await fitPairs(straight, data, all, options());
  const losses = uninterrupted.history.map((h) => h.loss);
  assert.equal(losses.length, 3);
  assert.ok(losses[2]! < losses[0]!, `loss did not fall: ${losses}`);
  straight.dispose();

  // Same run, stopped after epoch 2 at its checkpoint, then resumed from disk in a fresh model and optimizer.
  const dir = join(work, 'checkpoint');
  const first = freshModel();
  const metadata = seedDefaults({ inputSize: TINY_SEED.inputSize, embeddingSize: TINY_SEED.embeddingSize });
  const partial = await fitPairs(first, data, all, options({
    epochs: 2,
    checkpoint: (state, optimizer) => writeCheckpoint(dir, first, metadata, optimizer, { ...state, runKey: 'k' }),
  }));
  assert.equal(partial.epochsDone, 2);
  first.dispose();
  await assert.rejects(readCheckpoint(dir, 'other-run'), /other data or options/);
  const restored = await readCheckpoint(dir, 'k');
  assert.equal(restored.state.epochsDone, 2);
  const resumed = await fitPairs(restored.model, data, all, options({ resumeFrom: restored.state }));
  assert.equal(resumed.epochsDone, 3);
  assert.deepEqual(resumed.history.slice(0, 2).map((h) => h.loss), losses.slice(0, 2));
  assert.ok(Math.abs(resumed.history[2]!.loss - losses[2]!) < 1e-6, `resumed ${resumed.history[2]!.loss} vs ${losses[2]}`);
  restored.model.dispose();
});

test('three Adam steps on wasm (with the added kernels) give the cpu backend\'s losses', async () => {
  const data = tinyPairs();
  const lossesOn = async (backend: string) => {
    tf.setBackend(backend);
    // 2x2 pools and fewer filters: the cpu backend needs ~8 s per 64x64-window pool gradient (that kernel is
    // compared with cpu on its own in wasm-grads.test.ts); convolutions, Dense, L1Dist and Adam stay the same.
    const model = buildSeedSiamese('seed-pool2', { ...TINY_SEED, filters: [2, 4, 4, 8] });
    seedWeights(model, 5);
    const losses: number[] = [];
    await fitPairs(model, data, all.slice(0, 6), options({ epochs: 1, onBatch: (r) => losses.push(r.loss * r.batch - (losses.length ? losses.reduce((a, b) => a + b, 0) : 0)) }));
    model.dispose();
    return losses;
  };
  const cpu = await lossesOn('cpu');
  const wasm = await lossesOn('wasm');
  assert.equal(wasm.length, 3);
  wasm.forEach((loss, i) => assert.ok(Math.abs(loss - cpu[i]!) < 1e-5 * Math.max(1, Math.abs(cpu[i]!)), `step ${i + 1}: wasm ${loss} vs cpu ${cpu[i]}`));
});

test('a stop signal ends training after the current batch and keeps the last checkpoint loadable', async () => {
  const data = tinyPairs();
  const model = freshModel();
  const controller = new AbortController();
  const dir = join(work, 'stopped');
  const metadata = seedDefaults({ inputSize: TINY_SEED.inputSize, embeddingSize: TINY_SEED.embeddingSize });
  let batchesSeen = 0;
  const result = await fitPairs(model, data, all, options({
    signal: controller.signal,
    checkpoint: (state, optimizer) => writeCheckpoint(dir, model, metadata, optimizer, { ...state, runKey: 'k' }),
    onBatch: (report) => {
      batchesSeen++;
      if (report.epoch === 2 && report.batch === 1) controller.abort();
    },
  }));
  assert.equal(result.stopped, true);
  assert.equal(result.epochsDone, 1);
  assert.equal(batchesSeen, 5, 'four batches of epoch 1, then one of epoch 2');
  const restored = await readCheckpoint(dir, 'k');
  assert.equal(restored.state.epochsDone, 1);
  const loaded = await loadSiameseModel(dir); // the checkpoint folder is itself a model folder
  assert.equal(loaded.metadata.inputSize, TINY_SEED.inputSize);
  loaded.dispose();
  restored.model.dispose();
  model.dispose();
  tf.dispose(restored.state.optimizerWeights.map((w) => w.tensor));
});

test('train flags: clear errors for missing or contradictory data options, seed defaults otherwise', () => {
  assert.throws(() => parseTrainRequest({ dataset: 'x' }), /--out DIR is required/);
  assert.throws(() => parseTrainRequest({ out: 'm', anchor: 'a' }), /--anchor, --positive and --negative/);
  assert.throws(() => parseTrainRequest({ out: 'm', dataset: 'd', anchor: 'a' }), /either --dataset or/);
  assert.throws(() => parseTrainRequest({ out: 'm', dataset: 'd', tower: 'vgg' }), /--tower must be one of/);
  assert.throws(() => parseTrainRequest({ out: 'm', dataset: 'd', epochs: '0' }), /--epochs must be a whole number/);
  assert.throws(() => parseTrainRequest({ out: 'm', dataset: 'd', resume: true }), /--resume is for seed towers/);
  const seedWay = parseTrainRequest({ out: 'm', tower: 'seed', anchor: 'a', positive: 'p', negative: 'n' });
  assert.deepEqual([seedWay.epochs, seedWay.batchSize, seedWay.learningRate, seedWay.split, seedWay.checkpointEvery], [50, 16, 1e-4, 0.7, 10]);
  assert.deepEqual(seedWay.data, { kind: 'seed', anchor: 'a', positive: 'p', negative: 'n', perClass: 300, augment: 9 });
});

/** Generated "people": each is a colour scheme with noise, saved as collect-style crops (no detection needed). */
async function syntheticPerson(dir: string, hue: number, count: number, seed: number): Promise<void> {
  mkdirSync(dir, { recursive: true });
  let state = seed;
  const next = () => (state = (state * 48271) % 2147483647) / 2147483647;
  for (let i = 0; i < count; i++) {
    const size = 120;
    const data = Buffer.alloc(size * size * 3);
    for (let p = 0; p < size * size; p++) {
      const x = p % size;
      const y = Math.floor(p / size);
      const wave = Math.sin((x + y * hue) / 9) * 60;
      data[p * 3] = Math.max(0, Math.min(255, 128 + wave * Math.cos(hue) + (next() - 0.5) * 30));
      data[p * 3 + 1] = Math.max(0, Math.min(255, 128 + wave * Math.sin(hue) + (next() - 0.5) * 30));
      data[p * 3 + 2] = Math.max(0, Math.min(255, 128 - wave + (next() - 0.5) * 30));
    }
    await sharp(data, { raw: { width: size, height: size, channels: 3 } }).jpeg({ quality: 92 }).toFile(join(dir, `${i}.crop.jpg`));
  }
}

test('facegate train (seed way, face-api head) writes a model folder that loads, and prints a summary', async () => {
  await syntheticPerson(join(work, 'anchor'), 0.5, 6, 1);
  await syntheticPerson(join(work, 'positive'), 0.5, 6, 2);
  await syntheticPerson(join(work, 'negative', 'someone'), 2.5, 12, 3);
  const out = join(work, 'model');
  const result = spawnSync(process.execPath, [
    '--import', 'tsx', join(repoRoot, 'src', 'cli.ts'), 'train', '--tower', 'faceapi-resnet128', '--out', out,
    '--anchor', join(work, 'anchor'), '--positive', join(work, 'positive'), '--negative', join(work, 'negative'),
    '--per-class', '12', '--augment', '1', '--epochs', '30', '--backend', 'wasm',
  ], { cwd: repoRoot, encoding: 'utf8', timeout: 120_000 });
  assert.equal(result.status, 0, result.stderr);
  const summary = JSON.parse(result.stdout) as { trainPairs: number; heldOutPairs: number; epochsDone: number; heldOut: { auc: number } };
  assert.equal(summary.trainPairs + summary.heldOutPairs, 24);
  assert.equal(summary.epochsDone, 30);
  assert.ok(summary.heldOut.auc > 0.8, `held-out AUC ${summary.heldOut.auc}`);
  assert.match(result.stderr, /epoch 30\/30 {2}loss \d\.\d{4} {2}precision/);
  assert.deepEqual(readdirSync(out).sort(), ['model.json', 'weights.bin']);
  const model = await loadSiameseModel(out);
  assert.equal(model.metadata.tower, 'faceapi-resnet128');
  assert.equal((model.metadata.training as { epochs: number }).epochs, 30);
  model.dispose();
});
