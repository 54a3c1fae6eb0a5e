/**
 * Plane-to-plane geometry for the liveness checks: a least-squares homography between two sets of
 * corresponding points, and how far the points stray from it.
 *
 * Why a homography: any flat object (a print, a phone screen) seen by a pinhole camera from two positions maps
 * between the two pictures by one 3x3 homography, whatever the motion (rotation, tilt, distance). A face is
 * not flat: the nose tip stands ~2-3 cm in front of the eyes and cheeks, so when the head turns the landmarks
 * no longer fit one homography (parallax). The residual of the fit, normalised by the face's size, is the
 * principled "is it flat?" number.
 *
 * The fit is the normalised DLT (Hartley): points are centred and scaled to mean distance sqrt(2) first, which
 * keeps the normal equations well conditioned for pixel coordinates; h33 is fixed to 1 (safe here: the
 * normalised origin maps near the normalised origin for face-sized motions, never to infinity).
 */

export interface Point {
  x: number;
  y: number;
}

/** Row-major 3x3, h[8] = 1. */
export type Homography = Float64Array;

/** A homography has 8 degrees of freedom, 2 per point: 4 points fit exactly, a 5th is the first that can disagree. */
export const MIN_POINTS_FOR_RESIDUAL = 5;

interface Normalisation {
  points: Point[];
  /** Maps original -> normalised: x' = s (x - cx). */
  cx: number;
  cy: number;
  s: number;
}

function normalise(points: readonly Point[]): Normalisation {
  let cx = 0;
  let cy = 0;
  for (const p of points) {
    cx += p.x;
    cy += p.y;
  }
  cx /= points.length;
  cy /= points.length;
  let meanDist = 0;
  for (const p of points) meanDist += Math.hypot(p.x - cx, p.y - cy);
  meanDist /= points.length;
  const s = meanDist > 0 ? Math.SQRT2 / meanDist : 1;
  return { points: points.map((p) => ({ x: s * (p.x - cx), y: s * (p.y - cy) })), cx, cy, s };
}

/** Solves A x = b (n x n, row-major) by Gaussian elimination with partial pivoting; null when singular. */
export function solveLinear(a: Float64Array, b: Float64Array, n: number): Float64Array | null {
  const m = Float64Array.from(a);
  const v = Float64Array.from(b);
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(m[r * n + col]!) > Math.abs(m[pivot * n + col]!)) pivot = r;
    if (Math.abs(m[pivot * n + col]!) < 1e-12) return null;
    if (pivot !== col) {
      for (let c = 0; c < n; c++) [m[col * n + c], m[pivot * n + c]] = [m[pivot * n + c]!, m[col * n + c]!];
      [v[col], v[pivot]] = [v[pivot]!, v[col]!];
    }
    for (let r = col + 1; r < n; r++) {
      const f = m[r * n + col]! / m[col * n + col]!;
      if (f === 0) continue;
      for (let c = col; c < n; c++) m[r * n + c]! -= f * m[col * n + c]!;
      v[r]! -= f * v[col]!;
    }
  }
  const x = new Float64Array(n);
  for (let r = n - 1; r >= 0; r--) {
    let sum = v[r]!;
    for (let c = r + 1; c < n; c++) sum -= m[r * n + c]! * x[c]!;
    x[r] = sum / m[r * n + r]!;
  }
  return x;
}

/** The least-squares homography taking `from[i]` to `to[i]`; null when the points are degenerate (collinear). */
export function fitHomography(from: readonly Point[], to: readonly Point[]): Homography | null {
  if (from.length !== to.length) throw new RangeError(`point counts differ: ${from.length} vs ${to.length}`);
  if (from.length < 4) throw new RangeError(`a homography needs at least 4 points, got ${from.length}`);
  const a = normalise(from);
  const b = normalise(to);
  // Two equations per point, unknowns h0..h7 (h8 = 1): accumulate the normal equations AtA h = Atb.
  const ata = new Float64Array(64);
  const atb = new Float64Array(8);
  const addRow = (row: number[], rhs: number) => {
    for (let i = 0; i < 8; i++) {
      atb[i]! += row[i]! * rhs;
      for (let j = 0; j < 8; j++) ata[i * 8 + j]! += row[i]! * row[j]!;
    }
  };
  for (let i = 0; i < a.points.length; i++) {
    const { x, y } = a.points[i]!;
    const { x: u, y: v } = b.points[i]!;
    addRow([x, y, 1, 0, 0, 0, -u * x, -u * y], u);
    addRow([0, 0, 0, x, y, 1, -v * x, -v * y], v);
  }
  const h = solveLinear(ata, atb, 8);
  if (!h) return null;
  const hn = [h[0]!, h[1]!, h[2]!, h[3]!, h[4]!, h[5]!, h[6]!, h[7]!, 1];
  // Undo the normalisations: H = Tb^-1 * Hn * Ta.
  const ta = [a.s, 0, -a.s * a.cx, 0, a.s, -a.s * a.cy, 0, 0, 1];
  const tbInv = [1 / b.s, 0, b.cx, 0, 1 / b.s, b.cy, 0, 0, 1];
  const out = multiply(tbInv, multiply(hn, ta));
  const scale = out[8]!;
  if (Math.abs(scale) < 1e-12) return null;
  return Float64Array.from(out, (value) => value / scale);
}

function multiply(p: readonly number[], q: readonly number[]): number[] {
  const out = new Array<number>(9).fill(0);
  for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) for (let k = 0; k < 3; k++) out[r * 3 + c]! += p[r * 3 + k]! * q[k * 3 + c]!;
  return out;
}

export function applyHomography(h: ArrayLike<number>, p: Point): Point {
  const w = h[6]! * p.x + h[7]! * p.y + h[8]!;
  return { x: (h[0]! * p.x + h[1]! * p.y + h[2]!) / w, y: (h[3]! * p.x + h[4]! * p.y + h[5]!) / w };
}

/** Inverse of a 3x3 homography (adjugate / determinant); null when singular. */
export function invertHomography(h: ArrayLike<number>): Homography | null {
  const [a, b, c, d, e, f, g, k, l] = Array.from(h);
  const det = a! * (e! * l! - f! * k!) - b! * (d! * l! - f! * g!) + c! * (d! * k! - e! * g!);
  if (Math.abs(det) < 1e-15) return null;
  const inv = [
    e! * l! - f! * k!, c! * k! - b! * l!, b! * f! - c! * e!,
    f! * g! - d! * l!, a! * l! - c! * g!, c! * d! - a! * f!,
    d! * k! - e! * g!, b! * g! - a! * k!, a! * e! - b! * d!,
  ].map((value) => value / det);
  return Float64Array.from(inv, (value) => value / inv[8]!);
}

/** Root-mean-square distance of the points from their centroid: the face's size in the landmarks' own terms. */
export function spread(points: readonly Point[]): number {
  const { cx, cy } = normalise(points);
  let sum = 0;
  for (const p of points) sum += (p.x - cx) ** 2 + (p.y - cy) ** 2;
  return Math.sqrt(sum / points.length);
}

/**
 * How badly one homography explains the motion from `from` to `to`: RMS transfer error in `to`, divided by the
 * spread of `to`. 0 for a perfectly flat object; Infinity when the points are degenerate.
 */
export function planarResidual(from: readonly Point[], to: readonly Point[]): number {
  const h = fitHomography(from, to);
  if (!h) return Number.POSITIVE_INFINITY;
  let sum = 0;
  for (let i = 0; i < from.length; i++) {
    const p = applyHomography(h, from[i]!);
    sum += (p.x - to[i]!.x) ** 2 + (p.y - to[i]!.y) ** 2;
  }
  const size = spread(to);
  return size > 0 ? Math.sqrt(sum / from.length) / size : Number.POSITIVE_INFINITY;
}
