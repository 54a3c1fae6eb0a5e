import type { ClosestMatch, IdentityScore, Thresholds, VerifyResult } from '../core/types.js';
import type { OpenSetCalibration } from '../model/metadata.js';

/**
 * The match and decide stages: per-image head scores -> per-person fractions -> one decision.
 * Seed semantics per person: detections = scores > detection threshold, fraction = detections / images,
 * verified = fraction > verification threshold. The best fraction wins (ties: higher mean score).
 */

/** Thresholds from settings (`model.detectionThreshold`, `model.verificationThreshold`); null = the model's. */
export interface ThresholdSettings {
  detectionThreshold: number | null;
  verificationThreshold: number | null;
}

/**
 * Settings win over the thresholds calibrated into the model. With `people` (the enrolled household) and an
 * open-set calibration in the model, the detection threshold is the household's (householdDetection()).
 */
export function resolveThresholds(settings: ThresholdSettings, model: { metadata: { thresholds: Thresholds; openSet?: OpenSetCalibration } }, people?: number): Thresholds {
  const { thresholds, openSet } = model.metadata;
  const detection = settings.detectionThreshold ?? (openSet && people !== undefined ? householdDetection(openSet, people, thresholds.detection) : thresholds.detection);
  return { detection, verification: settings.verificationThreshold ?? thresholds.verification };
}

/**
 * The detection threshold for a door with `people` enrolled: the one whose per-person FAR is doorFar / people
 * (log-linear between the calibrated points), never below `base` (the model's one-person threshold), so the
 * door's FAR (about people x per-person FAR) stays at doorFar however many people are enrolled. One person: the
 * model's threshold as it is. Past the curve's last point (the rarest FAR the calibration could measure) the
 * last threshold is used.
 */
export function householdDetection(openSet: OpenSetCalibration, people: number, base: number): number {
  // One person (or none) is the case the model's own threshold was calibrated for.
  if (people <= 1) return base;
  const target = openSet.doorFar / people;
  const curve = openSet.curve;
  let threshold = curve[curve.length - 1]!.detection;
  for (let i = 0; i < curve.length; i++) {
    const point = curve[i]!;
    if (point.far > target) continue;
    const prev = curve[i - 1];
    if (!prev) threshold = point.detection;
    else {
      const t = (Math.log(prev.far) - Math.log(target)) / (Math.log(prev.far) - Math.log(point.far));
      threshold = prev.detection + t * (point.detection - prev.detection);
    }
    break;
  }
  return Math.max(base, threshold);
}

/** An enrolled person as the matcher sees them, whatever store they came from. */
export interface MatchPerson {
  name: string;
  embeddings: Float32Array[];
}

/**
 * The match stage: one probe embedding against every enrolled embedding. The head (a tensor model) stays
 * behind `scorePairs`; this side sees Float32Arrays and numbers only.
 */
export interface Matcher {
  /** Per-person scores, best first; `thresholds` when the door's differ from the matcher's own (household). */
  match(probe: Float32Array, people: readonly MatchPerson[], thresholds?: Thresholds): IdentityScore[];
}

export function headMatcher(head: { scorePairs(probe: Float32Array, refs: Float32Array[]): ArrayLike<number> }, thresholds: Thresholds): Matcher {
  return {
    match(probe, people, current = thresholds) {
      const flat = people.flatMap((p) => p.embeddings);
      if (flat.length === 0) return [];
      return rankIdentities(scoreIdentities(people, head.scorePairs(probe, flat), current));
    },
  };
}

/** Per-person scores from one flat score array laid out person by person. */
export function scoreIdentities(people: ReadonlyArray<{ name: string; embeddings: ArrayLike<unknown> }>, scores: ArrayLike<number>, thresholds: Thresholds): IdentityScore[] {
  const out: IdentityScore[] = [];
  let offset = 0;
  for (const person of people) {
    const n = person.embeddings.length;
    let detections = 0;
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const score = scores[offset + i]!;
      sum += score;
      if (score > thresholds.detection) detections++;
    }
    offset += n;
    out.push({ identity: person.name, fraction: n ? detections / n : 0, meanScore: n ? sum / n : 0, detections, images: n });
  }
  return out;
}

/** Best person first: highest fraction, then highest mean score, then name (stable). */
export function rankIdentities(scores: IdentityScore[]): IdentityScore[] {
  return [...scores].sort((a, b) => b.fraction - a.fraction || b.meanScore - a.meanScore || (a.identity < b.identity ? -1 : 1));
}

/**
 * The decide stage. Only a grant names a person in `identity`: a stranger must never be logged, audited or
 * published as the enrolled person they happen to look most like. The nearest person stays in `closest`, a
 * diagnostic for tuning thresholds, and the reason names nobody.
 */
export function decide(perIdentity: IdentityScore[], thresholds: Thresholds): Pick<VerifyResult, 'decision' | 'identity' | 'closest' | 'fraction' | 'meanScore' | 'reason'> {
  const best = rankIdentities(perIdentity)[0];
  if (!best) return { decision: 'denied', identity: null, closest: null, fraction: 0, meanScore: 0, reason: 'gallery is empty: enrol someone with facegate enroll NAME --images DIR' };
  const granted = best.fraction > thresholds.verification;
  const closest: ClosestMatch = { identity: best.identity, fraction: best.fraction, meanScore: best.meanScore };
  return {
    decision: granted ? 'granted' : 'denied',
    identity: granted ? best.identity : null,
    closest,
    fraction: best.fraction,
    meanScore: best.meanScore,
    ...(granted ? {} : { reason: `no enrolled person matched: the closest had ${best.detections} of ${best.images} images above ${thresholds.detection}` }),
  };
}
