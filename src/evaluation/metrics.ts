/**
 * Verification metrics over pair scores. A pair "matches" when its score is strictly above the threshold,
 * the same rule the verifier applies per gallery image (seed semantics: `score > detection threshold`).
 * Labels: true = genuine (same person), false = impostor.
 */

export interface Confusion {
  threshold: number;
  tp: number;
  fp: number;
  tn: number;
  fn: number;
  accuracy: number;
  /** tp / (tp + fp); 1 when nothing was accepted (no false accepts were made). */
  precision: number;
  /** tp / (tp + fn): the seed tutorial's recall, 1 - FRR. */
  recall: number;
  /** False accept rate: impostor pairs accepted / impostor pairs. */
  far: number;
  /** False reject rate: genuine pairs rejected / genuine pairs. */
  frr: number;
}

function checkInput(scores: ArrayLike<number>, labels: ArrayLike<boolean>): void {
  if (scores.length !== labels.length) throw new Error(`scores (${scores.length}) and labels (${labels.length}) differ in length`);
}

export function confusionAt(scores: ArrayLike<number>, labels: ArrayLike<boolean>, threshold: number): Confusion {
  checkInput(scores, labels);
  let tp = 0, fp = 0, tn = 0, fn = 0;
  for (let i = 0; i < scores.length; i++) {
    const accepted = scores[i]! > threshold;
    if (labels[i]) accepted ? tp++ : fn++;
    else accepted ? fp++ : tn++;
  }
  const total = tp + fp + tn + fn;
  return {
    threshold,
    tp, fp, tn, fn,
    accuracy: total ? (tp + tn) / total : 0,
    precision: tp + fp ? tp / (tp + fp) : 1,
    recall: tp + fn ? tp / (tp + fn) : 0,
    far: fp + tn ? fp / (fp + tn) : 0,
    frr: tp + fn ? fn / (tp + fn) : 0,
  };
}

export interface RocCurve {
  /** Descending; point i accepts every pair with score > thresholds[i]. */
  thresholds: number[];
  far: number[];
  /** True accept rate = 1 - FRR. */
  tar: number[];
}

/** One ROC point per distinct score (plus the "accept nothing" corner), from strictest to most lenient. */
export function rocCurve(scores: ArrayLike<number>, labels: ArrayLike<boolean>): RocCurve {
  checkInput(scores, labels);
  const order = Array.from({ length: scores.length }, (_, i) => i).sort((a, b) => scores[b]! - scores[a]!);
  let positives = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i]) positives++;
  const negatives = labels.length - positives;
  const curve: RocCurve = { thresholds: [Infinity], far: [0], tar: [0] };
  let tp = 0, fp = 0;
  for (let k = 0; k < order.length; k++) {
    const i = order[k]!;
    if (labels[i]) tp++;
    else fp++;
    const next = order[k + 1];
    // Emit a point only after the last pair of a run of equal scores: thresholds sit between distinct values.
    if (next !== undefined && scores[next] === scores[i]) continue;
    const below = next === undefined ? -Infinity : scores[next]!;
    curve.thresholds.push(below === -Infinity ? -Infinity : below);
    curve.far.push(negatives ? fp / negatives : 0);
    curve.tar.push(positives ? tp / positives : 0);
  }
  return curve;
}

/** Area under the ROC curve: the probability a random genuine pair outscores a random impostor pair (ties count half). */
export function rocAuc(scores: ArrayLike<number>, labels: ArrayLike<boolean>): number {
  const roc = rocCurve(scores, labels);
  let area = 0;
  for (let i = 1; i < roc.far.length; i++) {
    area += (roc.far[i]! - roc.far[i - 1]!) * (roc.tar[i]! + roc.tar[i - 1]!) / 2;
  }
  return area;
}

/** Candidate thresholds: every distinct score, and just below the lowest (accept all). */
function candidateThresholds(scores: ArrayLike<number>): number[] {
  const distinct = [...new Set(Array.from(scores))].sort((a, b) => a - b);
  return distinct.length ? [distinct[0]! - 1e-9, ...distinct] : [0.5];
}

/** Equal error rate: where FAR and FRR cross (the mean of the two at the closest threshold). */
export function equalErrorRate(scores: ArrayLike<number>, labels: ArrayLike<boolean>): { eer: number; threshold: number } {
  let best = { gap: Infinity, eer: 1, threshold: 0.5 };
  for (const t of candidateThresholds(scores)) {
    const c = confusionAt(scores, labels, t);
    const gap = Math.abs(c.far - c.frr);
    if (gap < best.gap) best = { gap, eer: (c.far + c.frr) / 2, threshold: t };
  }
  return { eer: best.eer, threshold: best.threshold };
}

/**
 * The most lenient threshold whose FAR is at most `maxFar`: with n impostor pairs at most floor(maxFar * n)
 * of them may score above it. Returns the k-th highest impostor score (ties make it stricter, never laxer).
 */
export function thresholdForFar(scores: ArrayLike<number>, labels: ArrayLike<boolean>, maxFar: number): number {
  checkInput(scores, labels);
  const impostors: number[] = [];
  for (let i = 0; i < scores.length; i++) if (!labels[i]) impostors.push(scores[i]!);
  if (impostors.length === 0) return -Infinity;
  impostors.sort((a, b) => b - a);
  const allowed = Math.floor(maxFar * impostors.length + 1e-9);
  return impostors[Math.min(allowed, impostors.length - 1)]!;
}

/** Accuracy at the threshold that maximises it on these very pairs (optimistic: the threshold sees the test). */
export function bestAccuracy(scores: ArrayLike<number>, labels: ArrayLike<boolean>): { accuracy: number; threshold: number } {
  const order = Array.from({ length: scores.length }, (_, i) => i).sort((a, b) => scores[a]! - scores[b]!);
  let positives = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i]) positives++;
  // Sweep from "accept all" upwards: rejecting pair i gains one if it is an impostor, loses one if genuine.
  let correct = positives;
  let best = { correct, threshold: scores.length ? scores[order[0]!]! - 1e-9 : 0.5 };
  for (let k = 0; k < order.length; k++) {
    const i = order[k]!;
    correct += labels[i] ? -1 : 1;
    const next = order[k + 1];
    if (next !== undefined && scores[next] === scores[i]) continue;
    if (correct > best.correct) best = { correct, threshold: scores[i]! };
  }
  return { accuracy: scores.length ? best.correct / scores.length : 0, threshold: best.threshold };
}

/**
 * LFW-protocol accuracy: split the pairs into `folds` (pair i goes to fold i % folds), choose the best threshold
 * on the other folds and score the held-out fold with it. No pair is judged by a threshold that saw it.
 */
export function crossValidatedAccuracy(scores: ArrayLike<number>, labels: ArrayLike<boolean>, folds = 10): { accuracy: number; std: number; thresholds: number[] } {
  checkInput(scores, labels);
  const accuracies: number[] = [];
  const thresholds: number[] = [];
  for (let f = 0; f < folds; f++) {
    const trainS: number[] = [], trainL: boolean[] = [], testS: number[] = [], testL: boolean[] = [];
    for (let i = 0; i < scores.length; i++) {
      if (i % folds === f) { testS.push(scores[i]!); testL.push(labels[i]!); }
      else { trainS.push(scores[i]!); trainL.push(labels[i]!); }
    }
    if (testS.length === 0) continue;
    const { threshold } = bestAccuracy(trainS, trainL);
    thresholds.push(threshold);
    accuracies.push(confusionAt(testS, testL, threshold).accuracy);
  }
  const mean = accuracies.reduce((a, b) => a + b, 0) / Math.max(1, accuracies.length);
  const variance = accuracies.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, accuracies.length);
  return { accuracy: mean, std: Math.sqrt(variance), thresholds };
}

export function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
