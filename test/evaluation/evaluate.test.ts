import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../src/model/tf.js';
import type { FileEmbedding } from '../../src/gallery/cache.js';
import type { Identity } from '../../src/gallery/datasets.js';
import { seededRandom } from '../../src/random.js';
import { pairMetrics, plotData, scoreDatasetPairs, type DatasetEmbeddings } from '../../src/evaluation/evaluate.js';
import { galleryTest } from '../../src/evaluation/door-test.js';
import { seedDefaults } from '../../src/model/metadata.js';
import { buildHead, SiameseModel } from '../../src/model/model.js';
import type { EmbeddingTower } from '../../src/model/towers.js';

const DIM = 8;

/** A real head with known weights: score = sigmoid(6 - 4 * L1 distance). Embeddings come precomputed. */
function knownHeadModel(): SiameseModel {
  const head = buildHead(DIM, 1);
  const dense = head.getLayer('classification');
  dense.setWeights([tf.fill([DIM, 1], -4), tf.tensor1d([6])]);
  const precomputedOnly: EmbeddingTower = {
    id: 'precomputed', inputSize: 1, embeddingSize: DIM,
    embed: () => Promise.reject(new Error('embeddings are precomputed in this test')),
    dispose: () => {},
  };
  return new SiameseModel(precomputedOnly, head, seedDefaults({ tower: 'faceapi-resnet128', embeddingSize: DIM }));
}

/** People as clusters: each identity a random centre, each image the centre plus a little noise. */
function syntheticDataset(people: number, perPerson: (i: number) => number, noise: number, seed = 3) {
  const random = seededRandom(seed);
  const identities: Identity[] = [];
  const byFile = new Map<string, FileEmbedding>();
  for (let p = 0; p < people; p++) {
    const centre = Float32Array.from({ length: DIM }, () => random() * 2);
    const images: string[] = [];
    for (let k = 0; k < perPerson(p); k++) {
      const file = `p${p}/${k}.jpg`;
      images.push(file);
      const embedding = centre.map((c) => c + (random() - 0.5) * noise);
      byFile.set(file, { file, hash: file, kind: 'embedding', embedding, cached: true });
    }
    identities.push({ name: `p${p}`, images });
  }
  const noFace = 'p0/noface.jpg';
  identities[0]!.images.push(noFace);
  byFile.set(noFace, { file: noFace, hash: noFace, kind: 'no_face', cached: true });
  const embeddings: DatasetEmbeddings = { byFile, noFace: [noFace], unreadable: [] };
  return { identities, embeddings };
}

test('pairs with a faceless image are skipped and counted; the rest are scored by the head', () => {
  const model = knownHeadModel();
  const { embeddings } = syntheticDataset(3, () => 3, 0.05);
  const scored = scoreDatasetPairs(model, [
    { a: 'p0/0.jpg', b: 'p0/1.jpg', same: true },
    { a: 'p0/0.jpg', b: 'p1/0.jpg', same: false },
    { a: 'p0/noface.jpg', b: 'p0/1.jpg', same: true },
  ], embeddings);
  assert.equal(scored.skipped.length, 1);
  assert.deepEqual(scored.labels, [true, false]);
  assert.ok(scored.scores[0]! > 0.9 && scored.scores[1]! < 0.1, `${scored.scores}`);
  model.dispose();
});

test('pair metrics: separable scores give accuracy 1 and AUC 1, and the plot data carries every threshold', () => {
  const scores = [0.99, 0.95, 0.9, 0.2, 0.1, 0.05];
  const labels = [true, true, true, false, false, false];
  const m = pairMetrics(scores, labels, 0.5);
  assert.equal(m.auc, 1);
  assert.equal(m.best_accuracy, 1);
  assert.equal(m.precision, 1);
  assert.equal(m.recall, 1);
  assert.equal(m.far, 0);
  assert.equal(m.pairs, 6);
  const plot = plotData({ scores: Float32Array.from(scores), labels, pairs: [], skipped: [] }, m);
  assert.deepEqual(plot.thresholds.map((t) => t.name), ['detection (door)', 'FAR <= 0.1 %', 'EER']);
});

test('door test: enrols people with more than 5 usable images, keeps FAR within the bar, counts outcomes', () => {
  const model = knownHeadModel();
  // p0..p5 have 8 images (enrolled, 3 probes each); p6..p29 have 2 (impostors only).
  const { identities, embeddings } = syntheticDataset(30, (p) => (p < 6 ? 8 : 2), 0.3);
  const result = galleryTest(model, identities, embeddings, { enrolImages: 5, verification: 0.5, detection: 0.5 });
  assert.equal(result.enrolled, 6);
  assert.equal(result.genuine_attempts, 6 * 3);
  // Each of the 6 people is tried with every image of the 29 others: 5 * 8 + 24 * 2 + the faceless one skipped.
  assert.equal(result.impostor_attempts, 6 * (5 * 8 + 24 * 2));
  assert.equal(result.one_to_n.impostor_attempts, 24 * 2);
  assert.ok(result.gallery_far <= 0.001, `FAR ${result.gallery_far}`);
  assert.ok(result.gallery_frr < 0.2, `clusters this tight are mostly accepted, FRR ${result.gallery_frr}`);
  assert.equal(result.one_to_n.misidentified, 0);
  assert.ok(result.one_to_n.far <= 0.001);
  // At an absurdly lax detection threshold everybody gets in: the model-threshold row must show it.
  const lax = galleryTest(model, identities, embeddings, { enrolImages: 5, verification: 0.5, detection: 0 });
  assert.equal(lax.at_model_thresholds.far, 1);
  assert.equal(lax.one_to_n.at_model_thresholds.far, 1);
  // Everyone is granted as someone: the only genuine failures left are grants to the wrong person.
  const n = lax.one_to_n.at_model_thresholds;
  assert.equal(Math.round(n.frr * lax.genuine_attempts), n.misidentified);
  model.dispose();
});

test('door test refuses a dataset where nobody can be enrolled', () => {
  const model = knownHeadModel();
  const { identities, embeddings } = syntheticDataset(4, () => 3, 0.1);
  assert.throws(() => galleryTest(model, identities, embeddings, { enrolImages: 5, verification: 0.5, detection: 0.5 }), /nobody has more than 5/);
  model.dispose();
});
