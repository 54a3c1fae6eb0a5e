import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../../src/model/tf.js';
import type { Identity } from '../../src/gallery/datasets.js';
import { seededRandom } from '../../src/random.js';
import { householdTest, openSetCalibration } from '../../src/evaluation/household.js';
import { householdDetection, resolveThresholds } from '../../src/face/match.js';
import { faceApiDefaults, type OpenSetCalibration } from '../../src/model/metadata.js';
import { buildHead, SiameseModel } from '../../src/model/model.js';
import type { EmbeddingTower } from '../../src/model/towers.js';

const DIM = 8;

function model(openSet?: OpenSetCalibration): SiameseModel {
  const head = buildHead(DIM, 1);
  head.getLayer('classification').setWeights([tf.fill([DIM, 1], -4), tf.tensor1d([6])]);
  const tower: EmbeddingTower = { id: 'precomputed', inputSize: 1, embeddingSize: DIM, embed: () => Promise.reject(new Error('precomputed')), dispose: () => {} };
  return new SiameseModel(tower, head, faceApiDefaults({ embeddingSize: DIM, thresholds: { detection: 0.5, verification: 0.2 }, ...(openSet ? { openSet } : {}) }));
}

/** 150 people x 7 images: clusters close enough that strangers sometimes pass a lax threshold. */
function dataset(seed = 5) {
  const random = seededRandom(seed);
  const identities: Identity[] = [];
  const vectors = new Map<string, Float32Array>();
  for (let p = 0; p < 150; p++) {
    const centre = Float32Array.from({ length: DIM }, () => random());
    const images = Array.from({ length: 7 }, (_, k) => `p${p}/${k}`);
    images.forEach((file) => vectors.set(file, centre.map((c) => c + (random() - 0.5) * 0.25)));
    identities.push({ name: `p${p}`, images });
  }
  return { identities, embeddingOf: (file: string) => vectors.get(file) ?? null };
}

const curve: OpenSetCalibration = { doorFar: 0.001, curve: [{ far: 0.001, detection: 0.6 }, { far: 0.0001, detection: 0.8 }, { far: 0.00001, detection: 0.9 }] };

test('householdDetection: the per-person FAR bar is doorFar / people, log-linear between points, never below the base', () => {
  assert.equal(householdDetection(curve, 1, 0.5), 0.5, 'one person: the model threshold as calibrated');
  assert.ok(Math.abs(householdDetection(curve, 2, 0.5) - (0.6 + (0.2 * Math.log(2)) / Math.log(10))) < 1e-9, 'two people: log-linear between the points');
  assert.equal(householdDetection(curve, 10, 0.5), 0.8);
  assert.ok(Math.abs(householdDetection(curve, Math.sqrt(10), 0.5) - 0.7) < 1e-9, 'half way in log FAR');
  assert.equal(householdDetection(curve, 1000, 0.5), 0.9, 'past the last point: the last threshold');
  assert.equal(householdDetection(curve, 1, 0.65), 0.65, 'never below the model threshold');
  let previous = 0;
  for (const n of [1, 2, 5, 20, 100, 500]) {
    const t = householdDetection(curve, n, 0.5);
    assert.ok(t >= previous, `threshold for ${n} people must not drop`);
    previous = t;
  }
});

test('resolveThresholds: the household threshold applies unless a detection threshold is set', () => {
  const m = model(curve);
  const settings = { detectionThreshold: null, verificationThreshold: null } as never;
  assert.equal(resolveThresholds(settings, m, 10).detection, 0.8);
  assert.equal(resolveThresholds(settings, m).detection, 0.5, 'without a household size: the model threshold');
  assert.equal(resolveThresholds({ detectionThreshold: 0.7, verificationThreshold: null } as never, m, 10).detection, 0.7);
  assert.equal(resolveThresholds(settings, model(), 10).detection, 0.5, 'no calibration: fixed');
  m.dispose();
});

test('1:N by household: fixed thresholds let in more strangers as the household grows; calibrated ones do not', () => {
  const { identities, embeddingOf } = dataset();
  const plain = model();
  const fixed = householdTest(plain, identities, embeddingOf, { enrolImages: 5, sizes: [5, 100], thresholdsFor: () => ({ detection: 0.5, verification: 0.2 }), seed: 2 });
  assert.deepEqual(fixed.map((r) => r.people), [5, 100]);
  const [small, big] = fixed as [(typeof fixed)[0], (typeof fixed)[0]];
  assert.equal(small.member_attempts, 5 * 2 * small.households, 'two probes per member per household');
  assert.equal(small.stranger_attempts, 145 * 7 * small.households, 'every image of everyone outside the household');
  assert.ok(big.far > 4 * small.far && big.far > 0.01, `fixed thresholds: FAR ${small.far} with 5 people, ${big.far} with 100`);

  // Calibrate on the first half of the people, test households drawn from the other half.
  const calibration = openSetCalibration(plain, identities.slice(0, 75), embeddingOf, { enrolImages: 5, verification: 0.2, doorFar: 0.01 });
  assert.ok(calibration.curve.length >= 2 && calibration.claims === 75 * 74 * 7, `${calibration.claims} claims`);
  const calibrated = model({ doorFar: calibration.doorFar, curve: calibration.curve });
  const held = identities.slice(75);
  const scaled = householdTest(calibrated, held, embeddingOf, { enrolImages: 5, sizes: [5, 50], thresholdsFor: (n) => resolveThresholds({ detectionThreshold: null, verificationThreshold: null } as never, calibrated, n), seed: 2 });
  const [s5, s50] = scaled as [(typeof scaled)[0], (typeof scaled)[0]];
  assert.ok(s50.detection > s5.detection, 'a bigger household gets a stricter threshold');
  assert.ok(s50.far <= 0.03, `calibrated: FAR ${s50.far} with 50 people (door bar 1 %)`);
  plain.dispose();
  calibrated.dispose();
});
