import type { Identity } from '../gallery/datasets.js';
import type { SiameseModel } from '../model/model.js';
import type { Thresholds } from '../core/types.js';
import type { OpenSetCalibration } from '../model/metadata.js';
import { decide, scoreIdentities } from '../face/match.js';
import { seededRandom, shuffle } from '../random.js';

/**
 * The open-set door test: households of 5, 20 and 100 people drawn from everyone with more than `enrolImages`
 * usable images. Each household enrols `enrolImages` images per person; strangers are every image of every
 * person outside the household; genuine attempts are the members' other images. One attempt is decided exactly
 * as the verifier decides it (match.ts), against the whole household at once (1:N).
 */

export interface HouseholdOptions {
  enrolImages: number;
  /** People per household. */
  sizes: number[];
  /** Thresholds the door uses for a household of n people (fixed, or growing with n). */
  thresholdsFor: (people: number) => Thresholds;
  seed?: number;
  /** Households drawn per size (capped by how many distinct draws make sense). Default 10. */
  households?: number;
}

export interface HouseholdRates {
  people: number;
  households: number;
  detection: number;
  verification: number;
  /** Strangers let in / stranger attempts. */
  far: number;
  /** Members not granted as themselves / member attempts. */
  frr: number;
  misidentified: number;
  stranger_attempts: number;
  member_attempts: number;
}

interface Person {
  name: string;
  refs: Float32Array[];
  probes: Float32Array[];
  /** Every usable image (a stranger to other households uses them all). */
  all: Float32Array[];
}

export function householdTest(
  model: SiameseModel,
  identities: Identity[],
  embeddingOf: (file: string) => Float32Array | null,
  options: HouseholdOptions,
): HouseholdRates[] {
  const people: Person[] = [];
  const strangersOnly: Float32Array[] = [];
  for (const identity of identities) {
    const usable = identity.images.map(embeddingOf).filter((e): e is Float32Array => e !== null);
    if (usable.length > options.enrolImages) {
      people.push({ name: identity.name, refs: usable.slice(0, options.enrolImages), probes: usable.slice(options.enrolImages), all: usable });
    } else {
      strangersOnly.push(...usable);
    }
  }
  const random = seededRandom(options.seed ?? 1);
  const out: HouseholdRates[] = [];
  for (const size of options.sizes) {
    if (size > people.length) continue;
    const thresholds = options.thresholdsFor(size);
    const draws = Math.min(options.households ?? 10, Math.max(1, Math.floor((3 * people.length) / size)));
    let strangerAttempts = 0, falseAccepts = 0, memberAttempts = 0, rejected = 0, misidentified = 0;
    for (let h = 0; h < draws; h++) {
      const members = shuffle(people, random).slice(0, size);
      const inHouse = new Set(members.map((m) => m.name));
      const refs = members.flatMap((m) => m.refs);
      const gallery = members.map((m) => ({ name: m.name, embeddings: m.refs }));
      const attempt = (probe: Float32Array) => decide(scoreIdentities(gallery, model.scorePairs(probe, refs), thresholds), thresholds);
      for (const member of members) {
        for (const probe of member.probes) {
          memberAttempts++;
          const result = attempt(probe);
          if (result.decision !== 'granted') rejected++;
          else if (result.identity !== member.name) misidentified++;
        }
      }
      const strangers = [...strangersOnly, ...people.filter((p) => !inHouse.has(p.name)).flatMap((p) => p.all)];
      for (const probe of strangers) {
        strangerAttempts++;
        if (attempt(probe).decision === 'granted') falseAccepts++;
      }
    }
    out.push({
      people: size,
      households: draws,
      detection: thresholds.detection,
      verification: thresholds.verification,
      far: strangerAttempts ? falseAccepts / strangerAttempts : 0,
      frr: memberAttempts ? (rejected + misidentified) / memberAttempts : 0,
      misidentified,
      stranger_attempts: strangerAttempts,
      member_attempts: memberAttempts,
    });
  }
  return out;
}

/**
 * The open-set calibration stored in a model (metadata.openSet): per-person FAR against detection threshold,
 * from every stranger image tried against every enrolled person (one claim each, at `verification`), at FAR
 * levels doorFar / n for households of n = 1 .. 200, as far down as the claims can measure (at least one
 * false accept allowed). Run it on identities the head never saw.
 */
export function openSetCalibration(
  model: SiameseModel,
  identities: Identity[],
  embeddingOf: (file: string) => Float32Array | null,
  options: { enrolImages: number; verification: number; doorFar: number },
): OpenSetCalibration & { claims: number } {
  const enrolled: Array<{ name: string; refs: Float32Array[] }> = [];
  const everyone = identities.map((identity) => {
    const usable = identity.images.map(embeddingOf).filter((e): e is Float32Array => e !== null);
    if (usable.length > options.enrolImages) enrolled.push({ name: identity.name, refs: usable.slice(0, options.enrolImages) });
    return { name: identity.name, images: usable };
  });
  const refs = enrolled.flatMap((p) => p.refs);
  const claims: number[] = [];
  const k = Math.floor(options.verification * options.enrolImages + 1e-9) + 1; // verified <=> k-th best score > t
  for (const owner of everyone) {
    for (const image of owner.images) {
      const scores = model.scorePairs(image, refs);
      enrolled.forEach((person, i) => {
        if (person.name === owner.name) return;
        const own = Array.from(scores.subarray(i * options.enrolImages, (i + 1) * options.enrolImages)).sort((a, b) => b - a);
        claims.push(own[k - 1] ?? -Infinity);
      });
    }
  }
  claims.sort((a, b) => b - a);
  const curve: OpenSetCalibration['curve'] = [];
  for (const n of [1, 2, 5, 10, 20, 50, 100, 200]) {
    const far = options.doorFar / n;
    const allowed = Math.floor(far * claims.length + 1e-9);
    if (allowed < 1) break;
    const detection = Number(claims[Math.min(allowed, claims.length - 1)]!.toFixed(6));
    const prev = curve[curve.length - 1];
    if (prev && detection < prev.detection) continue;
    curve.push({ far, detection });
  }
  return { doorFar: options.doorFar, curve, claims: claims.length };
}
