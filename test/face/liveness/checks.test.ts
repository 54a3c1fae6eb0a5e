import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../../../src/config/index.js';
import type { RgbImage } from '../../../src/image/image.js';
import { judgeBurst, type BurstTrack } from '../../../src/face/liveness/burst.js';
import { faceRegionChange } from '../../../src/face/liveness/still.js';
import { InfraredCheck, infraredPresence, splitByIllumination } from '../../../src/face/liveness/infrared.js';
import { resolveLiveness } from '../../../src/face/liveness/mode.js';
import type { FaceDetector } from '../../../src/face/detect/faces.js';
import type { Point } from '../../../src/face/liveness/homography.js';
import { seededRandom } from '../../../src/random.js';

const liveness = loadConfig({ env: {}, overrides: {} }).getProperties().liveness;
const box = { x: 40, y: 30, width: 80, height: 100, score: 0.9 };

/** A grey frame with a face-like blob (bright oval, dark eyes and mouth) at `box`, plus noise. */
function frame(opts: { seed: number; shift?: number; noise?: number; faceLevel?: number; background?: number }): RgbImage {
  const width = 160;
  const height = 160;
  const random = seededRandom(opts.seed);
  const data = new Uint8Array(width * height * 3);
  const cx = box.x + box.width / 2 + (opts.shift ?? 0);
  const cy = box.y + box.height / 2;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const inFace = ((x - cx) / 38) ** 2 + ((y - cy) / 48) ** 2 < 1;
      const feature = inFace && ((Math.abs(y - (cy - 12)) < 4 && Math.abs(Math.abs(x - cx) - 15) < 6) || (Math.abs(y - (cy + 22)) < 3 && Math.abs(x - cx) < 14));
      let v = inFace ? (feature ? 0.3 : 1) * (opts.faceLevel ?? 200) : (opts.background ?? 90);
      v += (opts.noise ?? 2) * (random() - 0.5) * 3.4;
      data.fill(Math.max(0, Math.min(255, Math.round(v))), (y * width + x) * 3, (y * width + x) * 3 + 3);
    }
  }
  return { data, width, height };
}

/** 68 landmarks on a grid, optionally with the centre points pushed out of the plane motion. */
function landmarks(dx: number, parallax: number): Point[] {
  return Array.from({ length: 68 }, (_, i) => {
    const gx = (i % 9) - 4;
    const gy = Math.floor(i / 9) - 3.5;
    const centre = Math.abs(gx) <= 1 && Math.abs(gy) <= 1;
    return { x: 80 + gx * 9 + dx + (centre ? parallax : 0), y: 80 + gy * 12 };
  });
}

function track(frames: RgbImage[], points: Point[][]): BurstTrack {
  return { frames: frames.length, images: frames, landmarks: points };
}

test('near-identical frames are a still picture: spoof with the change in the scores', () => {
  const still = [0, 1, 2, 3, 4].map((seed) => frame({ seed }));
  assert.ok(faceRegionChange(still, box) < liveness.still.minChange, 'noise alone stays under the threshold');
  const verdict = judgeBurst({ box }, track(still, still.map(() => landmarks(0, 0))), liveness);
  assert.equal(verdict.passed, false);
  assert.match(verdict.reason!, /near-identical frames/);
  assert.ok(verdict.scores.change! < liveness.still.minChange);
});

test('a picture that moves as one plane is a print or a screen; parallax makes it live', () => {
  const moving = [0, 1, 2, 3, 4].map((seed) => frame({ seed, shift: seed * 3 }));
  assert.ok(faceRegionChange(moving, box) > liveness.still.minChange);
  const flat = judgeBurst({ box }, track(moving, [0, 1, 2, 3, 4].map((i) => landmarks(i * 3, 0))), liveness);
  assert.equal(flat.passed, false);
  assert.match(flat.reason!, /one flat plane/);
  assert.ok(flat.scores.parallax! < liveness.planar.minResidual && flat.scores.score! < 1);
  const live = judgeBurst({ box }, track(moving, [0, 1, 2, 3, 4].map((i) => landmarks(i * 3, i * 2.5))), liveness);
  assert.equal(live.passed, true, JSON.stringify(live));
  assert.ok(live.scores.parallax! >= liveness.planar.minResidual && live.scores.score! >= 1);
});

test('too few frames with the face, or a single frame, cannot show liveness', () => {
  const one = judgeBurst({ box }, track([frame({ seed: 1 })], [landmarks(0, 0)]), liveness);
  assert.equal(one.passed, false);
  assert.match(one.reason!, /single frame/);
  const few = judgeBurst({ box }, { frames: 5, images: [frame({ seed: 1 }), frame({ seed: 2, shift: 4 })], landmarks: [landmarks(0, 0), landmarks(4, 3)] }, liveness);
  assert.equal(few.passed, false);
  assert.match(few.reason!, /only 2 of 5/);
  const fivePoints = judgeBurst({ box }, track([0, 1, 2].map((s) => frame({ seed: s, shift: s * 3 })), [0, 1, 2].map((i) => landmarks(i * 3, 0).slice(0, 4))), liveness);
  assert.match(fivePoints.reason!, /needs at least 5/);
});

test('infrared: a face bright and textured in IR passes, a dark flat screen region is spoof', async () => {
  const noDetector: FaceDetector = { name: 'none', detect: async () => [] };
  const check = new InfraredCheck(liveness, noDetector);
  // Under the illuminator the whole scene is brighter than in colour; a screen stays dark (it emits no IR).
  const skin = infraredPresence(frame({ seed: 3, faceLevel: 230, background: 160 }), box);
  const screen = infraredPresence(frame({ seed: 3, faceLevel: 12, background: 160, noise: 1 }), box);
  assert.ok(skin.ratio >= liveness.infrared.minRatio && skin.texture >= liveness.infrared.minTexture, JSON.stringify(skin));
  assert.ok(screen.ratio < liveness.infrared.minRatio, JSON.stringify(screen));
  const colour = (seed: number) => frame({ seed, shift: seed });
  const irDark = (seed: number) => frame({ seed, faceLevel: 12, background: 160, noise: 1 });
  const probe = (burst: RgbImage[]) => ({ face: colour(0), frame: colour(0), box, landmarks: landmarks(0, 0), burst });
  const verdict = await check.check(probe([irDark(1), colour(2), irDark(3), colour(4)]));
  assert.equal(verdict.passed, false);
  assert.match(verdict.reason!, /dark or flat in infrared/);
  assert.equal(verdict.scores.irFrames, 2);
  // IR present: the verdict falls through to the colour frames' burst check (here the detector finds nothing).
  const irLit = (seed: number) => frame({ seed, faceLevel: 230, background: 160 });
  const lit = await check.check(probe([irLit(1), colour(2), irLit(3), colour(4)]));
  assert.ok(lit.scores.irRatio! >= liveness.infrared.minRatio);
  assert.doesNotMatch(lit.reason ?? '', /infrared/);
  const single = await check.check(probe([]));
  // The strobe's phase is read from the pictures: IR on the even frames (the press frame lit) works the same.
  const split = splitByIllumination(irDark(0), [colour(1), irDark(2), colour(3), irDark(4)]);
  assert.deepEqual([split.ir.length, split.colour.length], [3, 2]);
  const evenLit = await check.check({ face: irDark(0), frame: irDark(0), box, landmarks: landmarks(0, 0), burst: [colour(1), irDark(2), colour(3), irDark(4)] });
  assert.match(evenLit.reason!, /dark or flat in infrared/);
  assert.equal(evenLit.scores.irFrames, 3);
  assert.match(single.reason!, /single frame/);
});

test('liveness "auto" is burst on streaming cameras and off, with a loud warning, on the folder camera', () => {
  const settings = (driver: string, mode = 'auto') => {
    const all = loadConfig({ env: {}, overrides: { 'camera.driver': driver, 'liveness.mode': mode, ...(driver === 'http' ? { 'camera.url': 'http://cam/x' } : {}) } }).getProperties();
    return resolveLiveness(all);
  };
  for (const driver of ['rpicam', 'v4l2', 'http']) {
    const status = settings(driver);
    assert.equal(status.mode, 'burst', driver);
    assert.equal(status.burstFrames, liveness.burst.frames);
    assert.equal(status.warning, undefined);
  }
  const folder = settings('files');
  assert.equal(folder.mode, 'off');
  assert.equal(folder.burstFrames, 1);
  assert.match(folder.warning!, /folder camera.*cannot show a live face/);
  assert.match(settings('files', 'burst').warning!, /newest 5 images/);
  assert.match(settings('rpicam', 'off').warning!, /liveness is OFF/);
  assert.equal(settings('rpicam', 'infrared').burstFrames, 9);
  assert.throws(() => loadConfig({ env: {}, overrides: { 'liveness.mode': 'passive' } }).validate({ allowed: 'strict' }), /liveness.mode/);
});
