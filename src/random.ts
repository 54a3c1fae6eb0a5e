/**
 * Seeded randomness for everything that must be reproducible: dataset pairs and splits, augmentation,
 * initial weights, batch order, test fixtures. One copy, because the generated fixtures and the default
 * model's weights.bin are compared byte for byte: the sequence for a seed must never change.
 */

/** mulberry32: small, fast and seedable; the same seed gives the same sequence on every machine. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fisher-Yates on a copy: one random() call per position from the end, so a seed fixes the order. */
export function shuffle<T>(items: T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
