import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { VisionSettings } from './detect/detector.js';
import { sha256, type EmbeddingCache } from '../gallery/cache.js';
import type { FacegateMetadata } from '../model/metadata.js';
import { towerKind } from '../model/tower-registry.js';

/**
 * Fills the dataset embedding cache with worker threads. tfjs-wasm runs single-threaded under Node, so one
 * process embeds ~12 images/s whatever the core count; a fresh lfw-dev (4,498 images) took 15-37 min here.
 * Each worker loads its own backend, detector and tower and writes the shared cache (atomic temp + rename);
 * the caller then reads everything back through the cache, so results equal the single-thread path.
 */

/** What a worker needs to rebuild the caller's pipeline (everything is plain data: it crosses threads). */
export interface EmbedWorkerJob {
  backend: string;
  vision: VisionSettings;
  /** detector.name of the caller's detector: part of the cache namespace, so the worker's must match. */
  detectorName: string;
  metadata: FacegateMetadata;
  cacheRoot: string;
  namespace: string;
  embeddingSize: number;
  batchSize: number;
}

export type ToWorker = { type: 'work'; files: string[] } | { type: 'stop' };
export type FromWorker = { type: 'want' } | { type: 'chunk-done'; files: number; computed: number } | { type: 'failed'; message: string };

/** Files handed to a worker at a time: one tower batch, small enough that the last chunks balance out. */
const CHUNK = 16;

/** Below this many uncached files, starting workers (~2 s each: wasm, nets) costs more than it saves. */
export const MIN_FILES_FOR_WORKERS = 48;

export function defaultEmbedWorkers(): number {
  return Math.min(availableParallelism(), 4);
}

/** Only a pretrained tower can be rebuilt in a worker from nothing; seed towers hold weights in memory. */
export function canEmbedInWorkers(metadata: FacegateMetadata): boolean {
  // The opt-in ONNX tower loads from its model folder, which a worker is not given; onnxruntime threads itself.
  const kind = towerKind(metadata.tower);
  return kind.load !== undefined && kind.trainable !== false;
}

/** The files whose embedding is not in the cache yet (unreadable files count as uncached: workers skip them). */
export function uncachedFiles(files: string[], cache: EmbeddingCache): string[] {
  return files.filter((file) => {
    try {
      return cache.get(sha256(readFileSync(file))) === null;
    } catch {
      return true;
    }
  });
}

/**
 * Starts one worker on embed-worker.js from dist/, or on embed-worker.ts when running from source: tsx's
 * `--import` hook does not reach a worker's entry file (Node 20: "Unknown file extension .ts"), so a
 * two-line bootstrap registers tsx inside the worker first.
 */
function startWorker(job: EmbedWorkerJob): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./embed-worker.js', import.meta.url), { workerData: job });
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const entry = new URL('./embed-worker.ts', import.meta.url).href;
  const boot = `import(${JSON.stringify(tsxApi)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(boot, { eval: true, workerData: job });
}

export class EmbedWorkerError extends Error {
  override name = 'EmbedWorkerError';
}

/**
 * Embeds `files` into the cache with `workers` threads, handing out chunks on demand (a busy core simply takes
 * fewer). Resolves when all are done; rejects with EmbedWorkerError on the first worker failure after stopping
 * the others. Entries already written stay valid (each is renamed into place whole); the rest are recomputed
 * on the next run.
 */
export function fillCacheInParallel(
  files: string[],
  job: EmbedWorkerJob,
  workers: number,
  onProgress?: (done: number, computed: number) => void,
): Promise<void> {
  const chunks: string[][] = [];
  for (let i = 0; i < files.length; i += CHUNK) chunks.push(files.slice(i, i + CHUNK));
  const count = Math.max(1, Math.min(workers, chunks.length));
  let done = 0;
  let computed = 0;
  let finished = 0;
  const pool: Worker[] = [];
  return new Promise<void>((resolvePromise, rejectPromise) => {
    let settled = false;
    const stopAll = () => Promise.all(pool.map((w) => w.terminate()));
    const fail = (index: number, message: string) => {
      if (settled) return;
      settled = true;
      void stopAll().finally(() => rejectPromise(new EmbedWorkerError(`embedding worker ${index + 1}/${count} failed: ${message}`)));
    };
    for (let index = 0; index < count; index++) {
      const worker = startWorker(job);
      pool.push(worker);
      let idle = false;
      worker.on('message', (message: FromWorker) => {
        if (settled) return;
        if (message.type === 'failed') return fail(index, message.message);
        if (message.type === 'chunk-done') {
          done += message.files;
          computed += message.computed;
          onProgress?.(done, computed);
          return;
        }
        const next = chunks.shift();
        if (next) return worker.postMessage({ type: 'work', files: next } satisfies ToWorker);
        if (idle) return;
        idle = true;
        finished++;
        if (finished === count) {
          settled = true;
          void stopAll().then(() => resolvePromise(), rejectPromise);
        }
      });
      worker.on('error', (err) => fail(index, err.message));
      worker.on('exit', (code) => fail(index, `exited with code ${code} before finishing`));
    }
  });
}
