import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  bestAccuracy, confusionAt, crossValidatedAccuracy, equalErrorRate, median, rocAuc, rocCurve, thresholdForFar,
} from '../../src/evaluation/metrics.js';

const scores = [0.9, 0.8, 0.7, 0.6, 0.4, 0.3, 0.2, 0.1];
const labels = [true, true, false, true, false, true, false, false];

test('confusion counts a pair as a match only when its score is strictly above the threshold', () => {
  const c = confusionAt(scores, labels, 0.6);
  assert.deepEqual([c.tp, c.fp, c.tn, c.fn], [2, 1, 3, 2]);
  assert.equal(c.precision, 2 / 3);
  assert.equal(c.recall, 0.5);
  assert.equal(c.far, 0.25);
  assert.equal(c.frr, 0.5);
  assert.equal(c.accuracy, 5 / 8);
});

test('precision is 1 when nothing is accepted (no false accepts)', () => {
  assert.equal(confusionAt(scores, labels, 1).precision, 1);
});

test('AUC is the probability a genuine pair outscores an impostor pair', () => {
  // genuine: .9 .8 .6 .3; impostor: .7 .4 .2 .1 -> wins: 4+4+3+2 = 13 of 16
  assert.equal(rocAuc(scores, labels), 13 / 16);
  assert.equal(rocAuc([0.9, 0.1], [true, false]), 1);
  assert.equal(rocAuc([0.1, 0.9], [true, false]), 0);
  assert.equal(rocAuc([0.5, 0.5], [true, false]), 0.5, 'a tie counts half');
});

test('ROC runs from (0,0) to (1,1) and its thresholds reproduce its points', () => {
  const roc = rocCurve(scores, labels);
  assert.equal(roc.far[0], 0);
  assert.equal(roc.tar.at(-1), 1);
  assert.equal(roc.far.at(-1), 1);
  for (let i = 1; i < roc.thresholds.length - 1; i++) {
    const c = confusionAt(scores, labels, roc.thresholds[i]!);
    assert.equal(c.far, roc.far[i]);
    assert.equal(c.recall, roc.tar[i]);
  }
});

test('thresholdForFar lets at most floor(maxFar * impostors) impostors through', () => {
  const impostors = Array.from({ length: 1000 }, (_, i) => i / 1000);
  const all = [...impostors, 0.95, 0.99];
  const lab = [...impostors.map(() => false), true, true];
  const t = thresholdForFar(all, lab, 0.001);
  const c = confusionAt(all, lab, t);
  assert.ok(c.fp <= 1, `fp ${c.fp}`);
  assert.equal(c.fp, 1);
  assert.equal(thresholdForFar(all, lab, 0) , 0.999);
  assert.equal(confusionAt(all, lab, thresholdForFar(all, lab, 0)).fp, 0);
});

test('EER sits where FAR and FRR cross', () => {
  const { eer, threshold } = equalErrorRate(scores, labels);
  const c = confusionAt(scores, labels, threshold);
  assert.equal(c.far, c.frr);
  assert.equal(eer, 0.25);
});

test('best accuracy is the maximum over all thresholds', () => {
  const best = bestAccuracy(scores, labels);
  for (const t of [-1, ...scores, 2]) assert.ok(confusionAt(scores, labels, t).accuracy <= best.accuracy);
  assert.equal(confusionAt(scores, labels, best.threshold).accuracy, best.accuracy);
  assert.equal(best.accuracy, 6 / 8);
});

test('cross-validated accuracy never beats the best-threshold accuracy and is perfect on separable data', () => {
  const s = Array.from({ length: 100 }, (_, i) => (i % 2 ? 0.8 : 0.2) + (i % 7) / 100);
  const l = s.map((_, i) => i % 2 === 1);
  assert.equal(crossValidatedAccuracy(s, l).accuracy, 1);
  const cv = crossValidatedAccuracy(scores, labels, 4);
  assert.ok(cv.accuracy <= bestAccuracy(scores, labels).accuracy);
  assert.equal(cv.thresholds.length, 4);
});

test('median of odd and even counts; mismatched lengths are refused', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 2, 3]), 2.5);
  assert.throws(() => confusionAt([1], [true, false], 0.5), /differ in length/);
});
