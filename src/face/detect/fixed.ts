import type { RgbImage } from '../../image/image.js';
import type { DetectedFace, FaceDetector, VisionSettings } from './detector.js';

/** The seed tutorial's crop: a fixed square of the frame, clamped into the image. Always "finds" a face. */
export class FixedCropDetector implements FaceDetector {
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
