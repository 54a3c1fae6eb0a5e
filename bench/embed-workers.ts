/**
 * Images per second when filling a FRESH dataset embedding cache with N worker threads (1 = the main thread
 * alone). Run one worker count per process, e.g.
 *   node --import tsx bench/embed-workers.ts --workers 2 --count 300 --cache-dir /tmp/embed-bench-2
 * The cache dir must not hold these images yet (a warm cache measures file reads, not embedding).
 */
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config/index.js';
import { initBackend, type BackendPreference } from '../src/model/backend.js';
import { listIdentities } from '../src/gallery/datasets.js';
import { embedDataset } from '../src/evaluation/evaluate.js';
import { faceApiDefaults } from '../src/model/metadata.js';
import { buildHead, SiameseModel } from '../src/model/model.js';
import { createFaceApiTower } from '../src/model/faceapi-tower.js';
import { towerKey } from '../src/face/pipeline.js';
import { createFaceDetector } from '../src/face/detect/faces.js';
import { lfwDir } from '../test/helpers/datasets.js';

const { values } = parseArgs({
  options: { workers: { type: 'string', default: '2' }, count: { type: 'string', default: '300' }, 'cache-dir': { type: 'string' } },
});
const cacheDir = values['cache-dir'];
if (!cacheDir) throw new Error('--cache-dir is required (a fresh folder, so every image is really embedded)');
if (existsSync(cacheDir)) console.error(`warning: ${cacheDir} exists; cached images are not re-embedded`);
const workers = Number(values.workers);
const count = Number(values.count);

const settings = loadConfig({ env: {} }).getProperties();
await initBackend(settings.model.backend as BackendPreference);
const model = new SiameseModel(await createFaceApiTower(), buildHead(128, 1), faceApiDefaults());
const detector = await createFaceDetector(settings.vision);
// Spread over people the way a training run is, not one person's 100 photos.
const files = listIdentities(lfwDir).flatMap((i) => i.images.slice(0, 4)).slice(0, count);

const loadBefore = loadavg()[0]!;
const started = performance.now();
const result = await embedDataset(model, detector, towerKey(model, ''), settings.vision, files, { cacheDir, workers });
const seconds = (performance.now() - started) / 1000;
console.log(JSON.stringify({
  workers,
  images: files.length,
  faces: [...result.byFile.values()].filter((r) => r.kind === 'embedding').length,
  seconds: Number(seconds.toFixed(1)),
  images_per_s: Number((files.length / seconds).toFixed(2)),
  load_1min_before: loadBefore,
  load_1min_after: loadavg()[0],
}));
