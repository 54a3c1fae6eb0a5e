import { tf } from '../../model/tf.js';
import { loadFaceApi, type FaceApi } from '../../model/faceapi.js';
import { padImage, shrinkImage, type RgbImage } from '../../image/image.js';
import { RETRY_PADDING, toFaceBox, type DetectedFace, type DetectorOptions, type FaceDetector, type VisionSettings } from './detector.js';

/** face-api's detectors: "tiny" (TinyFaceDetector) and "ssd" (SSD MobileNet v1), with the 68-landmark net. */

/** Pictures larger than this (longest side, px) are shrunk before detection; results are in original px. */
export const MAX_DETECTION_SIDE = 1600;

/**
 * A picture with a black border (the second look when no face was found, or vision.padding) is at most this
 * large, border included, shrunk first by libvips. Why: for a 1280x720 frame the border of RETRY_PADDING makes
 * 2560x2000, which face-api holds several times over (int32 input, its float32 cast, the zeros that pad it to a
 * square, the square: 284 MB of tensors at once), though the tiny detector looks at 320 px of it; and
 * tfjs-wasm's heap grows to its largest moment and never shrinks. One empty frame (the daemon's warm-up, any
 * press with nobody there) set the daemon's memory: wasm heap 273 MB after it, 70 MB with this cap (1280: 101);
 * daemon RSS 453 -> 280 MB (bench/footprint.ts). The detector's 320 px input sees the face at the same scale
 * either way; pictures up to 960 px with their border (LFW's 250 px, ORL's 92 px) are unchanged.
 */
export const MAX_RETRY_SIDE = 960;

export async function createFaceApiDetector(kind: 'tiny' | 'ssd', settings: VisionSettings, options: DetectorOptions = {}): Promise<FaceDetector> {
  const withLandmarks = options.landmarks ?? true;
  const api = await loadFaceApi(withLandmarks ? [kind, 'landmarks'] : [kind]);
  const detector = new FaceApiDetector(api, kind, settings, withLandmarks);
  options.log?.info({ detector: detector.name, padding: settings.padding, landmarks: withLandmarks }, 'face detector ready');
  return detector;
}

class FaceApiDetector implements FaceDetector {
  readonly name: string;
  private readonly options: InstanceType<FaceApi['TinyFaceDetectorOptions']> | InstanceType<FaceApi['SsdMobilenetv1Options']>;

  constructor(
    private readonly api: FaceApi,
    kind: 'tiny' | 'ssd',
    private readonly settings: VisionSettings,
    private readonly withLandmarks: boolean,
  ) {
    const minConfidence = settings.minConfidence;
    if (kind === 'ssd') {
      this.options = new api.SsdMobilenetv1Options({ minConfidence });
      this.name = 'ssd';
    } else {
      this.options = new api.TinyFaceDetectorOptions({ inputSize: settings.inputSize, scoreThreshold: minConfidence });
      this.name = `tiny${settings.inputSize}`;
    }
    if (settings.padding > 0) this.name += `+pad${settings.padding}`;
    else this.name += '+retry';
  }

  /** With no padding set, a picture without a face gets one more try inside a black border (RETRY_PADDING). */
  async detect(img: RgbImage): Promise<DetectedFace[]> {
    const found = await this.detectWithPadding(img, this.settings.padding);
    if (found.length > 0 || this.settings.padding > 0) return found;
    return this.detectWithPadding(img, Math.round(Math.max(img.width, img.height) * RETRY_PADDING));
  }

  private async detectWithPadding(img: RgbImage, padding: number): Promise<DetectedFace[]> {
    // A 12 MP phone photo would be a 145 MB int32 tensor, though the nets look at 320 px: shrink big
    // pictures first (inside libvips, off the main thread, not a JS loop over every pixel) and scale back.
    const side = Math.max(img.width, img.height);
    const maxSide = padding > 0 ? Math.min(MAX_DETECTION_SIDE, Math.floor((MAX_RETRY_SIDE * side) / (side + 2 * padding))) : MAX_DETECTION_SIDE;
    const shrink = side > maxSide ? side / maxSide : 1;
    const small = await shrinkImage(img, maxSide);
    const sx = img.width / small.width;
    const sy = img.height / small.height;
    // Tight crops (the face fills the picture) are often missed; a black border gives the detector context.
    const pad = Math.round(padding / shrink);
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
        .sort((a, b) => b.box.width * b.box.height - a.box.width * a.box.height);
    } finally {
      tensor.dispose();
    }
  }

  /**
   * Besides the detector itself, runs the landmark and (when loaded) recognition nets, so that the first real
   * attempt does not pay the first-call cost (measured: ~780, ~440, ~160 ms CPU for the first three
   * tiny320+landmarks+descriptor passes against ~90 ms afterwards: wasm kernels, XNNPACK operator set-up and
   * weight packing, JIT).
   */
  async warmUp(width: number, height: number, runs: number): Promise<void> {
    const grey: RgbImage = { data: new Uint8Array(width * height * 3).fill(128), width, height };
    for (let i = 0; i < runs; i++) await this.detect(grey);
    const { nets } = this.api;
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
}
