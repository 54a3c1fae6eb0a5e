/**
 * ISO/IEC 30107-3 presentation-attack detection figures.
 *   APCER (per attack type, "PAI species"): attack presentations wrongly taken as bona fide / attack presentations.
 *   BPCER: bona fide presentations wrongly taken as attacks / bona fide presentations.
 *   APCER at BPCER x %: the threshold on the liveness score that keeps BPCER <= x %, and the APCER there.
 * The headline APCER is the worst attack type's (the standard's "maximum over PAI species"). Presentations in
 * which no face was found are failures to acquire: counted and reported, not folded into the rates.
 */

export interface PadSample {
  /** Liveness score (>= 1 = taken as bona fide at the configured thresholds); null = no face found. */
  score: number | null;
  /** The check's own decision at its configured thresholds. */
  passed: boolean;
}

export interface OperatingPoint {
  /** Presentations with score >= threshold are taken as bona fide. */
  threshold: number;
  bpcer: number;
  apcer: Record<string, number>;
  apcerMax: number;
}

export interface PadFigures {
  bonaFide: { presentations: number; noFace: number; bpcer: number };
  attacks: Record<string, { presentations: number; noFace: number; apcer: number }>;
  apcerMax: number;
  atBpcer: { '1%': OperatingPoint | null; '5%': OperatingPoint | null };
}

const rate = (count: number, of: number) => (of > 0 ? count / of : Number.NaN);

/** The smallest threshold that keeps the share of bona fide scores below it at or under maxBpcer. */
export function thresholdForBpcer(bonaFideScores: number[], maxBpcer: number): number {
  const sorted = [...bonaFideScores].sort((a, b) => a - b);
  const allowed = Math.floor(maxBpcer * sorted.length + 1e-9);
  // Rejecting the `allowed` lowest scores: the threshold is the next score (ties all stay accepted).
  return sorted[Math.min(allowed, sorted.length - 1)]!;
}

function operatingPoint(bonaFide: number[], attacks: Record<string, number[]>, maxBpcer: number): OperatingPoint | null {
  if (bonaFide.length === 0) return null;
  const threshold = thresholdForBpcer(bonaFide, maxBpcer);
  const apcer: Record<string, number> = {};
  for (const [type, scores] of Object.entries(attacks)) apcer[type] = rate(scores.filter((s) => s >= threshold).length, scores.length);
  const values = Object.values(apcer).filter(Number.isFinite);
  return { threshold, bpcer: rate(bonaFide.filter((s) => s < threshold).length, bonaFide.length), apcer, apcerMax: values.length ? Math.max(...values) : Number.NaN };
}

export function padFigures(bonaFide: PadSample[], attacks: Record<string, PadSample[]>): PadFigures {
  const acquired = (samples: PadSample[]) => samples.filter((s) => s.score !== null);
  const bf = acquired(bonaFide);
  const perType: PadFigures['attacks'] = {};
  const attackScores: Record<string, number[]> = {};
  for (const [type, samples] of Object.entries(attacks)) {
    const ok = acquired(samples);
    perType[type] = { presentations: samples.length, noFace: samples.length - ok.length, apcer: rate(ok.filter((s) => s.passed).length, ok.length) };
    attackScores[type] = ok.map((s) => s.score!);
  }
  const apcers = Object.values(perType).map((t) => t.apcer).filter(Number.isFinite);
  const bfScores = bf.map((s) => s.score!);
  return {
    bonaFide: { presentations: bonaFide.length, noFace: bonaFide.length - bf.length, bpcer: rate(bf.filter((s) => !s.passed).length, bf.length) },
    attacks: perType,
    apcerMax: apcers.length ? Math.max(...apcers) : Number.NaN,
    atBpcer: { '1%': operatingPoint(bfScores, attackScores, 0.01), '5%': operatingPoint(bfScores, attackScores, 0.05) },
  };
}
