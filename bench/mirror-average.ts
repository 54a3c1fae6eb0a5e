/**
 * Which embedding of face-api's 128-d ResNet separates people best? On every third lfw-dev person (up to six
 * pictures each), faces found by the default's detector (tiny + 68 landmarks), each picture embedded as:
 *  - square: face-api's own 150 px square (what facegate cuts), the descriptor as it comes;
 *  - squareUnit: the same at unit length;
 *  - squareMirror: unit length of (descriptor + the mirror image's descriptor): the default's `flipAverage`;
 *  - chip / chipMirror: dlib's own face chip instead of the square (33 landmarks fitted onto dlib's mean face,
 *    150 px, padding 0.25, as dlib's face recognition example cuts it), without and with the mirror.
 * Reported per variant and distance (Euclidean, L1): 10-fold pair accuracy on balanced pairs (every genuine pair,
 * as many seeded impostor pairs), EER, and TAR at FAR 0.1 % over every impostor pair.
 * Usage: node --import tsx bench/mirror-average.ts [people=460]   (prints JSON; progress on stderr; ~5 min)
 */
import { listIdentities } from '../src/gallery/datasets.js';
import { initBackend } from '../src/model/backend.js';
import { createFaceApiTower } from '../src/model/faceapi-tower.js';
import { createFaceDetector, extractFace } from '../src/face/detect/faces.js';
import { mirrorImage, readImage, warpAffine, type RgbImage } from '../src/image/image.js';
import { fitSimilarity, invertSimilarity } from '../src/face/align/similarity.js';
import type { Point } from '../src/face/align/align.js';
import { confusionAt, crossValidatedAccuracy, equalErrorRate, thresholdForFar } from '../src/evaluation/metrics.js';
import { seededRandom } from '../src/random.js';
import { lfwDir } from '../test/helpers/datasets.js';

const maxPeople = Number(process.argv[2] ?? 460);
const PER_PERSON = 6;

/**
 * dlib's mean face (get_face_chip_details in dlib's image_transforms/interpolation.h): where iBUG landmarks 17-67
 * sit on average, in fractions of the chip. dlib fits 27-54 and 60-64 (no eyebrows, no lower lip).
 */
const MEAN_X = [0.000213256, 0.0752622, 0.18113, 0.29077, 0.393397, 0.586856, 0.689483, 0.799124, 0.904991, 0.98004, 0.490127, 0.490127, 0.490127, 0.490127, 0.36688, 0.426036, 0.490127, 0.554217, 0.613373, 0.121737, 0.187122, 0.265825, 0.334606, 0.260918, 0.182743, 0.645647, 0.714428, 0.793132, 0.858516, 0.79751, 0.719335, 0.254149, 0.340985, 0.428858, 0.490127, 0.551395, 0.639268, 0.726104, 0.642159, 0.556721, 0.490127, 0.423532, 0.338094, 0.290379, 0.428096, 0.490127, 0.552157, 0.689874, 0.553364, 0.490127, 0.42689];
const MEAN_Y = [0.106454, 0.038915, 0.0187482, 0.0344891, 0.0773906, 0.0773906, 0.0344891, 0.0187482, 0.038915, 0.106454, 0.203352, 0.307009, 0.409805, 0.515625, 0.587326, 0.609345, 0.628106, 0.609345, 0.587326, 0.216423, 0.178758, 0.179852, 0.231733, 0.245099, 0.244077, 0.231733, 0.179852, 0.178758, 0.216423, 0.244077, 0.245099, 0.780233, 0.745405, 0.727388, 0.742578, 0.727388, 0.745405, 0.780233, 0.864805, 0.902192, 0.909281, 0.902192, 0.864805, 0.784792, 0.778746, 0.785343, 0.778746, 0.784792, 0.824182, 0.831803, 0.824182];

function dlibChip(img: RgbImage, landmarks: readonly Point[], size = 150, padding = 0.25): RgbImage {
  const from: Point[] = [];
  const to: Point[] = [];
  for (let i = 27; i < 68; i++) {
    if ((i >= 55 && i <= 59) || i >= 65) continue;
    from.push(landmarks[i]!);
    to.push({ x: ((padding + MEAN_X[i - 17]!) / (1 + 2 * padding)) * size, y: ((padding + MEAN_Y[i - 17]!) / (1 + 2 * padding)) * size });
  }
  return warpAffine(img, size, size, invertSimilarity(fitSimilarity(from, to)));
}

function unit(v: Float32Array): Float32Array {
  const norm = Math.hypot(...v);
  return v.map((x) => x / norm);
}
function sum(a: Float32Array, b: Float32Array): Float32Array {
  return a.map((x, i) => x + b[i]!);
}

await initBackend('wasm');
const detector = await createFaceDetector({ detector: 'tiny', inputSize: 320, minConfidence: 0.5, padding: 0, fixedCrop: { x: 0, y: 0, size: 1 } });
const tower = await createFaceApiTower();

type Variant = 'square' | 'squareUnit' | 'squareMirror' | 'chip' | 'chipMirror';
const variants: Variant[] = ['square', 'squareUnit', 'squareMirror', 'chip', 'chipMirror'];
const rows: Array<{ person: string; v: Record<Variant, Float32Array> }> = [];
const people = listIdentities(lfwDir)
  .filter((_, i) => i % 3 === 0)
  .slice(0, maxPeople);
let noFace = 0;
for (const [i, { name: person, images }] of people.entries()) {
  for (const file of images.slice(0, PER_PERSON)) {
    const img = await readImage(file);
    const face = (await detector.detect(img))[0];
    if (!face?.landmarks) {
      noFace++;
      continue;
    }
    const square = extractFace(img, face, 150);
    const chip = dlibChip(img, face.landmarks);
    const [s, sm, c, cm] = await tower.embed([square, mirrorImage(square), chip, mirrorImage(chip)]);
    rows.push({ person, v: { square: s!, squareUnit: unit(s!), squareMirror: unit(sum(s!, sm!)), chip: c!, chipMirror: unit(sum(c!, cm!)) } });
  }
  if (i % 20 === 0) process.stderr.write(`\r${i + 1}/${people.length} people, ${rows.length} pictures`);
}
process.stderr.write('\n');

// Every genuine pair, and as many seeded impostor pairs, for the accuracy; every impostor pair for the FAR tail.
const random = seededRandom(7);
const balanced: Array<[number, number, boolean]> = [];
for (let a = 0; a < rows.length; a++) for (let b = a + 1; b < rows.length; b++) if (rows[a]!.person === rows[b]!.person) balanced.push([a, b, true]);
const genuinePairs = balanced.length;
while (balanced.length < 2 * genuinePairs) {
  const a = Math.floor(random() * rows.length);
  const b = Math.floor(random() * rows.length);
  if (rows[a]!.person !== rows[b]!.person) balanced.push([a, b, false]);
}

// Plain loops: ~800,000 impostor pairs per variant.
const distances = {
  euclidean: (x: Float32Array, y: Float32Array) => {
    let s = 0;
    for (let k = 0; k < x.length; k++) s += (x[k]! - y[k]!) ** 2;
    return Math.sqrt(s);
  },
  l1: (x: Float32Array, y: Float32Array) => {
    let s = 0;
    for (let k = 0; k < x.length; k++) s += Math.abs(x[k]! - y[k]!);
    return s;
  },
};
const result: Record<string, unknown> = { pictures: rows.length, people: people.length, noFace, genuinePairs };
for (const variant of variants) {
  for (const [name, distance] of Object.entries(distances)) {
    const score = (a: number, b: number) => -distance(rows[a]!.v[variant], rows[b]!.v[variant]);
    const labels = balanced.map((p) => p[2]);
    const scores = balanced.map(([a, b]) => score(a, b));
    const all: number[] = [];
    const allLabels: boolean[] = [];
    for (let a = 0; a < rows.length; a++) {
      for (let b = a + 1; b < rows.length; b++) {
        all.push(score(a, b));
        allLabels.push(rows[a]!.person === rows[b]!.person);
      }
    }
    const atFar = confusionAt(all, allLabels, thresholdForFar(all, allLabels, 0.001));
    result[`${variant}.${name}`] = {
      accuracy: +crossValidatedAccuracy(scores, labels).accuracy.toFixed(4),
      eer: +equalErrorRate(scores, labels).eer.toFixed(4),
      tarAtFar0001: +atFar.recall.toFixed(4),
      impostorPairs: allLabels.filter((l) => !l).length,
    };
  }
}
console.log(JSON.stringify(result, null, 2));
