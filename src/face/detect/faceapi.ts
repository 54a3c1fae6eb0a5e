import { tf } from '../../model/tf.js';
import { loadFaceApi, type FaceApi } from '../../model/faceapi.js';
import { cropResize, padImage, shrinkImage, type RgbImage } from '../../image/image.js';
import { RETRY_PADDING, toFaceBox, type DetectedFace, type DetectorOptions, type FaceDetector, type VisionSettings } from './detector.js';

/** face-api's detectors: "tiny" (TinyFaceDetector) and "ssd" (SSD MobileNet v1), with the 68-landmark net. */

/**
 * Pictures up to this size (longest side, px, black border included) go to face-api as they are; larger ones
 * are shrunk by libvips straight to the net's input size (320 px for tiny320). Results come back in original
 * pixels, and the landmark net still reads each face from the full-resolution picture (see landmarks()).
 * Why: face-api holds its input several times over in tfjs-wasm (the int32 picture, its float32 cast, the
 * zeros that pad it square, the square) although the net looks at 320 px of it, and tfjs-wasm's heap grows to
 * its largest moment and never shrinks: an empty 1280x720 frame with the retry border (2560x2000) once took it
 * to 273 MB. Up to 640 px nothing changes: LFW (250 px, 500 with the retry border) and ORL (92 px) are never
 * shrunk, so their figures do not move.
 */
export const MAX_DETECTION_SIDE = 640;

/**
 * Faces larger than this (px) are shrunk to it before the 68-landmark net, which reads 112x112: twice that
 * keeps every detail it can use and spares tfjs-wasm a 500 px face held several times over. LFW and ORL
 * faces are smaller, so their landmarks do not move.
 */
export const LANDMARK_CROP_SIDE = 224;

/** face-api's SSD MobileNet v1 looks at 512x512. */
const SSD_INPUT_SIDE = 512;

/**
 * The tiny detector's last try when the full-size passes find nothing: the same net at a coarse 160 px input.
 * A face that fills the picture (a tight crop) is what the 320 px net misses, and at 160 px it matches the
 * net's larger anchors. Measured on ORL's 400 tight 92x112 crops: 34 missed at 320 (with the border retry),
 * 0 at 160 (3 at 192). Pictures where a face is found at 320 never reach it, so their results do not move.
 */
export const COARSE_RETRY_INPUT_SIZE = 160;

export async function createFaceApiDetector(kind: 'tiny' | 'ssd', settings: VisionSettings, options: DetectorOptions = {}): Promise<FaceDetector> {
  const withLandmarks = options.landmarks ?? true;
  const api = await loadFaceApi(withLandmarks ? [kind, 'landmarks'] : [kind]);
  const detector = new FaceApiDetector(api, kind, settings, withLandmarks);
  options.log?.info({ detector: detector.name, padding: settings.padding, landmarks: withLandmarks }, 'face detector ready');
  return detector;
}

type FaceApiOptions = InstanceType<FaceApi['TinyFaceDetectorOptions']> | InstanceType<FaceApi['SsdMobilenetv1Options']>;

/** face-api's box, in the detector input's pixels. */
interface FaceApiBox {
  x: number;
  y: number;
  right: number;
  bottom: number;
}

class FaceApiDetector implements FaceDetector {
  readonly name: string;
  /** The side of the square the net itself resizes every picture to. */
  private readonly netInputSide: number;
  private readonly options: FaceApiOptions;
  /** The tiny net at COARSE_RETRY_INPUT_SIZE (retry mode only; SSD has a fixed input). */
  private readonly coarse: FaceApiOptions | null = null;

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
      this.netInputSide = SSD_INPUT_SIDE;
    } else {
      this.options = new api.TinyFaceDetectorOptions({ inputSize: settings.inputSize, scoreThreshold: minConfidence });
      this.name = `tiny${settings.inputSize}`;
      this.netInputSide = settings.inputSize;
      if (settings.padding === 0 && settings.inputSize > COARSE_RETRY_INPUT_SIZE) {
        this.coarse = new api.TinyFaceDetectorOptions({ inputSize: COARSE_RETRY_INPUT_SIZE, scoreThreshold: minConfidence });
      }
    }
    if (settings.padding > 0) this.name += `+pad${settings.padding}`;
    else this.name += this.coarse ? `+retry${COARSE_RETRY_INPUT_SIZE}` : '+retry';
  }

  /**
   * With no padding set, a picture without a face gets more tries: inside a black border (RETRY_PADDING),
   * then (tiny) the same two at the coarse input size.
   */
  async detect(img: RgbImage): Promise<DetectedFace[]> {
    const found = await this.detectWithPadding(img, this.settings.padding, this.options, this.netInputSide);
    if (found.length > 0 || this.settings.padding > 0) return found;
    const border = Math.round(Math.max(img.width, img.height) * RETRY_PADDING);
    const bordered = await this.detectWithPadding(img, border, this.options, this.netInputSide);
    if (bordered.length > 0 || !this.coarse) return bordered;
    const coarse = await this.detectWithPadding(img, 0, this.coarse, COARSE_RETRY_INPUT_SIZE);
    return coarse.length > 0 ? coarse : this.detectWithPadding(img, border, this.coarse, COARSE_RETRY_INPUT_SIZE);
  }

  private async detectWithPadding(img: RgbImage, padding: number, options: FaceApiOptions, netInputSide: number): Promise<DetectedFace[]> {
    const side = Math.max(img.width, img.height);
    const bordered = side + 2 * padding;
    const target = bordered > MAX_DETECTION_SIDE ? netInputSide : bordered;
    const maxSide = Math.floor((target * side) / bordered);
    const shrink = side > maxSide ? side / maxSide : 1;
    const small = await shrinkImage(img, maxSide);
    const sx = img.width / small.width;
    const sy = img.height / small.height;
    // Tight crops (the face fills the picture) are often missed; a black border gives the detector context.
    const pad = Math.round(padding / shrink);
    const input = pad > 0 ? padImage(small, pad) : small;
    const toOriginal = (p: { x: number; y: number }) => ({ x: (p.x - pad) * sx, y: (p.y - pad) * sy });
    const tensor = tf.tensor3d(input.data, [input.height, input.width, 3], 'int32');
    let found: Array<{ box: FaceApiBox; score: number; landmarks: Array<{ x: number; y: number }> | null }>;
    try {
      // face-api's typings carry their own copy of the tf types; the engine is the same one.
      const detections = await this.api.detectAllFaces(tensor as unknown as Parameters<FaceApi['detectAllFaces']>[0], options);
      found = detections.map((d) => ({ box: d.box, score: d.score, landmarks: null }));
    } finally {
      tensor.dispose();
    }
    if (this.withLandmarks) {
      const located = await Promise.all(found.map((f) => this.landmarks(img, f.box, { pad, sx, sy, inputWidth: input.width, inputHeight: input.height }).then((landmarks) => ({ ...f, landmarks }))));
      found = located.filter((f) => f.landmarks !== null);
    }
    return found
      .map((f) => ({ box: toFaceBox(toOriginal(f.box), toOriginal({ x: f.box.right, y: f.box.bottom }), f.score, img), landmarks: f.landmarks?.map(toOriginal) ?? null }))
      .filter((f) => f.box.width > 0 && f.box.height > 0)
      .sort((a, b) => b.box.width * b.box.height - a.box.width * a.box.height);
  }

  /**
   * The 68 landmarks of one detection, in detector-input pixels, as face-api's withFaceLandmarks() computes
   * them (the box clipped to the picture and floored, the net run on that cut, the points shifted by the
   * unfloored box), except that the cut is taken from the full-resolution picture: when the detector's
   * input was shrunk, the landmark net still sees every pixel of the face. Unshrunk, the result is
   * face-api's own to the bit.
   */
  private async landmarks(img: RgbImage, box: FaceApiBox, at: { pad: number; sx: number; sy: number; inputWidth: number; inputHeight: number }): Promise<Array<{ x: number; y: number }> | null> {
    const left = Math.max(box.x, 0);
    const top = Math.max(box.y, 0);
    const clip = {
      x: Math.floor(left),
      y: Math.floor(top),
      width: Math.floor(Math.min(box.right - left, at.inputWidth - left)),
      height: Math.floor(Math.min(box.bottom - top, at.inputHeight - top)),
    };
    if (clip.width <= 0 || clip.height <= 0) return null;
    const region = { x: (clip.x - at.pad) * at.sx, y: (clip.y - at.pad) * at.sy, width: clip.width * at.sx, height: clip.height * at.sy };
    // The net reads 112 px; a 500 px face from a door frame is cut at twice that, area-filtered, not whole.
    // Unscaled (fit 1, whole pixels) the cut is an exact copy of those pixels.
    const fit = Math.min(1, LANDMARK_CROP_SIDE / Math.max(region.width, region.height));
    const face = cropResize(img, region, { width: Math.round(region.width * fit), height: Math.round(region.height * fit) });
    const tensor = tf.tensor3d(face.data, [face.height, face.width, 3], 'int32');
    try {
      const found = await this.api.nets.faceLandmark68Net.detectLandmarks(tensor as unknown as Parameters<FaceApi['detectAllFaces']>[0]);
      const landmarks = Array.isArray(found) ? found[0] : found;
      if (!landmarks) return null;
      // face-api's own arithmetic (relative positions x size + shift), so that unshrunk it agrees to the bit.
      const sized = face.width === clip.width && face.height === clip.height ? landmarks : landmarks.forSize(clip.width, clip.height);
      return sized.shiftBy(box.x, box.y).positions.map((p) => ({ x: p.x, y: p.y }));
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
