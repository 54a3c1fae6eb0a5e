import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyHomography, fitHomography, invertHomography, MIN_POINTS_FOR_RESIDUAL, planarResidual, type Point } from '../../../src/face/liveness/homography.js';
import { planarFit } from '../../../src/face/liveness/planar.js';
import { eyeAspectRatio, eyeMouthMotion } from '../../../src/face/liveness/motion.js';
import { planeToFrame } from '../../../src/evaluation/pad/render.js';
import { seededRandom } from '../../../src/random.js';

/** A rough 3-D face: 68 points in mm, the nose ~25 mm in front of the eyes, the jaw ~20 mm behind. */
function face3d(): Array<{ x: number; y: number; z: number }> {
  const pts: Array<{ x: number; y: number; z: number }> = [];
  for (let i = 0; i < 17; i++) {
    const a = Math.PI * (i / 16);
    pts.push({ x: -70 * Math.cos(a), y: 10 + 55 * Math.sin(a), z: -20 * Math.sin(a) - 10 }); // jaw 0-16
  }
  for (let i = 0; i < 10; i++) pts.push({ x: -55 + i * 12, y: -35, z: 5 }); // brows 17-26
  for (let i = 0; i < 9; i++) pts.push({ x: i < 4 ? 0 : -16 + (i - 4) * 8, y: i < 4 ? -20 + i * 10 : 18, z: i < 4 ? 8 + i * 6 : 15 }); // nose 27-35
  const eye = (cx: number) => [[-14, 0], [-7, -5], [7, -5], [14, 0], [7, 5], [-7, 5]].map(([dx, dy]) => ({ x: cx + dx!, y: -15 + dy!, z: 0 }));
  pts.push(...eye(-32), ...eye(32)); // eyes 36-47
  for (let i = 0; i < 12; i++) {
    const a = (2 * Math.PI * i) / 12;
    pts.push({ x: 25 * Math.cos(a), y: 40 + 10 * Math.sin(a), z: 5 }); // outer lips 48-59
  }
  for (let i = 0; i < 8; i++) {
    const a = (2 * Math.PI * i) / 8;
    pts.push({ x: 18 * Math.cos(a), y: 40 + 3 * Math.sin(a), z: 5 }); // inner lips 60-67
  }
  return pts;
}

/** Pinhole view of 3-D points after a yaw (radians) about the vertical axis, 600 mm away, f = 800 px. */
function view(points: Array<{ x: number; y: number; z: number }>, yaw: number, noise = 0, random = seededRandom(1)): Point[] {
  return points.map((p) => {
    const x = p.x * Math.cos(yaw) + p.z * Math.sin(yaw);
    const z = 600 - (-p.x * Math.sin(yaw) + p.z * Math.cos(yaw));
    return { x: 320 + (800 * x) / z + noise * (random() - 0.5), y: 240 + (800 * p.y) / z + noise * (random() - 0.5) };
  });
}

test('a homography fitted to the points of a plane maps them exactly and inverts', () => {
  const h = planeToFrame({ width: 200, height: 240 }, { cx: 210, cy: 150, scale: 1.3, roll: 0.1, yaw: 0.3, pitch: -0.2 });
  const from: Point[] = [];
  for (let i = 0; i < 30; i++) from.push({ x: (i * 37) % 200, y: (i * 53) % 240 });
  const to = from.map((p) => applyHomography(h, p));
  const fitted = fitHomography(from, to)!;
  for (const p of from) {
    const a = applyHomography(fitted, p);
    const b = applyHomography(h, p);
    assert.ok(Math.hypot(a.x - b.x, a.y - b.y) < 1e-6);
  }
  assert.ok(planarResidual(from, to) < 1e-9);
  const back = applyHomography(invertHomography(fitted)!, to[7]!);
  assert.ok(Math.hypot(back.x - from[7]!.x, back.y - from[7]!.y) < 1e-6);
});

test('collinear points have no homography; fewer than 4 are refused', () => {
  const line = [0, 1, 2, 3, 4].map((i) => ({ x: i, y: 2 * i }));
  assert.equal(fitHomography(line, line), null);
  assert.equal(planarResidual(line, line), Number.POSITIVE_INFINITY);
  assert.throws(() => fitHomography(line.slice(0, 3), line.slice(0, 3)), /at least 4/);
});

test('a turning 3-D face leaves a planar residual that a flat picture of it does not', () => {
  const head = face3d();
  // Live: the head itself turns by 6 degrees.
  const live = planarResidual(view(head, 0), view(head, 0.1));
  // Photo: the same face flattened onto a plane (z = 0), turned the same way.
  const flat = head.map((p) => ({ ...p, z: 0 }));
  const photo = planarResidual(view(flat, 0), view(flat, 0.1));
  assert.ok(photo < 1e-6, `flat ${photo}`);
  assert.ok(live > 0.01, `live ${live}`);
  // Landmark jitter of 1 px on a ~150 px face stays under the default threshold (0.03) for the flat picture.
  const noisy = planarResidual(view(flat, 0, 1, seededRandom(2)), view(flat, 0.1, 1, seededRandom(3)));
  assert.ok(noisy < 0.03, `flat with jitter ${noisy}`);
});

test('planarFit takes the median over the burst, so one wild frame does not make a photo look alive', () => {
  const flat = face3d().map((p) => ({ ...p, z: 0 }));
  const frames = [view(flat, 0), view(flat, 0.05), view(flat, 0.1), view(flat, 0.15)];
  const wild = view(flat, 0.2).map((p, i) => (i === 30 ? { x: p.x + 60, y: p.y - 60 } : p));
  const result = planarFit([...frames, wild]);
  assert.equal(result.perFrame.length, 4);
  assert.ok(result.perFrame[3]! > 0.03, 'the wild frame alone would pass');
  assert.ok(result.residual < 1e-6, `median ${result.residual}`);
  assert.throws(() => planarFit([frames[0]!.slice(0, MIN_POINTS_FOR_RESIDUAL - 1), frames[1]!.slice(0, MIN_POINTS_FOR_RESIDUAL - 1)]), /at least 5 landmarks/);
});

test('a blink shows as eye motion once the plane motion is undone; tilting a photo does not', () => {
  const head = face3d();
  const flat = head.map((p) => ({ ...p, z: 0 }));
  const tilted = [view(flat, 0), view(flat, 0.25)];
  const photo = eyeMouthMotion(tilted, planarFit(tilted).homographies)!;
  assert.ok(photo.eyes < 0.005 && photo.mouth < 0.005, JSON.stringify(photo));
  const closed = head.map((p, i) => (i >= 36 && i < 48 ? { ...p, y: -15 + (p.y + 15) * 0.2 } : p));
  const blink = [view(head, 0), view(closed, 0)];
  const motion = eyeMouthMotion(blink, planarFit(blink).homographies)!;
  const open = eyeAspectRatio(view(head, 0).slice(36, 42));
  assert.ok(motion.eyes > 0.5 * open, `eyes ${motion.eyes} of ${open}`);
  assert.equal(eyeMouthMotion([view(head, 0).slice(0, 6), view(head, 0).slice(0, 6)], [null]), null, 'needs 68 points');
});
