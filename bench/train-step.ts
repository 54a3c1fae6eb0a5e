/**
 * Seconds per training step of the seed siamese network (both towers, L1Dist, Dense head; Adam 1e-4, binary
 * cross-entropy), on the backend facegate would pick. Prints one JSON line.
 *   node --import tsx bench/train-step.ts [--batch 16] [--steps 5] [--variant seed|seed-pool2] [--backend auto|wasm|cpu]
 * The first step (kernel setup, memory growth) is reported apart and left out of the median.
 */
import { parseArgs } from 'node:util';
import { initBackend, type BackendPreference } from '../src/siamese/backend.js';
import { buildSeedSiamese } from '../src/siamese/model.js';
import { SEED_DIMS, type SeedVariant } from '../src/siamese/towers.js';
import { fitPairs, ImagePairs, seedWeights } from '../src/siamese/train.js';
import { seededRandom } from '../src/siamese/datasets.js';

const { values } = parseArgs({
  options: {
    batch: { type: 'string', default: '16' },
    steps: { type: 'string', default: '5' },
    variant: { type: 'string', default: 'seed' },
    backend: { type: 'string', default: 'auto' },
  },
});
const batch = Number(values.batch);
const steps = Number(values.steps);
const variant = values.variant as SeedVariant;
const backend = await initBackend(values.backend as BackendPreference);

const size = SEED_DIMS.inputSize;
const random = seededRandom(1);
const faceCount = 2 * batch;
const faces = Array.from({ length: faceCount }, () => Uint8Array.from({ length: size * size * 3 }, () => Math.floor(random() * 256)));
const pairCount = batch * (steps + 1);
const pairs = Array.from({ length: pairCount }, (_, i): [number, number] => [i % faceCount, (i * 7 + 1) % faceCount]);
const labels = Uint8Array.from({ length: pairCount }, (_, i) => i % 2);
const model = buildSeedSiamese(variant);
seedWeights(model, 42);

let peakRss = 0;
const stepSeconds: number[] = [];
let last = performance.now();
await fitPairs(model, new ImagePairs(faces, pairs, labels, size), pairs.map((_, i) => i), {
  epochs: 1,
  batchSize: batch,
  learningRate: 1e-4,
  seed: 1,
  checkpointEvery: 0,
  onBatch: (report) => {
    const now = performance.now();
    stepSeconds.push((now - last) / 1000);
    last = now;
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    process.stderr.write(`step ${report.batch}/${report.batches}: ${stepSeconds.at(-1)!.toFixed(2)} s, loss ${report.loss.toFixed(4)}\n`);
  },
});
const timed = stepSeconds.slice(1).sort((a, b) => a - b);
const median = timed.length ? timed[Math.floor(timed.length / 2)]! : NaN;
console.log(JSON.stringify({
  bench: 'train-step',
  variant,
  backend: backend.name,
  batch,
  steps: timed.length,
  firstStepS: Number(stepSeconds[0]!.toFixed(2)),
  medianStepS: Number(median.toFixed(2)),
  minStepS: Number((timed[0] ?? NaN).toFixed(2)),
  peakRssMB: Math.round(peakRss / 2 ** 20),
}));
