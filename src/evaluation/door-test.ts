// The door test: the verifier's own decision logic over dataset embeddings, per person (1:1) and 1:N.
import type { Identity } from '../gallery/datasets.js';
import type { SiameseModel } from '../model/model.js';
import type { Thresholds } from '../core/types.js';
import { decide, scoreIdentities } from '../face/match.js';
import { thresholdForFar } from './metrics.js';
import { DOOR_MAX_FAR, embeddingOf, type DatasetEmbeddings } from './evaluate.js';

/** One probe attempt of the door test: the verifier's decision logic over the probe's scores. */
interface Attempt {
  truth: string | null;
  people: Array<{ name: string; scores: Float32Array }>;
}

export interface GalleryTestOptions {
  /** Images enrolled per person; people need at least one more to be probed. */
  enrolImages: number;
  verification: number;
  /** The detection threshold to report the door at (the model's), besides the calibrated one. */
  detection: number;
  maxFar?: number;
}

export interface DoorRates {
  far: number;
  frr: number;
}

export interface GalleryTestResult {
  enrolled: number;
  /** Per-person claims (1:1): a person's own held-back images... */
  genuine_attempts: number;
  /** ...and every image of everyone else, each tried against that person. */
  impostor_attempts: number;
  /** Detection threshold at which the per-person FAR is <= maxFar (verification threshold fixed). */
  detection_threshold_for_far: number;
  gallery_far: number;
  gallery_frr: number;
  at_model_thresholds: DoorRates & { detection: number; verification: number };
  /**
   * The whole gallery at once (1:N, what a door with `enrolled` people does): an impostor gets in when ANY
   * person matches, so its FAR grows with the number of people enrolled. Impostors here are people not enrolled.
   */
  one_to_n: DoorRates & { impostor_attempts: number; detection_threshold_for_far: number; misidentified: number; at_model_thresholds: DoorRates & { misidentified: number } };
}

function doorOutcome(attempt: Attempt, thresholds: Thresholds): 'accepted' | 'rejected' | 'wrong_person' {
  const ids = scoreIdentities(attempt.people.map((p) => ({ name: p.name, embeddings: p.scores })), concatScores(attempt), thresholds);
  const result = decide(ids, thresholds);
  if (result.decision !== 'granted') return 'rejected';
  return result.identity === attempt.truth ? 'accepted' : 'wrong_person';
}

function concatScores(attempt: Attempt): Float32Array {
  const total = attempt.people.reduce((n, p) => n + p.scores.length, 0);
  const out = new Float32Array(total);
  let offset = 0;
  for (const p of attempt.people) {
    out.set(p.scores, offset);
    offset += p.scores.length;
  }
  return out;
}

/**
 * A person is verified at detection threshold t when more than `verification` of their n images score above
 * t, i.e. when their k-th best score is above t (k = floor(verification * n) + 1). So each claim reduces to
 * one number, and the threshold for a FAR bar is a quantile of the impostor claims' numbers.
 */
function kthBest(scores: Float32Array, verification: number): number {
  const k = Math.floor(verification * scores.length + 1e-9) + 1;
  if (k > scores.length) return -Infinity;
  return [...scores].sort((a, b) => b - a)[k - 1]!;
}

function ratesAt(genuine: number[], impostor: number[], t: number): DoorRates {
  return {
    far: impostor.length ? impostor.filter((v) => v > t).length / impostor.length : 0,
    frr: genuine.length ? genuine.filter((v) => v <= t).length / genuine.length : 0,
  };
}

/**
 * The door test: enrol `enrolImages` images of everyone who has more; probe each person with their other
 * images (genuine) and with everyone else's images (impostors); report the FRR at the detection threshold that
 * keeps the FAR <= 0.1 % (gallery_frr). Each probe image costs one batched head call against the whole
 * gallery, exactly like the verifier. The 1:N door over all enrolled people is reported beside it.
 */
export function galleryTest(model: SiameseModel, identities: Identity[], embeddings: DatasetEmbeddings, options: GalleryTestOptions): GalleryTestResult {
  const maxFar = options.maxFar ?? DOOR_MAX_FAR;
  const v = options.verification;
  const enrolled: Array<{ name: string; refs: Float32Array[]; probes: Float32Array[] }> = [];
  const outsiders: Float32Array[] = [];
  const everyone: Array<{ name: string; images: Float32Array[] }> = [];
  for (const identity of identities) {
    const usable = identity.images.map((f) => embeddingOf(embeddings, f)).filter((e): e is Float32Array => e !== null);
    everyone.push({ name: identity.name, images: usable });
    if (usable.length > options.enrolImages) {
      enrolled.push({ name: identity.name, refs: usable.slice(0, options.enrolImages), probes: usable.slice(options.enrolImages) });
    } else {
      outsiders.push(...usable);
    }
  }
  if (enrolled.length === 0) throw new Error(`door test: nobody has more than ${options.enrolImages} usable images`);
  const refs = enrolled.flatMap((p) => p.refs);
  const scoresByPerson = (probe: Float32Array): Float32Array[] => {
    const scores = model.scorePairs(probe, refs);
    let offset = 0;
    return enrolled.map((p) => {
      const slice = scores.subarray(offset, offset + p.refs.length);
      offset += p.refs.length;
      return slice;
    });
  };

  // Per person (1:1 claims).
  const genuine: number[] = [];
  const impostor: number[] = [];
  const genuineAttempts: Attempt[] = [];
  const outsiderAttempts: Attempt[] = [];
  for (const owner of everyone) {
    const own = enrolled.findIndex((p) => p.name === owner.name);
    const probes = own >= 0 ? enrolled[own]!.probes : owner.images;
    for (const image of own >= 0 ? [...enrolled[own]!.refs, ...probes] : probes) {
      const isProbe = own < 0 || probes.includes(image);
      const perPerson = scoresByPerson(image);
      perPerson.forEach((scores, i) => {
        if (i === own) {
          if (isProbe) genuine.push(kthBest(scores, v));
        } else {
          impostor.push(kthBest(scores, v));
        }
      });
      const attempt = { truth: own >= 0 ? owner.name : null, people: enrolled.map((p, i) => ({ name: p.name, scores: perPerson[i]! })) };
      if (own < 0) outsiderAttempts.push(attempt);
      else if (isProbe) genuineAttempts.push(attempt);
    }
  }
  const detection = thresholdForFar(impostor, impostor.map(() => false), maxFar);

  // The whole gallery (1:N): outsiders against everyone; genuine probes must be granted as themselves.
  const oneToN = (thresholds: Thresholds) => {
    let accepted = 0, wrong = 0, falseAccepts = 0;
    for (const attempt of genuineAttempts) {
      const outcome = doorOutcome(attempt, thresholds);
      if (outcome === 'accepted') accepted++;
      else if (outcome === 'wrong_person') wrong++;
    }
    for (const attempt of outsiderAttempts) if (doorOutcome(attempt, thresholds) !== 'rejected') falseAccepts++;
    return {
      far: outsiderAttempts.length ? falseAccepts / outsiderAttempts.length : 0,
      frr: genuineAttempts.length ? (genuineAttempts.length - accepted) / genuineAttempts.length : 0,
      misidentified: wrong,
    };
  };
  const outsiderScores = outsiderAttempts.map((a) => Math.max(...a.people.map((p) => kthBest(p.scores, v))));
  const detectionOneToN = outsiderScores.length ? thresholdForFar(outsiderScores, outsiderScores.map(() => false), maxFar) : options.detection;
  const calibrated = ratesAt(genuine, impostor, detection);
  return {
    enrolled: enrolled.length,
    genuine_attempts: genuine.length,
    impostor_attempts: impostor.length,
    detection_threshold_for_far: detection,
    gallery_far: calibrated.far,
    gallery_frr: calibrated.frr,
    at_model_thresholds: { detection: options.detection, verification: v, ...ratesAt(genuine, impostor, options.detection) },
    one_to_n: {
      impostor_attempts: outsiderAttempts.length,
      detection_threshold_for_far: detectionOneToN,
      ...oneToN({ detection: detectionOneToN, verification: v }),
      at_model_thresholds: oneToN({ detection: options.detection, verification: v }),
    },
  };
}
