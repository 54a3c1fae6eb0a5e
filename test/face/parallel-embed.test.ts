import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/log.js';
import { initBackend, type BackendPreference } from '../../src/model/backend.js';
import { listIdentities } from '../../src/gallery/datasets.js';
import { embedDataset } from '../../src/evaluation/evaluate.js';
import { faceApiDefaults } from '../../src/model/metadata.js';
import { buildHead, SiameseModel } from '../../src/model/model.js';
import { EmbedWorkerError, fillCacheInParallel, MIN_FILES_FOR_WORKERS } from '../../src/face/parallel-embed.js';
import { tf } from '../../src/model/tf.js';
import { createFaceApiTower } from '../../src/model/faceapi-tower.js';
import { embeddingNamespace, towerKey } from '../../src/face/pipeline.js';
import { createFaceDetector } from '../../src/face/detect/faces.js';
import { lfwDir, needLfw } from '../helpers/datasets.js';

const tmp = mkdtempSync(join(tmpdir(), 'facegate-parallel-embed-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

const settings = loadConfig({ env: {} }).getProperties();

async function faceApiSetup() {
  await initBackend(settings.model.backend as BackendPreference);
  const model = new SiameseModel(await createFaceApiTower(), buildHead(128, 1), faceApiDefaults());
  const detector = await createFaceDetector(settings.vision);
  return { model, detector };
}

/** The first images of the dataset, a few per person, just enough that embedDataset starts workers. */
function lfwSample(count: number): string[] {
  return listIdentities(lfwDir).flatMap((i) => i.images.slice(0, 3)).slice(0, count);
}

/** Bytes, so that -0 vs 0 or two NaN payloads would count as different too. */
const bits = (e: Float32Array) => new Uint8Array(e.buffer, e.byteOffset, e.byteLength);

test('worker threads write exactly the embeddings one thread computes, and embedDataset uses them', { skip: needLfw() }, async () => {
  const { model, detector } = await faceApiSetup();
  const files = lfwSample(MIN_FILES_FOR_WORKERS);
  const key = towerKey(model, '');
  const single = await embedDataset(model, detector, key, settings.vision, files, { cacheDir: join(tmp, 'single'), workers: 1 });

  // The workers alone fill a fresh cache; the one-thread path then finds every file there.
  const namespace = embeddingNamespace({ model: key, detector: detector.name, settings: settings.vision, model_metadata: model.metadata });
  const first20 = files.slice(0, 20);
  const job = { backend: tf.getBackend(), vision: settings.vision, detectorName: detector.name, metadata: model.metadata, cacheRoot: join(tmp, 'workers'), namespace, embeddingSize: 128, batchSize: 16 };
  const progress: number[] = [];
  await fillCacheInParallel(first20, job, 2, (done) => progress.push(done));
  assert.equal(progress.at(-1), first20.length, 'progress adds up the workers\' counts');
  const readBack = await embedDataset(model, detector, key, settings.vision, first20, { cacheDir: join(tmp, 'workers'), workers: 1 });
  let compared = 0;
  for (const file of first20) {
    const a = single.byFile.get(file)!;
    const b = readBack.byFile.get(file)!;
    assert.equal(b.kind, a.kind, file);
    if (b.kind !== 'error') assert.equal(b.cached, true, `${file} was not written by a worker`);
    if (a.kind === 'embedding' && b.kind === 'embedding') {
      assert.deepEqual(bits(b.embedding), bits(a.embedding), `${file}: bits differ`);
      compared++;
    }
  }
  assert.ok(compared >= 15, `only ${compared} of 20 faces found`);

  // Through embedDataset with 2 workers (enough uncached files to start them): same answers, reported computed.
  const lines: string[] = [];
  const log = createLogger({ level: 'info', destination: { write: (line: string) => lines.push(line) } as never });
  let lastProgress: number[] = [];
  const parallel = await embedDataset(model, detector, key, settings.vision, files, {
    cacheDir: join(tmp, 'parallel'), workers: 2, log, onProgress: (...p) => (lastProgress = p),
  });
  assert.ok(lines.some((l) => l.includes('worker threads')), 'embedDataset did not start workers');
  assert.deepEqual(lastProgress, [files.length, files.length, files.length]);
  assert.deepEqual(parallel.noFace, single.noFace);
  assert.deepEqual(parallel.unreadable, single.unreadable);
  for (const file of files) {
    const a = single.byFile.get(file)!;
    const b = parallel.byFile.get(file)!;
    assert.equal(b.kind, a.kind, file);
    if (a.kind === 'embedding' && b.kind === 'embedding') {
      assert.equal(b.cached, false, 'computed in this run, as on the one-thread path');
      assert.deepEqual(bits(b.embedding), bits(a.embedding), `${file}: bits differ`);
    }
  }
});

test('a failing worker rejects with a clear error and writes no cache entries', { skip: needLfw() }, async () => {
  const cacheRoot = join(tmp, 'failing');
  const job = {
    backend: tf.getBackend() || 'wasm',
    vision: settings.vision,
    detectorName: 'a-detector-the-worker-cannot-build',
    metadata: faceApiDefaults(),
    cacheRoot,
    namespace: 'ns',
    embeddingSize: 128,
    batchSize: 16,
  };
  await assert.rejects(fillCacheInParallel(lfwSample(40), job, 2), (err: Error) => {
    assert.ok(err instanceof EmbedWorkerError);
    assert.match(err.message, /^embedding worker \d\/2 failed: .*a-detector-the-worker-cannot-build/);
    return true;
  });
  assert.ok(!existsSync(cacheRoot) || readdirSync(cacheRoot).length === 0, 'a failed start wrote cache entries');
});
