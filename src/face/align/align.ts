/**
 * Where to cut a face out of a picture, from its 68 landmarks (iBUG order: 36-41 left eye, 42-47 right eye,
 * 48-67 mouth) or, without them, from the detector box.
 *
 * With landmarks the square follows face-api's own `landmarks.align(null, { useDlibAlignment: true })`, which
 * is the rect `withFaceDescriptor()` feeds the 128-d recognition net: side = mean eye-to-mouth distance / 0.45,
 * placed so that the centroid of (left eye, right eye, mouth) sits at 50 % across and 43 % down. Matching it is
 * what makes our descriptors agree with face-api's (the recognition net was trained on such crops).
 */

export interface Point {
  x: number;
  y: number;
}

/** A square crop, possibly rotated by `angle` (radians, about its centre), in source pixels. */
export interface FaceSquare {
  cx: number;
  cy: number;
  side: number;
  angle: number;
}

const REL_X = 0.5;
const REL_Y = 0.43;
const REL_SCALE = 0.45;

export function centroid(points: readonly Point[]): Point {
  let x = 0;
  let y = 0;
  for (const p of points) {
    x += p.x;
    y += p.y;
  }
  return { x: x / points.length, y: y / points.length };
}

export function eyesAndMouth(landmarks: readonly Point[]): { leftEye: Point; rightEye: Point; mouth: Point } {
  if (landmarks.length !== 68) throw new RangeError(`expected 68 landmarks, got ${landmarks.length}`);
  return {
    leftEye: centroid(landmarks.slice(36, 42)),
    rightEye: centroid(landmarks.slice(42, 48)),
    mouth: centroid(landmarks.slice(48, 68)),
  };
}

/**
 * face-api's dlib-style square, optionally enlarged by `margin` (fraction of the side added on each side)
 * and rotated so that the eyes are level (`align`).
 */
export function squareFromLandmarks(landmarks: readonly Point[], margin = 0, align = false): FaceSquare {
  const { leftEye, rightEye, mouth } = eyesAndMouth(landmarks);
  const dist = (p: Point) => Math.hypot(mouth.x - p.x, mouth.y - p.y);
  const side = Math.floor((dist(leftEye) + dist(rightEye)) / 2 / REL_SCALE);
  const ref = centroid([leftEye, rightEye, mouth]);
  // face-api floors the corner; doing the same keeps our crop on the same pixel grid as its own.
  const left = Math.floor(ref.x - REL_X * side);
  const top = Math.floor(ref.y - REL_Y * side);
  const angle = align ? Math.atan2(rightEye.y - leftEye.y, rightEye.x - leftEye.x) : 0;
  return { cx: left + side / 2, cy: top + side / 2, side: Math.max(1, side * (1 + 2 * margin)), angle };
}

/** The detector box made square around its centre, enlarged by `margin` on each side. */
export function squareFromBox(box: { x: number; y: number; width: number; height: number }, margin = 0): FaceSquare {
  const side = Math.max(box.width, box.height);
  return { cx: box.x + box.width / 2, cy: box.y + box.height / 2, side: Math.max(1, side * (1 + 2 * margin)), angle: 0 };
}

/**
 * Affine map [a, b, c, d, e, f] from output pixel coordinates (0..size) to source coordinates for
 * warpAffine(): rotate by `angle` and scale side/size about the square's centre.
 */
export function squareToAffine(square: FaceSquare, size: number): number[] {
  const s = square.side / size;
  const cos = Math.cos(square.angle) * s;
  const sin = Math.sin(square.angle) * s;
  const h = size / 2;
  // source = centre + R * (u - h, v - h)
  return [cos, -sin, square.cx - cos * h + sin * h, sin, cos, square.cy - sin * h - cos * h];
}
