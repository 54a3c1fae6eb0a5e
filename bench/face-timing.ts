/**
 * Where the time of tiny320 + 68 landmarks + 128-d descriptor goes, all in one process (the machine is
 * shared: only compare numbers from the same run). Prints JSON:
 *  - warmUp: the full face-api pipeline on the first calls of a fresh process (kernel set-up, XNNPACK
 *    operator caches and weight uploads happen on first use of each layer shape),
 *  - warm medians per stage over LFW images: RGB -> tensor, detection, landmarks, descriptor, and the
 *    whole facegate path (detect + landmarks + extractFace 150 + descriptor),
 *  - shapeChange: does a new input size (640x480 after 250x250) pay the warm-up again?
 * Each number is reported twice: wall ms and CPU ms of this process (process.cpuUsage). The wasm backend runs
 * on one thread, so CPU ms is the compute itself, while wall ms also counts waiting for a core on a busy box.
 * Usage: node --import tsx bench/face-timing.ts [images=30]
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { initBackend } from '../src/model/backend.js';
import { tf } from '../src/model/tf.js';
import { loadFaceApi } from '../src/model/faceapi.js';
import { createFaceDetector, extractFace } from '../src/face/detect/faces.js';
import { cropResize, readImage, type RgbImage } from '../src/image/image.js';
import { lfwDir } from '../test/helpers/datasets.js';

const count = Number(process.argv[2] ?? 30);
const t0 = performance.now();
const backend = await initBackend('auto');
const tBackend = performance.now() - t0;
const api = await loadFaceApi(['tiny', 'landmarks', 'recognition']);
const tLoad = performance.now() - t0 - tBackend;
const tinyOptions = new api.TinyFaceDetectorOptions({ inputSize: 320, scoreThreshold: 0.5 });

const files = readdirSync(lfwDir, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort()
  .slice(0, count)
  .map((p) => join(lfwDir, p, readdirSync(join(lfwDir, p)).filter((f) => f.endsWith('.jpg')).sort()[0]!));
const images = await Promise.all(files.map((f) => readImage(f)));

const toTensor = (img: RgbImage, dtype: 'int32' | 'float32') => tf.tensor3d(img.data, [img.height, img.width, 3], dtype);
/** Runs fn; returns its result and [wall ms, CPU ms]. */
const time = async <T>(fn: () => Promise<T> | T): Promise<[T, Ms]> => {
  const s = performance.now();
  const c = process.cpuUsage();
  const r = await fn();
  const cpu = process.cpuUsage(c);
  return [r, { wall: performance.now() - s, cpu: (cpu.user + cpu.system) / 1000 }];
};
type Ms = { wall: number; cpu: number };
const median = (xs: number[]) => +[...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!.toFixed(1);
const medians = (xs: Ms[]) => ({ wall: median(xs.map((x) => x.wall)), cpu: median(xs.map((x) => x.cpu)) });
const round = (x: Ms) => ({ wall: +x.wall.toFixed(1), cpu: +x.cpu.toFixed(1) });

async function fullFaceApi(img: RgbImage) {
  const t = toTensor(img, 'int32');
  try {
    return await api.detectSingleFace(t as never, tinyOptions).withFaceLandmarks().withFaceDescriptor();
  } finally {
    t.dispose();
  }
}

// 1. Cold start: the same image, again and again, in a fresh process.
const warmUp: Ms[] = [];
for (let i = 0; i < 8; i++) warmUp.push(round((await time(() => fullFaceApi(images[0]!)))[1]));

// 2. Warm, per stage, over different images.
const stages: Record<string, Ms[]> = { tensorInt32: [], tensorFloat32: [], detect: [], landmarks: [], descriptor: [], faceApiFull: [], facegateFull: [] };
const detector = await createFaceDetector({ detector: 'tiny', inputSize: 320, minConfidence: 0.5, padding: 0, fixedCrop: { x: 0, y: 0, size: 1 } });
const tensorsBefore = tf.memory().numTensors;
for (const img of images) {
  const [ti, tInt] = await time(() => toTensor(img, 'int32'));
  const [tfl, tFloat] = await time(() => toTensor(img, 'float32'));
  tfl.dispose();
  const [dets, tDet] = await time(() => api.detectAllFaces(ti as never, tinyOptions).run());
  const box = dets[0]?.box;
  if (box) {
    const face = tf.tidy(() => tf.image.resizeBilinear(ti.slice([Math.max(0, Math.floor(box.y)), Math.max(0, Math.floor(box.x)), 0], [Math.floor(Math.min(box.height, img.height - box.y)), Math.floor(Math.min(box.width, img.width - box.x)), 3]), [112, 112]));
    const [, tLm] = await time(() => api.nets.faceLandmark68Net.detectLandmarks(face as never));
    face.dispose();
    stages.landmarks!.push(tLm);
  }
  ti.dispose();
  const crop = cropResize(img, { x: 50, y: 50, width: 150, height: 150 }, 150);
  const ct = toTensor(crop, 'int32');
  const [, tDesc] = await time(() => api.nets.faceRecognitionNet.computeFaceDescriptor(ct as never));
  ct.dispose();
  const [, tFull] = await time(() => fullFaceApi(img));
  const [, tOurs] = await time(async () => {
    const f = (await detector.detect(img))[0];
    if (!f) return;
    const c = toTensor(extractFace(img, f, 150), 'int32');
    await api.nets.faceRecognitionNet.computeFaceDescriptor(c as never);
    c.dispose();
  });
  stages.tensorInt32!.push(tInt);
  stages.tensorFloat32!.push(tFloat);
  stages.detect!.push(tDet);
  stages.descriptor!.push(tDesc);
  stages.faceApiFull!.push(tFull);
  stages.facegateFull!.push(tOurs);
}

// 3. A new input shape after warm-up.
const vga: RgbImage = cropResize(images[1]!, { x: -195, y: -115, width: 640, height: 480 }, { width: 640, height: 480 });
const shapeChange: Ms[] = [];
for (let i = 0; i < 4; i++) shapeChange.push(round((await time(() => fullFaceApi(vga)))[1]));

console.log(
  JSON.stringify(
    {
      backend: backend.name,
      reason: backend.reason,
      startupMs: { initBackend: +tBackend.toFixed(0), loadNets: +tLoad.toFixed(0) },
      warmUpSameImageMs: warmUp,
      warmMedianMs: Object.fromEntries(Object.entries(stages).map(([k, v]) => [k, medians(v)])),
      images: images.length,
      shapeChange640x480Ms: shapeChange,
      numTensors: { beforeStages: tensorsBefore, after: tf.memory().numTensors },
    },
    null,
    2,
  ),
);
