import assert from 'node:assert/strict';
import { test } from 'node:test';
import { alignToTemplate, fitSimilarity, invertSimilarity } from '../../src/face/align/similarity.js';

const apply = (m: number[], p: { x: number; y: number }) => ({ x: m[0]! * p.x + m[1]! * p.y + m[2]!, y: m[3]! * p.x + m[4]! * p.y + m[5]! });
const close = (a: { x: number; y: number }, b: { x: number; y: number }, tol = 1e-9) => Math.hypot(a.x - b.x, a.y - b.y) < tol;

test('fitSimilarity recovers a rotation, scale and shift exactly from four points', () => {
  const angle = 0.3, scale = 1.7;
  const truth = [scale * Math.cos(angle), -scale * Math.sin(angle), 12, scale * Math.sin(angle), scale * Math.cos(angle), -7];
  const from = [{ x: 10, y: 20 }, { x: 50, y: 22 }, { x: 31, y: 45 }, { x: 30, y: 70 }];
  const to = from.map((p) => apply(truth, p));
  const m = fitSimilarity(from, to);
  m.forEach((v, i) => assert.ok(Math.abs(v - truth[i]!) < 1e-9, `coefficient ${i}: ${v} vs ${truth[i]}`));
  const inverse = invertSimilarity(m);
  for (const p of from) assert.ok(close(apply(inverse, apply(m, p)), p));
});

test('fitSimilarity is the least-squares fit when the points do not match exactly', () => {
  // A square and a slightly squashed square: the fit keeps the centre and the mean scale.
  const from = [{ x: -1, y: -1 }, { x: 1, y: -1 }, { x: 1, y: 1 }, { x: -1, y: 1 }];
  const to = [{ x: -1, y: -0.8 }, { x: 1, y: -0.8 }, { x: 1, y: 0.8 }, { x: -1, y: 0.8 }];
  const m = fitSimilarity(from, to);
  assert.ok(Math.abs(m[0]! - 0.9) < 1e-12 && Math.abs(m[3]!) < 1e-12 && Math.abs(m[2]!) < 1e-12 && Math.abs(m[5]!) < 1e-12);
});

test('alignToTemplate maps crop pixels to the source so the keypoints land on the template', () => {
  const template = { leftEye: { x: 0.3, y: 0.3 }, rightEye: { x: 0.7, y: 0.3 }, nose: { x: 0.5, y: 0.5 }, mouth: { x: 0.5, y: 0.75 } };
  const size = 100;
  // The same face, twice as large, rotated by 90 degrees and shifted in the source picture.
  const place = (p: { x: number; y: number }) => ({ x: 400 - 2 * p.y * size, y: 50 + 2 * p.x * size });
  const keypoints = { leftEye: place(template.leftEye), rightEye: place(template.rightEye), nose: place(template.nose), mouth: place(template.mouth) };
  const cropToSource = alignToTemplate(keypoints, template, size);
  for (const name of ['leftEye', 'rightEye', 'nose', 'mouth'] as const) {
    assert.ok(close(apply(cropToSource, { x: template[name].x * size, y: template[name].y * size }), keypoints[name], 1e-6), name);
  }
  assert.throws(() => fitSimilarity([{ x: 1, y: 1 }, { x: 1, y: 1 }], [{ x: 0, y: 0 }, { x: 1, y: 0 }]), /coincide/);
});
