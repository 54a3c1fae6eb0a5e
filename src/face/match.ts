import type { Settings } from '../config/index.js';
import type { SiameseModel } from '../model/model.js';
import type { IdentityScore, Thresholds, VerifyResult } from '../core/types.js';

/**
 * The match and decide stages: per-image head scores -> per-person fractions -> one decision.
 * Seed semantics per person: detections = scores > detection threshold, fraction = detections / images,
 * verified = fraction > verification threshold. The best fraction wins (ties: higher mean score).
 */

/** Settings win over the thresholds calibrated into the model. */
export function resolveThresholds(settings: Settings['model'], model: SiameseModel): Thresholds {
  return {
    detection: settings.detectionThreshold ?? model.metadata.thresholds.detection,
    verification: settings.verificationThreshold ?? model.metadata.thresholds.verification,
  };
}

/** Per-person scores from one flat score array laid out person by person. */
export function scoreIdentities(people: Array<{ name: string; embeddings: ArrayLike<unknown> }>, scores: ArrayLike<number>, thresholds: Thresholds): IdentityScore[] {
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

export function decide(perIdentity: IdentityScore[], thresholds: Thresholds): Pick<VerifyResult, 'decision' | 'identity' | 'fraction' | 'meanScore' | 'reason'> {
  const best = rankIdentities(perIdentity)[0];
  if (!best) return { decision: 'denied', identity: null, fraction: 0, meanScore: 0, reason: 'gallery is empty: enrol someone with facegate enroll NAME --images DIR' };
  const granted = best.fraction > thresholds.verification;
  return {
    decision: granted ? 'granted' : 'denied',
    identity: best.identity,
    fraction: best.fraction,
    meanScore: best.meanScore,
    ...(granted ? {} : { reason: `best match ${best.identity}: ${best.detections} of ${best.images} images above ${thresholds.detection}` }),
  };
}
