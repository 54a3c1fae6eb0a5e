import { parentPort, workerData } from 'node:worker_threads';
import { createFaceDetector } from './detect/faces.js';
import { initBackend, type BackendPreference } from '../model/backend.js';
import { EmbeddingCache, embedFiles } from '../gallery/cache.js';
import { buildHead, SiameseModel } from '../model/model.js';
import type { EmbedWorkerJob, FromWorker, ToWorker } from './parallel-embed.js';
import { towerKind } from '../model/tower-registry.js';
import { modelPipeline } from './pipeline.js';

/**
 * One embedding thread (started by parallel-embed.ts): its own tfjs wasm backend, face detector and face-api
 * tower, filling the shared disk cache with the chunks of files the main thread hands out. It returns nothing
 * but counts: the main thread reads every embedding back from the cache, so results equal the one-thread path.
 */

const job = workerData as EmbedWorkerJob;
const port = parentPort!;
const send = (message: FromWorker) => port.postMessage(message);

async function start(): Promise<(files: string[]) => Promise<void>> {
  await initBackend(job.backend as BackendPreference);
  const detector = await createFaceDetector(job.vision, { model: job.metadata });
  // The cache namespace names the detector: a different one here would file embeddings under a wrong key.
  if (detector.name !== job.detectorName) {
    throw new Error(`worker built detector "${detector.name}" but the cache is for "${job.detectorName}"`);
  }
  const load = towerKind(job.metadata.tower).load;
  if (!load) throw new Error(`a worker can only run a pretrained tower, not ${job.metadata.tower}`);
  const tower = await load();
  // The head is never used here; SiameseModel just wants one to pair with the tower.
  const model = new SiameseModel(tower, buildHead(tower.embeddingSize, 0), job.metadata);
  const pipeline = modelPipeline(model, detector);
  const cache = new EmbeddingCache(job.cacheRoot, job.namespace, job.embeddingSize);
  return async (files) => {
    const results = await embedFiles(files, pipeline, cache, { batchSize: job.batchSize });
    const computed = results.filter((r) => r.kind !== 'error' && !r.cached).length;
    send({ type: 'chunk-done', files: files.length, computed });
  };
}

const ready = start();
let queue = Promise.resolve();
port.on('message', (message: ToWorker) => {
  if (message.type === 'stop') {
    port.close();
    return;
  }
  // One chunk at a time, in order; a failure is reported once and ends the worker.
  queue = queue
    .then(async () => (await ready)(message.files))
    .then(() => send({ type: 'want' }))
    .catch((err: unknown) => {
      send({ type: 'failed', message: err instanceof Error ? err.message : String(err) });
      port.close();
    });
});
ready.then(
  () => send({ type: 'want' }),
  (err: unknown) => {
    send({ type: 'failed', message: err instanceof Error ? err.message : String(err) });
    port.close();
  },
);
