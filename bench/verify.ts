/**
 * npm run bench [--silent] [-- --runs N --seed-runs N --no-seed-tower]
 *
 * Every pipeline in one run: the default model (models/default: face-api's tiny detector + 68 landmarks + its
 * ResNet, mirror-averaged), the opt-in model (models/opt-in, when `npm run model:opt-in` has installed its embedder), the
 * BlazeFace pipeline (models/blazeface: BlazeFace + keypoint alignment + the same ResNet, mirror-averaged) and the seed's own tower; each with the
 * seed's way beside it, and the RSS of a daemon-like process (one verifier, warmed up) per model.
 *
 * One verification against a 50-image gallery (10 LFW people x 5 images in which the detector finds a face;
 * faceless photos are skipped and counted in the JSON), the way facegate does it (probe
 * embedded once, gallery embeddings cached, one batched head call) versus the seed tutorial's way in the same
 * process (for each of the 50 verification images: decode and resize probe and reference, embed both, score
 * the pair: what its verify() does). Medians over runs. The last line printed is one JSON object.
 * Reported for the shipped default model (face-api ResNet-128 tower) and for the seed's own tower (random
 * weights: speed does not depend on them).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config/index.js';
import { createLogger } from '../src/log.js';
import { initBackend, type BackendPreference } from '../src/model/backend.js';
import { EmbeddingCache } from '../src/gallery/cache.js';
import { listIdentities, type Identity } from '../src/gallery/datasets.js';
import { writePerson } from '../src/gallery/gallery.js';
import { loadSiameseModel } from '../src/model/io.js';
import { seedDefaults } from '../src/model/metadata.js';
import { median } from '../src/evaluation/metrics.js';
import { buildSeedSiamese, seedSiameseModel, type SiameseModel } from '../src/model/model.js';
import type { StageTimings } from '../src/core/types.js';
import { SiameseVerifier } from '../src/face/verifier.js';
import { modelPipeline, modelStages } from '../src/face/pipeline.js';
import { FolderGalleryStore } from '../src/gallery/folder-store.js';
import { resolveThresholds } from '../src/face/match.js';
import { createFaceDetector, findFace, type FaceDetector } from '../src/face/detect/faces.js';
import { cropResize, decodeImage } from '../src/image/image.js';
import { daemonRssMb } from './daemon-rss.js';

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '15' },
    'seed-runs': { type: 'string', default: '3' },
    'no-seed-tower': { type: 'boolean', default: false },
    dataset: { type: 'string', default: process.env.FACEGATE_DATASETS ? join(process.env.FACEGATE_DATASETS, 'lfw-dev') : resolve('../shared/datasets/lfw-dev') },
  },
});

const PEOPLE = 10;
const PER_PERSON = 5;

let candidates: Identity[];
try {
  candidates = listIdentities(args.dataset).filter((i) => i.images.length > PER_PERSON);
} catch {
  candidates = [];
}
function skipBench(reason: string): never {
  console.log(reason);
  console.log(JSON.stringify({ skipped: reason }));
  process.exit(0);
}
if (candidates.length < PEOPLE) skipBench(`LFW-dev not found at ${args.dataset} (set FACEGATE_DATASETS): bench skipped`);

const settings = loadConfig({ env: {} }).getProperties();
const log = createLogger({ level: 'warn', pretty: 'never', destination: process.stderr });
const backend = await initBackend(settings.model.backend as BackendPreference, log);
/** The models benched, in this order; a folder that cannot load (the opt-in without its embedder) is skipped. */
const MODEL_DIRS: Array<{ label: string; dir: string }> = [
  { label: 'default', dir: settings.model.dir },
  { label: 'opt-in', dir: 'models/opt-in' },
  { label: 'blazeface', dir: 'models/blazeface' },
];
const models: Array<{ label: string; dir: string; model: SiameseModel; detector: FaceDetector }> = [];
const unavailable: Record<string, string> = {};
for (const { label, dir } of MODEL_DIRS) {
  try {
    const model = await loadSiameseModel(dir);
    models.push({ label, dir, model, detector: await createFaceDetector(settings.vision, { log, model: model.metadata }) });
  } catch (err) {
    unavailable[label] = err instanceof Error ? err.message : String(err);
    console.error(`${label} (${dir}) skipped: ${unavailable[label]}`);
  }
}
const detectors = models.map((m) => m.detector);

/**
 * PEOPLE people with PER_PERSON photos each in which the detector finds a face (the first person one more, the
 * probe), in dataset order. A photo without a detectable face would be left out of the gallery, so it is skipped.
 */
async function pickFaces(): Promise<{ people: Array<{ name: string; faces: string[] }>; skippedNoFace: number }> {
  const people: Array<{ name: string; faces: string[] }> = [];
  let skippedNoFace = 0;
  for (const person of candidates) {
    if (people.length === PEOPLE) break;
    const wanted = people.length === 0 ? PER_PERSON + 1 : PER_PERSON;
    const faces: string[] = [];
    for (const file of person.images) {
      if (faces.length === wanted) break;
      // Every pipeline's gallery must hold the same 50 photos: keep photos in which every detector finds a face.
      const img = await decodeImage(readFileSync(file));
      let all = true;
      for (const detector of detectors) if (!(await findFace(img, detector))) all = false;
      if (all) faces.push(file);
      else skippedNoFace++;
    }
    if (faces.length === wanted) people.push({ name: person.name, faces });
  }
  return { people, skippedNoFace };
}

const picked = await pickFaces();
if (picked.people.length < PEOPLE) skipBench(`fewer than ${PEOPLE} LFW people with ${PER_PERSON} detectable faces: bench skipped`);
const work = mkdtempSync(join(tmpdir(), 'facegate-bench-'));
const galleryDir = join(work, 'gallery');
for (const person of picked.people) {
  writePerson(galleryDir, person.name, person.faces.slice(0, PER_PERSON).map((file) => ({ source: file, bytes: readFileSync(file), isCrop: false })));
}
const references = picked.people.flatMap((p) => p.faces.slice(0, PER_PERSON));
const probe = readFileSync(picked.people[0]!.faces[PER_PERSON]!);

async function benchTower(label: string, model: SiameseModel, detector: FaceDetector, runs: number, seedRuns: number) {
  const cache = new EmbeddingCache(join(work, 'state', 'embeddings'), label, model.embeddingSize);
  const thresholds = (people: number) => resolveThresholds(settings.model, model, people);
  const pipeline = modelPipeline(model, detector);
  const store = new FolderGalleryStore(galleryDir, { pipeline, cache, modelKey: label });
  const verifier = new SiameseVerifier(modelStages(model, detector, thresholds(1)), thresholds, store, pipeline, backend.name, label);
  const info = await verifier.reload();
  // Every picked photo had a face; a different count means the gallery path and the pick disagree.
  if (info.images !== PEOPLE * PER_PERSON) throw new Error(`${label}: gallery holds ${info.images} embeddings, expected ${PEOPLE * PER_PERSON}`);
  for (let i = 0; i < 2; i++) await verifier.verify(probe); // warm-up: first calls compile kernels
  const timings: StageTimings[] = [];
  let decision = '';
  for (let i = 0; i < runs; i++) {
    const result = await verifier.verify(probe);
    timings.push(result.timings);
    decision = `${result.decision} ${result.identity ?? ''}`;
  }
  const stage = (key: keyof StageTimings) => Number(median(timings.map((t) => t[key] ?? 0)).toFixed(2));

  // The seed's verify(): for every verification image, preprocess input and validation image, predict the pair.
  const size = model.metadata.inputSize;
  const preprocess = async (bytes: Buffer) => {
    const img = await decodeImage(bytes);
    return cropResize(img, { x: 0, y: 0, width: img.width, height: img.height }, size);
  };
  const seedTimes: number[] = [];
  for (let r = 0; r < seedRuns; r++) {
    const t0 = performance.now();
    let detections = 0;
    for (const ref of references) {
      const [inputImg, validationImg] = await Promise.all([preprocess(probe), preprocess(readFileSync(ref))]);
      const [a, b] = await Promise.all([model.embed([inputImg]), model.embed([validationImg])]);
      if (model.scorePairs(a[0]!, [b[0]!])[0]! > 0.5) detections++;
    }
    seedTimes.push(performance.now() - t0);
    void detections;
  }
  await verifier.close();
  const verifyMs = stage('total');
  const seedMs = Number(median(seedTimes).toFixed(1));
  const row = {
    tower: model.metadata.tower,
    detector: detector.name,
    verify_ms: verifyMs,
    seed_verify_ms: seedMs,
    speedup: Number((seedMs / verifyMs).toFixed(1)),
    stages: { decode: stage('decode'), detect: stage('detect'), align: stage('align'), liveness: stage('liveness'), embed: stage('embed'), compare: stage('compare'), total: verifyMs },
    gallery_images: info.images,
    runs,
    seed_runs: seedRuns,
    decision,
  };
  console.log(`${label}: verify ${verifyMs} ms (decode ${row.stages.decode}, detect ${row.stages.detect}, align ${row.stages.align}, embed ${row.stages.embed}, compare ${row.stages.compare}); seed way ${seedMs} ms; speedup x${row.speedup}`);
  return row;
}

try {
  const runs = Number(args.runs);
  const seedRuns = Number(args['seed-runs']);
  const rows: Record<string, Awaited<ReturnType<typeof benchTower>>> = {};
  for (const { label, model, detector } of models) rows[label] = await benchTower(label, model, detector, runs, seedRuns);
  const main = rows.default;
  if (!main) throw new Error(`the default model could not be loaded: ${unavailable.default}`);
  let seedTower = null;
  if (!args['no-seed-tower']) {
    const seedModel = seedSiameseModel(buildSeedSiamese('seed'), 'seed', seedDefaults());
    seedTower = await benchTower('seed', seedModel, detectors[detectors.length - 1]!, Math.max(5, Math.round(runs / 3)), seedRuns);
  }
  const rssMb = Math.round(process.memoryUsage().rss / 1e6);
  const daemonRss: Record<string, number | string> = {};
  for (const { label, dir } of models) daemonRss[label] = daemonRssMb(dir, galleryDir, join(work, 'daemon-state', label));
  console.log(JSON.stringify({
    verify_ms: main.verify_ms,
    seed_verify_ms: main.seed_verify_ms,
    speedup: main.speedup,
    rss_mb: rssMb,
    backend: backend.name,
    stages: main.stages,
    gallery_images: main.gallery_images,
    gallery_skipped_no_face: picked.skippedNoFace,
    seed_pairs: references.length,
    default_model: main,
    pipelines: rows,
    detect_speedup_blazeface_vs_default: rows.blazeface ? Number((main.stages.detect / rows.blazeface.stages.detect).toFixed(1)) : null,
    daemon_rss_mb: daemonRss,
    unavailable,
    seed_tower: seedTower,
  }));
} finally {
  rmSync(work, { recursive: true, force: true });
}
