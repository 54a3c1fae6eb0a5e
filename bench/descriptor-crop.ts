/**
 * Does our face crop feed face-api's 128-d recognition net the way face-api's own pipeline does, and does
 * rotating the eyes level help? On LFW-dev identities with >= 4 images (first 4 each):
 *  - distance between face-api's own withFaceDescriptor() and the descriptor of extractFace(..., 150)
 *    (align off / on, margin 0),
 *  - verification equal error rate (EER) of each variant over all genuine and impostor pairs.
 * Usage: node --import tsx bench/descriptor-crop.ts [identities=60]   (prints JSON; progress on stderr)
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { initBackend } from '../src/model/backend.js';
import { tf } from '../src/model/tf.js';
import { loadFaceApi } from '../src/model/faceapi.js';
import { createFaceDetector, extractFace } from '../src/face/detect/faces.js';
import { readImage, type RgbImage } from '../src/image/image.js';
import { lfwDir } from '../test/helpers/datasets.js';

const identities = Number(process.argv[2] ?? 60);
const perIdentity = 4;

await initBackend('auto');
const api = await loadFaceApi(['tiny', 'landmarks', 'recognition']);
const settings = { detector: 'tiny', inputSize: 320, minConfidence: 0.5, padding: 0, fixedCrop: { x: 200, y: 120, size: 250 } } as const;
const detector = await createFaceDetector(settings);

type Variant = 'faceapi' | 'crop' | 'cropAligned';
const variants: Variant[] = ['faceapi', 'crop', 'cropAligned'];
const rows: Array<{ person: string; sameFace: boolean } & Record<Variant, Float32Array>> = [];

async function descriptorOf(img: RgbImage): Promise<Float32Array> {
  const t = tf.tensor3d(img.data, [img.height, img.width, 3], 'int32');
  try {
    return (await api.nets.faceRecognitionNet.computeFaceDescriptor(t as never)) as Float32Array;
  } finally {
    t.dispose();
  }
}

const people = readdirSync(lfwDir, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort()
  .filter((p) => readdirSync(join(lfwDir, p)).filter((f) => f.endsWith('.jpg')).length >= perIdentity)
  .slice(0, identities);

let skipped = 0;
for (const [i, person] of people.entries()) {
  const files = readdirSync(join(lfwDir, person)).filter((f) => f.endsWith('.jpg')).sort().slice(0, perIdentity);
  for (const file of files) {
    const img = await readImage(join(lfwDir, person, file));
    const face = (await detector.detect(img))[0];
    const t = tf.tensor3d(img.data, [img.height, img.width, 3], 'int32');
    const own = await api
      .detectSingleFace(t as never, new api.TinyFaceDetectorOptions({ inputSize: 320, scoreThreshold: 0.5 }))
      .withFaceLandmarks()
      .withFaceDescriptor();
    t.dispose();
    if (!face || !own) {
      skipped++;
      continue;
    }
    // detectSingleFace keeps the most confident face, we keep the largest: in group photos they can differ.
    const ownBox = own.detection.box;
    const sameFace = Math.hypot(ownBox.x + ownBox.width / 2 - (face.box.x + face.box.width / 2), ownBox.y + ownBox.height / 2 - (face.box.y + face.box.height / 2)) < 20;
    rows.push({
      person,
      sameFace,
      faceapi: own.descriptor,
      crop: await descriptorOf(extractFace(img, face, 150)),
      cropAligned: await descriptorOf(extractFace(img, face, 150, { align: true })),
    });
  }
  process.stderr.write(`\r${i + 1}/${people.length}`);
}
process.stderr.write('\n');

const dist = (a: Float32Array, b: Float32Array) => Math.hypot(...a.map((v, k) => v - b[k]!));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

function eer(genuine: number[], impostor: number[]): { eer: number; threshold: number } {
  let best = { eer: 1, threshold: 0, gap: Infinity };
  for (let th = 0.2; th <= 1.0; th += 0.0025) {
    const frr = genuine.filter((d) => d > th).length / genuine.length;
    const far = impostor.filter((d) => d <= th).length / impostor.length;
    if (Math.abs(frr - far) < best.gap) best = { eer: (frr + far) / 2, threshold: th, gap: Math.abs(frr - far) };
  }
  return { eer: +best.eer.toFixed(4), threshold: +best.threshold.toFixed(3) };
}

const result: Record<string, unknown> = { images: rows.length, identities: people.length, skippedNoFace: skipped };
const same = rows.filter((r) => r.sameFace);
result.differentFaceChosen = rows.length - same.length;
for (const v of ['crop', 'cropAligned'] as const) {
  const d = same.map((r) => dist(r.faceapi, r[v])).sort((x, y) => x - y);
  const p90 = d[Math.floor(d.length * 0.9)] ?? NaN;
  result[`${v}VsFaceapiSameFace`] = { median: +median(d).toFixed(4), p90: +p90.toFixed(4), max: +Math.max(...d).toFixed(4) };
}
for (const v of variants) {
  const genuine: number[] = [];
  const impostor: number[] = [];
  for (let a = 0; a < rows.length; a++) {
    for (let b = a + 1; b < rows.length; b++) {
      (rows[a]!.person === rows[b]!.person ? genuine : impostor).push(dist(rows[a]![v], rows[b]![v]));
    }
  }
  result[`${v}Eer`] = { ...eer(genuine, impostor), genuinePairs: genuine.length, impostorPairs: impostor.length };
}
console.log(JSON.stringify(result, null, 2));
