/**
 * Rebuilds models/default: face-api's pretrained 128-d ResNet tower (frozen, shipped in its npm package) +
 * an L1Dist -> Dense(1, sigmoid) head trained here, with thresholds calibrated for the door.
 *
 *   node --import tsx scripts/make-default-model.ts [--dataset ../shared/datasets/lfw-dev] [--out models/default]
 *        [--seed 1] [--epochs 60] [--extract-only] [--progress FILE]
 *
 * Reproducible: seeded identity split, seeded pairs, seeded head initialisation and batch order.
 * Identity-disjoint: the head trains on one half of the identities; thresholds are calibrated and every number
 * reported as "held-out" is measured on the other half, whose people the head never saw.
 */
import { appendFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/log.js';
import { initBackend, type BackendPreference } from '../src/siamese/backend.js';
import { listIdentities, makePairs, splitIdentities, type Pair } from '../src/siamese/datasets.js';
import { embedDataset, galleryTest, pairMetrics, scoreDatasetPairs, type DatasetEmbeddings } from '../src/siamese/evaluate.js';
import { saveSiameseModel } from '../src/siamese/io.js';
import type { FacegateMetadata } from '../src/siamese/metadata.js';
import { buildHead, SiameseModel, type HeadPair } from '../src/siamese/model.js';
import { createFaceApiTower } from '../src/siamese/towers.js';
import { towerKey } from '../src/siamese/verifier.js';
import { createFaceDetector } from '../src/vision/faces.js';

const { values: args } = parseArgs({
  options: {
    dataset: { type: 'string', default: resolve('../shared/datasets/lfw-dev') },
    out: { type: 'string', default: 'models/default' },
    seed: { type: 'string', default: '1' },
    epochs: { type: 'string', default: '60' },
    'learning-rate': { type: 'string', default: '0.01' },
    'pairs-per-class': { type: 'string', default: '20' },
    'extract-only': { type: 'boolean', default: false },
    progress: { type: 'string' },
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

const baseMetadata: FacegateMetadata = {
  format: 1,
  tower: 'faceapi-resnet128',
  inputSize: 150,
  embeddingSize: 128,
  preprocessing: 'faceapi',
  crop: { margin: 0, align: false },
  thresholds: { detection: 0.5, verification: 0.5 },
  training: {},
  created: new Date().toISOString(),
};
const model = new SiameseModel(await createFaceApiTower(), buildHead(128, seed), baseMetadata);
const detector = await createFaceDetector(settings.vision, { log });

const identities = listIdentities(args.dataset);
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
say(`training the head on ${training.length} pairs from ${trainIds.length} identities (${Number(args.epochs)} epochs)`);
const losses = await model.trainHead(training, {
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
const candidates = [0.2, 0.4, 0.6].map((verification) => ({
  verification,
  door: galleryTest(model, heldOutIds, embeddings, { enrolImages: 5, verification, detection: 0.5, maxFar: 0.0005 }),
}));
for (const c of candidates) {
  say(`held-out door, verification ${c.verification}: detection ${c.door.detection_threshold_for_far.toFixed(4)} -> FAR ${c.door.gallery_far}, FRR ${c.door.gallery_frr.toFixed(4)}`);
}
const chosen = [...candidates].sort((a, b) => a.door.gallery_frr - b.door.gallery_frr)[0]!;
const thresholds = { detection: Number(chosen.door.detection_threshold_for_far.toFixed(4)), verification: chosen.verification };
say(`chosen thresholds ${JSON.stringify(thresholds)}`);

const heldOutAtChosen = pairMetrics(heldOutScores.scores, heldOutScores.labels, thresholds.detection);
const heldOutDoor = galleryTest(model, heldOutIds, embeddings, { enrolImages: 5, verification: thresholds.verification, detection: thresholds.detection });
const report = {
  command: `node --import tsx scripts/make-default-model.ts --seed ${seed} --epochs ${args.epochs} --learning-rate ${args['learning-rate']} --pairs-per-class ${pairsPerClass}`,
  dataset: 'lfw-dev (shared/datasets/lfw-dev, deep-funneled 250x250)',
  split: { seed, train_identities: trainIds.length, held_out_identities: heldOutIds.length, rule: 'identity-disjoint 50/50, seeded' },
  detector: `${settings.vision.detector}${settings.vision.inputSize}, padding ${settings.vision.padding}, minConfidence ${settings.vision.minConfidence}`,
  images_without_face: embeddings.noFace.length,
  train_pairs: training.length,
  epochs: Number(args.epochs),
  final_loss: losses.at(-1),
  thresholds,
  held_out_pairs: { ...heldOutAtChosen, best_threshold_accuracy_note: 'accuracy = 10-fold CV threshold; precision/recall/far/frr at the chosen detection threshold' },
  held_out_pairs_at_0_5: { precision: heldOutPairMetrics.precision, recall: heldOutPairMetrics.recall, accuracy: heldOutPairMetrics.accuracy_at_detection_threshold },
  held_out_door: heldOutDoor,
  calibration_candidates: candidates.map((c) => ({ verification: c.verification, detection: c.door.detection_threshold_for_far, far: c.door.gallery_far, frr: c.door.gallery_frr })),
};
say(JSON.stringify(report, null, 2));
await saveSiameseModel(args.out, model, { thresholds, training: report, created: new Date().toISOString() });
writeFileSync(join(args.out, 'training-report.json'), `${JSON.stringify(report, null, 2)}\n`);
say(`saved ${args.out}`);
