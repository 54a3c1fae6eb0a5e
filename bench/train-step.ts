/**
 * Seconds per training step of the seed siamese network (both towers, L1Dist, Dense head; Adam 1e-4, binary
 * cross-entropy), on the backend facegate would pick. Prints one JSON line.
 *   node --import tsx bench/train-step.ts [--batch 16] [--steps 5] [--variant seed|seed-pool2] [--backend auto|wasm|cpu]
 * The first step (kernel setup, memory growth) is reported apart and left out of the median. Besides wall
 * time it reports the process CPU time per step: wasm runs on one thread here, so on a busy machine the CPU
 * time is the better estimate of the wall time on an idle one.
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { initBackend, type BackendPreference } from '../src/model/backend.js';
import { tf } from '../src/model/tf.js';
import { buildSeedSiamese } from '../src/model/model.js';
import { SEED_DIMS, type SeedVariant } from '../src/model/towers.js';
import { fitPairs, ImagePairs, seedWeights } from '../src/training/train.js';
import { seededRandom } from '../src/random.js';

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
let wasmHeap = 0;
/** The wasm module's linear memory: it only grows, and wasm32 caps it at 4 GiB whatever the machine has. */
function wasmHeapBytes(): number {
  const backend = tf.backend() as unknown as { wasm?: { HEAPU8: Uint8Array } };
  return backend.wasm?.HEAPU8.length ?? 0;
}
const stepSeconds: number[] = [];
const cpuSeconds: number[] = [];
let last = performance.now();
let lastCpu = process.cpuUsage();
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
    const cpu = process.cpuUsage(lastCpu);
    cpuSeconds.push((cpu.user + cpu.system) / 1e6);
    lastCpu = process.cpuUsage();
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    wasmHeap = Math.max(wasmHeap, wasmHeapBytes());
    process.stderr.write(`step ${report.batch}/${report.batches}: ${stepSeconds.at(-1)!.toFixed(2)} s (cpu ${cpuSeconds.at(-1)!.toFixed(2)} s), loss ${report.loss.toFixed(4)}\n`);
  },
});
const medianOf = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length ? sorted[Math.floor(sorted.length / 2)]! : NaN;
};
const timed = stepSeconds.slice(1);
const median = medianOf(timed);
console.log(JSON.stringify({
  bench: 'train-step',
  variant,
  backend: backend.name,
  batch,
  steps: timed.length,
  firstStepS: Number(stepSeconds[0]!.toFixed(2)),
  medianStepS: Number(median.toFixed(2)),
  minStepS: Number(Math.min(...timed).toFixed(2)),
  medianCpuStepS: Number(medianOf(cpuSeconds.slice(1)).toFixed(2)),
  loadAverage: Number(loadavg()[0]!.toFixed(1)),
  peakRssMB: Math.round(peakRss / 2 ** 20),
  wasmHeapMB: Math.round(wasmHeap / 2 ** 20),
}));
