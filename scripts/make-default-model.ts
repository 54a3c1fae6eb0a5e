/**
 * Rebuilds models/default: face-api's pretrained 128-d ResNet tower (frozen, shipped in its npm package) +
 * an L1Dist -> Dense(1, sigmoid) head trained here, with thresholds calibrated for the door.
 *
 *   node --import tsx scripts/make-default-model.ts [--dataset ../shared/datasets/lfw-dev] [--pipeline P] [--out DIR: default, the pipeline's own models/ folder]
 *        [--seed 1] [--epochs 60] [--extract-only] [--progress FILE]
 *
 * Reproducible: seeded identity split, seeded pairs, seeded head initialisation and batch order.
 * Identity-disjoint: the head trains on one half of the identities; thresholds are calibrated and every number
 * reported as "held-out" is measured on the other half, whose people the head never saw.
 */
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config/index.js';
import { createLogger } from '../src/log.js';
import { initBackend, type BackendPreference } from '../src/model/backend.js';
import { listIdentities, makePairs, splitIdentities, type Pair } from '../src/gallery/datasets.js';
import { embedDataset, pairMetrics, scoreDatasetPairs, type DatasetEmbeddings } from '../src/evaluation/evaluate.js';
import { galleryTest } from '../src/evaluation/door-test.js';
import { saveSiameseModel } from '../src/model/io.js';
import { faceApiDefaults } from '../src/model/metadata.js';
import { buildHead, SiameseModel, type HeadPair } from '../src/model/model.js';
import { createFaceApiTower } from '../src/model/faceapi-tower.js';
import { tf } from '../src/model/tf.js';
import { towerKey } from '../src/face/pipeline.js';
import { createFaceDetector } from '../src/face/detect/faces.js';
import { openSetCalibration } from '../src/evaluation/household.js';
import { createOnnxTower, ONNX_EMBEDDER_FILE, ONNX_TOWER_ID } from '../src/model/onnx-tower.js';
import { ARCFACE_112_TEMPLATE, FACEAPI_150_TEMPLATE } from '../src/face/align/templates.js';

const { values: args } = parseArgs({
  options: {
    dataset: { type: 'string', default: resolve('../shared/datasets/lfw-dev') },
    /** Default: the pipeline's own folder (faceapi-tiny -> models/default, blazeface -> models/blazeface, ...). */
    out: { type: 'string' },
    seed: { type: 'string', default: '1' },
    epochs: { type: 'string', default: '10' },
    'learning-rate': { type: 'string', default: '0.001' },
    'pairs-per-class': { type: 'string', default: '20' },
    'extract-only': { type: 'boolean', default: false },
    /** Only the first N identities (quick trial runs); the shipped model uses all. */
    limit: { type: 'string' },
    progress: { type: 'string' },
    /**
     * 'blazeface': BlazeFace keypoints aligned to face-api's square + face-api's ResNet (models/blazeface);
     * 'blazeface-landmarks68': BlazeFace + face-api's 68 landmarks and square crop; 'faceapi-tiny': the
     * default (models/default); 'blazeface-onnx': BlazeFace + the opt-in 512-d ONNX embedder (models/opt-in,
     * after `npm run model:opt-in`).
     */
    pipeline: { type: 'string', default: 'blazeface' },
    /** Embed each face and its mirror image and use their unit-length sum (metadata `flipAverage`). */
    'flip-average': { type: 'boolean', default: false },
    /** Written into the metadata instead of the clock, so that the same command gives the same bytes. */
    created: { type: 'string', default: '2026-11-30T00:00:00.000Z' },
  },
});

const seed = Number(args.seed);
const say = (line: string) => {
  const stamped = `${new Date().toISOString()} ${line}`;
  console.error(stamped);
  if (args.progress) appendFileSync(args.progress, `${stamped}\n`);
};

const settings = loadConfig({ env: {} }).getProperties(); // defaults only: the run must not depend on the caller's env
const log = createLogger({ level: 'warn', pretty: 'never' });
const backend = await initBackend(settings.model.backend as BackendPreference, log);
say(`backend ${backend.name}; detector ${settings.vision.detector}${settings.vision.inputSize}, padding ${settings.vision.padding}`);

const PIPELINES = ['blazeface', 'blazeface-landmarks68', 'blazeface-onnx', 'faceapi-tiny'];
if (!PIPELINES.includes(args.pipeline!)) throw new Error(`--pipeline must be one of ${PIPELINES.join(', ')}, got ${args.pipeline}`);
const OUT_DIRS: Record<string, string> = { 'faceapi-tiny': 'models/default', blazeface: 'models/blazeface', 'blazeface-landmarks68': 'models/blazeface-landmarks68', 'blazeface-onnx': 'models/opt-in' };
const outDir = args.out ?? OUT_DIRS[args.pipeline!]!;
args.out = outDir;
const onnx = args.pipeline === 'blazeface-onnx';
const created = new Date(args.created!).toISOString();
const baseMetadata = faceApiDefaults({
  created,
  ...(args['flip-average'] ? { flipAverage: true } : {}),
  // face-api's ResNet on BlazeFace's keypoints, similarity-aligned to where they sit in face-api's own square
  // (models/default). 'blazeface-landmarks68' instead places face-api's square from its 68 landmarks found on
  // BlazeFace's box: on lfw-dev's 9,270 evaluate pairs 98.37 % against 98.62 % (L1, 10-fold), EER 1.66 against
  // 1.60 %, gallery FRR 4.1 against 4.5 %, and ~21 ms more per face; the default takes the keypoints.
  ...(args.pipeline === 'blazeface' ? { detector: 'blazeface', crop: { margin: 0, align: false, template: FACEAPI_150_TEMPLATE } } : {}),
  ...(args.pipeline === 'blazeface-landmarks68' ? { detector: 'blazeface-landmarks68' } : {}),
  // The ONNX embedder: BlazeFace's keypoints, similarity-aligned to the ArcFace template.
  ...(onnx ? { detector: 'blazeface' as const, tower: ONNX_TOWER_ID, inputSize: 112, embeddingSize: 512, preprocessing: 'bgr-127.5/128' as const, crop: { margin: 0, align: false, template: ARCFACE_112_TEMPLATE } } : {}),
});
const tower = onnx ? await createOnnxTower(join(args.out!, ONNX_EMBEDDER_FILE)) : await createFaceApiTower();
const model = new SiameseModel(tower, buildHead(tower.embeddingSize, seed), baseMetadata);
const detector = await createFaceDetector(settings.vision, { log, model: baseMetadata });
say(`pipeline ${args.pipeline}: detector ${detector.name}`);

const identities = listIdentities(args.dataset).slice(0, args.limit ? Number(args.limit) : undefined);
const files = identities.flatMap((i) => i.images);
say(`dataset ${args.dataset}: ${identities.length} identities, ${files.length} images`);
const started = Date.now();
const embeddings = await embedDataset(model, detector, towerKey(model, ''), settings.vision, files, {
  log,
  onProgress: (done, total, computed) => {
    const rate = computed / Math.max(1, (Date.now() - started) / 1000);
    say(`embedded ${done}/${total} (${computed} computed now, ${rate.toFixed(1)}/s)`);
  },
});
say(`embeddings ready: ${embeddings.noFace.length} images without a detectable face, ${embeddings.unreadable.length} unreadable`);
if (args['extract-only']) process.exit(0);

const [trainIds, heldOutIds] = splitIdentities(identities, 0.5, seed);
const pairsPerClass = Number(args['pairs-per-class']);
const trainPairs = makePairs(trainIds, { pairsPerClass, seed });
const heldOutPairs = makePairs(heldOutIds, { pairsPerClass: 10, seed: seed + 1 });

function headPairs(pairs: Pair[], data: DatasetEmbeddings): HeadPair[] {
  const out: HeadPair[] = [];
  for (const p of pairs) {
    const a = data.byFile.get(p.a);
    const b = data.byFile.get(p.b);
    if (a?.kind === 'embedding' && b?.kind === 'embedding') out.push({ a: a.embedding, b: b.embedding, label: p.same ? 1 : 0 });
  }
  return out;
}
const training = headPairs(trainPairs, embeddings);

/**
 * Start from the best uniform head: all 128 weights equal, i.e. a logistic regression on the plain L1 distance
 * (2 parameters, fitted by Newton's method). Measured: L1 distance on face-api descriptors is as good as
 * Euclidean, while a head whose 128 weights start random and move freely overfits and loses about a point.
 * Fine-tuning then starts from there with a small learning rate.
 */
function fitUniformHead(pairs: HeadPair[], ridge = 1): { weight: number; bias: number } {
  const d = pairs.map((p) => p.a.reduce((sum, v, i) => sum + Math.abs(v - p.b[i]!), 0));
  const y = pairs.map((p) => p.label);
  // score = sigmoid(b - w * d); a small ridge keeps (w, b) finite when the training pairs are separable.
  const loss = (w: number, b: number) =>
    d.reduce((sum, x, i) => {
      const z = b - w * x;
      return sum + Math.log1p(Math.exp(-Math.abs(z))) + Math.max(z, 0) - y[i]! * z;
    }, 0) + (ridge / 2) * (w * w + b * b);
  let w = 1, b = 0;
  for (let iter = 0; iter < 100; iter++) {
    let gw = ridge * w, gb = ridge * b, hww = ridge, hwb = 0, hbb = ridge;
    d.forEach((x, i) => {
      const p = 1 / (1 + Math.exp(-(b - w * x)));
      const err = p - y[i]!;
      const s = p * (1 - p);
      gw += err * -x; gb += err;
      hww += s * x * x; hwb += s * -x; hbb += s;
    });
    const det = hww * hbb - hwb * hwb;
    const dw = (hbb * gw - hwb * gb) / det;
    const db = (hww * gb - hwb * gw) / det;
    let step = 1;
    const current = loss(w, b);
    while (step > 1e-6 && loss(w - step * dw, b - step * db) > current) step /= 2;
    w -= step * dw; b -= step * db;
    if (Math.abs(step * dw) < 1e-9 && Math.abs(step * db) < 1e-9) break;
  }
  return { weight: w, bias: b };
}
const uniform = fitUniformHead(training);
say(`uniform L1 head: score = sigmoid(${uniform.bias.toFixed(3)} - ${uniform.weight.toFixed(3)} * L1)`);
model.head.getLayer('classification').setWeights([tf.fill([tower.embeddingSize, 1], -uniform.weight), tf.tensor1d([uniform.bias])]);
say(`training the head on ${training.length} pairs from ${trainIds.length} identities (${Number(args.epochs)} epochs)`);
// 0 epochs keeps the uniform head: a monotone calibration of the L1 distance, which cannot cost accuracy.
const losses = Number(args.epochs) === 0 ? [] : await model.trainHead(training, {
  epochs: Number(args.epochs),
  batchSize: 64,
  learningRate: Number(args['learning-rate']),
  seed,
  onEpoch: (epoch, loss) => {
    if (epoch % 10 === 9 || epoch === 0) say(`epoch ${epoch + 1}: loss ${loss.toFixed(4)}`);
  },
});

// Calibrate on the held-out identities only.
const heldOutScores = scoreDatasetPairs(model, heldOutPairs, embeddings);
const heldOutPairMetrics = pairMetrics(heldOutScores.scores, heldOutScores.labels, 0.5);
// Per-person door test on the held-out people; a little below the 0.1 % bar so the full set stays within it.
// Verification 0 (one matching image is enough) is left out on purpose: measured it gives the lowest FRR with
// 5 images, but then a person's FAR grows with every image added to their folder.
const CALIBRATION_MAX_FAR = 0.0008;
const candidates = [0.2, 0.4, 0.6, 0.8].map((verification) => ({
  verification,
  door: galleryTest(model, heldOutIds, embeddings, { enrolImages: 5, verification, detection: 0.5, maxFar: CALIBRATION_MAX_FAR }),
}));
for (const c of candidates) {
  say(`held-out door, verification ${c.verification}: detection ${c.door.detection_threshold_for_far.toFixed(4)} -> FAR ${c.door.gallery_far}, FRR ${c.door.gallery_frr.toFixed(4)}`);
}
const chosen = [...candidates].sort((a, b) => a.door.gallery_frr - b.door.gallery_frr)[0]!;
const thresholds = { detection: Number(chosen.door.detection_threshold_for_far.toFixed(4)), verification: chosen.verification };
say(`chosen thresholds ${JSON.stringify(thresholds)}`);

// Open set (every pipeline): per-person FAR against threshold on the
// held-out people, so the verifier raises the threshold with the household and the door's FAR stays put.
const embeddingOf = (file: string) => {
  const entry = embeddings.byFile.get(file);
  return entry?.kind === 'embedding' ? entry.embedding : null;
};
const openSetFull = openSetCalibration(model, heldOutIds, embeddingOf, { enrolImages: 5, verification: thresholds.verification, doorFar: CALIBRATION_MAX_FAR });
const openSet = { doorFar: openSetFull.doorFar, curve: openSetFull.curve };
say(`open-set curve from ${openSetFull.claims} held-out claims: ${JSON.stringify(openSet.curve)}`);

// The yardstick: plain Euclidean distance between face-api descriptors (what face-api itself uses), same pairs.
const euclidean = heldOutScores.pairs.map((p) => {
  const a = embeddings.byFile.get(p.a);
  const b = embeddings.byFile.get(p.b);
  if (a?.kind !== 'embedding' || b?.kind !== 'embedding') throw new Error('scored pair without embeddings');
  let sum = 0;
  for (let i = 0; i < a.embedding.length; i++) sum += (a.embedding[i]! - b.embedding[i]!) ** 2;
  return -Math.sqrt(sum);
});
const euclideanMetrics = pairMetrics(euclidean, heldOutScores.labels, -0.6);
const l1 = heldOutScores.pairs.map((p) => {
  const a = embeddings.byFile.get(p.a)!;
  const b = embeddings.byFile.get(p.b)!;
  if (a.kind !== 'embedding' || b.kind !== 'embedding') throw new Error('scored pair without embeddings');
  let sum = 0;
  for (let i = 0; i < a.embedding.length; i++) sum += Math.abs(a.embedding[i]! - b.embedding[i]!);
  return -sum;
});
const l1Metrics = pairMetrics(l1, heldOutScores.labels, -5);
const heldOutAtChosen = pairMetrics(heldOutScores.scores, heldOutScores.labels, thresholds.detection);
const heldOutDoor = galleryTest(model, heldOutIds, embeddings, { enrolImages: 5, verification: thresholds.verification, detection: thresholds.detection });
const faceApiVersion = (createRequire(import.meta.url)('@vladmandic/face-api/package.json') as { version: string }).version;
const report = {
  tower: onnx
    ? { package: 'faceplugin-face-recognition-js', version: '0.0.1', file: 'model/fr_feature.onnx (sha256 87aacdfe...)', net: '512-d ArcFace-style embedder, frozen, provenance unclear (models/README.md)' }
    : { package: '@vladmandic/face-api', version: faceApiVersion, net: 'faceRecognitionNet: 128-d ResNet (port of dlib face recognition), frozen; its weights ship in the npm package' },
  command: `node --import tsx scripts/make-default-model.ts --pipeline ${args.pipeline} --out ${args.out} --seed ${seed} --epochs ${args.epochs} --learning-rate ${args['learning-rate']} --pairs-per-class ${pairsPerClass}${args['flip-average'] ? ' --flip-average' : ''} --created ${created}`,
  dataset: 'lfw-dev (shared/datasets/lfw-dev, deep-funneled 250x250)',
  split: { seed, train_identities: trainIds.length, held_out_identities: heldOutIds.length, rule: 'identity-disjoint 50/50, seeded' },
  detector: `${detector.name}, minConfidence ${settings.vision.minConfidence}`,
  images_without_face: embeddings.noFace.length,
  train_pairs: training.length,
  epochs: Number(args.epochs),
  uniform_head: uniform,
  final_loss: losses.at(-1),
  thresholds,
  held_out_pairs: { ...heldOutAtChosen, best_threshold_accuracy_note: 'accuracy = 10-fold CV threshold; precision/recall/far/frr at the chosen detection threshold' },
  held_out_pairs_at_0_5: { precision: heldOutPairMetrics.precision, recall: heldOutPairMetrics.recall, accuracy: heldOutPairMetrics.accuracy_at_detection_threshold },
  held_out_door: heldOutDoor,
  held_out_l1_baseline: { accuracy: l1Metrics.accuracy, auc: l1Metrics.auc, eer: l1Metrics.eer, frr_at_far_0_1: l1Metrics.frr_at_threshold },
  held_out_euclidean_baseline: { accuracy: euclideanMetrics.accuracy, auc: euclideanMetrics.auc, eer: euclideanMetrics.eer, frr_at_far_0_1: euclideanMetrics.frr_at_threshold },
  calibration_max_far: CALIBRATION_MAX_FAR,
  open_set_claims: openSetFull.claims,
  calibration_candidates: candidates.map((c) => ({ verification: c.verification, detection: c.door.detection_threshold_for_far, far: c.door.gallery_far, frr: c.door.gallery_frr })),
};
say(JSON.stringify(report, null, 2));
// A save replaces the folder whole; the opt-in embedder (installed by `npm run model:opt-in`) goes back in.
const embedderBytes = onnx ? readFileSync(join(outDir, ONNX_EMBEDDER_FILE)) : null;
await saveSiameseModel(outDir, model, { thresholds, openSet, training: report, created });
writeFileSync(join(outDir, 'training-report.json'), `${JSON.stringify(report, null, 2)}\n`);
if (embedderBytes) writeFileSync(join(outDir, ONNX_EMBEDDER_FILE), embedderBytes);
say(`saved ${args.out}`);
