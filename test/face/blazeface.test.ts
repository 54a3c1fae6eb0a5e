import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { initBackend } from '../../src/model/backend.js';
import { tf } from '../../src/model/tf.js';
import { blazeFaceAnchors, blazeFaceModelPath, decodeBlazeFace, HUMAN_INSTALL_COMMAND, weightedNms } from '../../src/face/detect/blazeface.js';
import { createFaceDetector, extractFace, findFace, type VisionSettings } from '../../src/face/detect/faces.js';
import { FACEAPI_150_TEMPLATE } from '../../src/face/align/templates.js';
import { readImage, type RgbImage } from '../../src/image/image.js';
import { lfwDir, needLfw, needOrl, orlDir } from '../helpers/datasets.js';

const vision: VisionSettings = { detector: 'tiny', inputSize: 320, minConfidence: 0.5, padding: 0, fixedCrop: { x: 200, y: 120, size: 250 } };
const blaze = { model: { detector: 'blazeface' as const } };

before(async () => {
  await initBackend('auto');
});

test('@vladmandic/human absent (an optional peer): the error names the package and the command that installs it', () => {
  const absent = (id: string): string => {
    throw Object.assign(new Error(`Cannot find module '${id}'`), { code: 'MODULE_NOT_FOUND' });
  };
  assert.throws(() => blazeFaceModelPath(absent), (err: Error) => {
    assert.match(err.message, /optional package @vladmandic\/human, which is not installed/);
    assert.ok(err.message.includes('run `npm install --omit=dev --save-prod @vladmandic/human`'), err.message);
    return true;
  });
  assert.equal(HUMAN_INSTALL_COMMAND, 'npm install --omit=dev --save-prod @vladmandic/human');
  // Any other failure is not dressed up as a missing package.
  const broken = (): string => {
    throw new Error('EACCES');
  };
  assert.throws(() => blazeFaceModelPath(broken), /^Error: EACCES$/);
  // Installed (a devDependency here): the model file inside the package.
  assert.match(blazeFaceModelPath(), /@vladmandic\/human\/models\/blazeface\.json$/);
});

test('anchors: 16x16 cells with 2 and 8x8 with 6, centred in their cells', () => {
  const anchors = blazeFaceAnchors();
  assert.equal(anchors.length, 896);
  assert.deepEqual(anchors[0], { x: 0.5 / 16, y: 0.5 / 16 });
  assert.deepEqual(anchors[1], anchors[0]);
  assert.deepEqual(anchors[2], { x: 1.5 / 16, y: 0.5 / 16 });
  assert.deepEqual(anchors[512], { x: 0.5 / 8, y: 0.5 / 8 });
  assert.deepEqual(anchors[895], { x: 7.5 / 8, y: 7.5 / 8 });
});

test('decoding: offsets are in input pixels around the anchor; low scores are dropped', () => {
  const anchors = [{ x: 0.5, y: 0.5 }, { x: 0.25, y: 0.25 }];
  const regressors = new Float32Array(32);
  regressors.set([12.8, -25.6, 64, 128, -32, -32, 32, -32, 0, 0, 0, 32, -64, 0, 64, 0], 0);
  const faces = decodeBlazeFace(regressors, Float32Array.from([3, -3]), 128, anchors, 0.5);
  assert.equal(faces.length, 1, 'the second anchor scores sigmoid(-3) < 0.5');
  const f = faces[0]!;
  assert.ok(Math.abs(f.score - 1 / (1 + Math.exp(-3))) < 1e-6);
  // centre (0.5 + 0.1, 0.5 - 0.2), size (0.5, 1)
  assert.ok(Math.abs(f.x1 - 0.35) < 1e-6 && Math.abs(f.x2 - 0.85) < 1e-6);
  assert.ok(Math.abs(f.y1 - -0.2) < 1e-6 && Math.abs(f.y2 - 0.8) < 1e-6);
  assert.deepEqual(f.points.slice(0, 4), [0.25, 0.25, 0.75, 0.25]);
});

test('weighted NMS: overlapping boxes merge into their score-weighted mean, separate ones stay', () => {
  const box = (x: number, score: number) => ({ score, x1: x, y1: 0, x2: x + 1, y2: 1, points: [x, 0] });
  const kept = weightedNms([box(0, 0.9), box(0.1, 0.3), box(5, 0.8)]);
  assert.equal(kept.length, 2);
  assert.equal(kept[0]!.score, 0.9);
  assert.ok(Math.abs(kept[0]!.x1 - (0 * 0.9 + 0.1 * 0.3) / 1.2) < 1e-9);
  assert.equal(kept[1]!.x1, 5);
});

test('BlazeFace finds the centred LFW face with eyes, nose and mouth in place', { skip: needLfw() }, async () => {
  const detector = await createFaceDetector(vision, blaze);
  assert.match(detector.name, /^blazeface256/);
  for (const file of ['Abdullah/Abdullah_0001.jpg', 'Adam_Sandler/Adam_Sandler_0001.jpg', 'Ai_Sugiyama/Ai_Sugiyama_0001.jpg']) {
    const img = await readImage(join(lfwDir, file));
    const face = await findFace(img, detector);
    assert.ok(face?.keypoints, `no face in ${file}`);
    const { leftEye, rightEye, nose, mouth } = face.keypoints;
    const cx = face.box.x + face.box.width / 2;
    const cy = face.box.y + face.box.height / 2;
    assert.ok(Math.hypot(cx - 125, cy - 125) < 40, `${file}: off-centre face at ${cx},${cy}`);
    assert.ok(leftEye.x < nose.x && nose.x < rightEye.x, `${file}: eyes either side of the nose`);
    assert.ok(Math.max(leftEye.y, rightEye.y) < nose.y && nose.y < mouth.y, `${file}: eyes above nose above mouth`);
  }
});

test('keypoint alignment puts the eyes where the template says', { skip: needLfw() }, async () => {
  const detector = await createFaceDetector(vision, blaze);
  const img = await readImage(join(lfwDir, 'Adam_Sandler/Adam_Sandler_0001.jpg'));
  const face = (await findFace(img, detector))!;
  const crop = extractFace(img, face, 150, { margin: 0, align: false, template: FACEAPI_150_TEMPLATE });
  assert.equal(crop.width, 150);
  // Running the detector on the crop finds the eyes near the template's positions (a few px of detector noise).
  const again = (await findFace(crop, detector))!;
  for (const eye of ['leftEye', 'rightEye'] as const) {
    const want = FACEAPI_150_TEMPLATE[eye];
    const got = again.keypoints![eye];
    assert.ok(Math.hypot(got.x - want.x * 150, got.y - want.y * 150) < 8, `${eye} at ${got.x},${got.y}, template ${want.x * 150},${want.y * 150}`);
  }
});

test('tight ORL crops are found without any padding setting (BlazeFace and tiny both retry in a border)', { skip: needOrl() }, async () => {
  // Before: tiny320 without FACEGATE_DETECTOR_PADDING missed about half of ORL (103 of 200 here).
  for (const options of [blaze, { landmarks: false }]) {
    const detector = await createFaceDetector(vision, options);
    let found = 0;
    for (let s = 1; s <= 10; s++) {
      const img = await readImage(join(orlDir, `s${s}`, '1.pgm'));
      const face = await findFace(img, detector);
      if (face && face.box.width > 30) found++;
    }
    assert.ok(found >= 9, `${detector.name}: only ${found}/10 ORL faces found`);
  }
});

test('no face in a blank picture, and no tensor left behind', async () => {
  const detector = await createFaceDetector(vision, blaze);
  const grey: RgbImage = { data: new Uint8Array(320 * 240 * 3).fill(128), width: 320, height: 240 };
  await detector.detect(grey);
  const before = tf.memory().numTensors;
  assert.deepEqual(await detector.detect(grey), []);
  assert.equal(tf.memory().numTensors, before);
});
