import type { Settings } from '../../config/index.js';
import type { Logger } from '../../log.js';
import { tf } from '../../model/tf.js';
import type { FaceBox } from '../../core/types.js';
import { squareFromBox, squareFromLandmarks, squareToAffine, type Point } from '../align/align.js';
import { loadFaceApi, type FaceApi } from '../../model/faceapi.js';
import { cropResize, padImage, warpAffine, type RgbImage } from '../../image/image.js';

export interface DetectedFace {
  /** In original image pixels, clipped to the image. */
  box: FaceBox;
  /** 68 points (iBUG order) in original image pixels, or null (fixed crop, or landmarks switched off). */
  landmarks: Point[] | null;
}

export interface FaceDetector {
  readonly name: string;
  /** All faces found, largest first; [] when none. */
  detect(img: RgbImage): Promise<DetectedFace[]>;
}

export type VisionSettings = Settings['vision'];

/** Pictures larger than this (longest side, px) are shrunk before detection; results are in original px. */
export const MAX_DETECTION_SIDE = 1600;

export interface DetectorOptions {
  /** Run the 68-landmark net on each face (needed for aligned crops and face-api descriptors). Default true. */
  landmarks?: boolean;
  log?: Logger;
}

/**
 * Builds the detector named in settings. tiny/ssd need initBackend() to have run (they load face-api nets).
 */
export async function createFaceDetector(settings: VisionSettings, options: DetectorOptions = {}): Promise<FaceDetector> {
  const withLandmarks = options.landmarks ?? true;
  if (settings.detector === 'fixed') return new FixedCropDetector(settings.fixedCrop);
  const nets: Array<'tiny' | 'ssd' | 'landmarks'> = [settings.detector === 'ssd' ? 'ssd' : 'tiny'];
  if (withLandmarks) nets.push('landmarks');
  const api = await loadFaceApi(nets);
  const detector = new FaceApiDetector(api, settings, withLandmarks);
  options.log?.info({ detector: detector.name, padding: settings.padding, landmarks: withLandmarks }, 'face detector ready');
  return detector;
}

/**
 * Runs every loaded face-api net a few times on a grey picture of the camera's size, so that the first real
 * attempt does not pay the first-call cost (measured: ~780, ~440, ~160 ms CPU for the first three
 * tiny320+landmarks+descriptor passes against ~90 ms afterwards: wasm kernels, XNNPACK operator set-up and
 * weight packing, JIT). Harmless for the fixed detector.
 */
export async function warmUpFaceDetector(detector: FaceDetector, width: number, height: number, runs = 3): Promise<void> {
  const grey: RgbImage = { data: new Uint8Array(width * height * 3).fill(128), width, height };
  for (let i = 0; i < runs; i++) await detector.detect(grey);
  if (!(detector instanceof FaceApiDetector)) return;
  const { nets } = await loadFaceApi([]);
  for (const [net, size] of [
    [nets.faceLandmark68Net, 112],
    [nets.faceRecognitionNet, 150],
  ] as const) {
    if (!net.isLoaded) continue;
    const face = tf.fill([size, size, 3], 128, 'float32');
    try {
      for (let i = 0; i < runs; i++) {
        // face-api's nets accept our tensors (same engine); its typings carry their own tf types.
        const out = await net.forward(face as never);
        out.dispose();
      }
    } finally {
      face.dispose();
    }
  }
}

/** The largest face, or null. */
export async function findFace(img: RgbImage, detector: FaceDetector): Promise<DetectedFace | null> {
  const faces = await detector.detect(img);
  return faces[0] ?? null;
}

/**
 * The face as a size x size RGB crop: a square around the face (face-api's descriptor square when landmarks
 * exist, else the detector box made square), enlarged by `margin` (fraction of the side added on each side,
 * default 0), rotated so the eyes are level when `align` is set and landmarks exist (default false: face-api's
 * own crop is unrotated). Parts outside the image are black.
 */
export function extractFace(
  img: RgbImage,
  face: DetectedFace,
  size: number,
  opts: { margin?: number; align?: boolean } = {},
): RgbImage {
  const margin = opts.margin ?? 0;
  const square =
    face.landmarks && face.landmarks.length === 68
      ? squareFromLandmarks(face.landmarks, margin, opts.align ?? false)
      : squareFromBox(face.box, margin);
  return warpAffine(img, size, size, squareToAffine(square, size));
}

class FaceApiDetector implements FaceDetector {
  readonly name: string;
  private readonly options: InstanceType<FaceApi['TinyFaceDetectorOptions']> | InstanceType<FaceApi['SsdMobilenetv1Options']>;

  constructor(
    private readonly api: FaceApi,
    private readonly settings: VisionSettings,
    private readonly withLandmarks: boolean,
  ) {
    const minConfidence = settings.minConfidence;
    if (settings.detector === 'ssd') {
      this.options = new api.SsdMobilenetv1Options({ minConfidence });
      this.name = 'ssd';
    } else {
      this.options = new api.TinyFaceDetectorOptions({ inputSize: settings.inputSize, scoreThreshold: minConfidence });
      this.name = `tiny${settings.inputSize}`;
    }
    if (settings.padding > 0) this.name += `+pad${settings.padding}`;
  }

  async detect(img: RgbImage): Promise<DetectedFace[]> {
    // A 12 MP phone photo would be a 145 MB int32 tensor, though the nets look at 320 px: shrink big
    // pictures first (box average) and scale the results back.
    const shrink = Math.max(img.width, img.height) > MAX_DETECTION_SIDE ? Math.max(img.width, img.height) / MAX_DETECTION_SIDE : 1;
    const small =
      shrink > 1
        ? cropResize(img, { x: 0, y: 0, width: img.width, height: img.height }, { width: Math.round(img.width / shrink), height: Math.round(img.height / shrink) })
        : img;
    const sx = img.width / small.width;
    const sy = img.height / small.height;
    // Tight crops (the face fills the picture) are often missed; a black border gives the detector context.
    const pad = Math.round(this.settings.padding / shrink);
    const input = pad > 0 ? padImage(small, pad) : small;
    const toOriginal = (p: { x: number; y: number }) => ({ x: (p.x - pad) * sx, y: (p.y - pad) * sy });
    const tensor = tf.tensor3d(input.data, [input.height, input.width, 3], 'int32');
    try {
      // face-api's typings carry their own copy of the tf types; the engine is the same one.
      const source = tensor as unknown as Parameters<FaceApi['detectAllFaces']>[0];
      const found = this.withLandmarks
        ? (await this.api.detectAllFaces(source, this.options).withFaceLandmarks()).map((f) => ({
            box: f.detection.box,
            score: f.detection.score,
            landmarks: f.landmarks.positions.map(toOriginal),
          }))
        : (await this.api.detectAllFaces(source, this.options)).map((f) => ({ box: f.box, score: f.score, landmarks: null }));
      return found
        .map((f) => ({ box: toFaceBox(toOriginal(f.box), toOriginal({ x: f.box.right, y: f.box.bottom }), f.score, img), landmarks: f.landmarks }))
        .filter((f) => f.box.width > 0 && f.box.height > 0)
        .sort((a, b) => area(b.box) - area(a.box));
    } finally {
      tensor.dispose();
    }
  }
}

/** The seed tutorial's crop: a fixed square of the frame, clamped into the image. Always "finds" a face. */
class FixedCropDetector implements FaceDetector {
  readonly name = 'fixed';

  constructor(private readonly crop: VisionSettings['fixedCrop']) {}

  async detect(img: RgbImage): Promise<DetectedFace[]> {
    const width = Math.min(this.crop.size, img.width);
    const height = Math.min(this.crop.size, img.height);
    const x = Math.max(0, Math.min(this.crop.x, img.width - width));
    const y = Math.max(0, Math.min(this.crop.y, img.height - height));
    return [{ box: { x, y, width, height, score: 1 }, landmarks: null }];
  }
}

/** The box between two corners, clipped to the image. */
function toFaceBox(topLeft: { x: number; y: number }, bottomRight: { x: number; y: number }, score: number, img: RgbImage): FaceBox {
  const left = Math.max(0, topLeft.x);
  const top = Math.max(0, topLeft.y);
  const right = Math.min(img.width, bottomRight.x);
  const bottom = Math.min(img.height, bottomRight.y);
  return { x: left, y: top, width: Math.max(0, right - left), height: Math.max(0, bottom - top), score };
}

function area(b: FaceBox): number {
  return b.width * b.height;
}
