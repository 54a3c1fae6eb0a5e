import { randomUUID } from 'node:crypto';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Camera } from '../camera/camera.js';
import type { FaceBox } from '../core/types.js';
import { isImageFile } from '../gallery/datasets.js';
import { CROP_MARKER } from '../gallery/cache.js';
import { findFace, extractFace, type FaceDetector } from '../face/detect/faces.js';
import { decodeImage, encodeJpeg, type RgbImage } from '../image/image.js';
import { measureQuality, qualityHint, type CropQuality } from './quality.js';

/** The seed's two folders: anchor = the person at the door, positive = more pictures of the same person. */
export type CaptureKind = 'anchor' | 'positive';
export const CAPTURE_KINDS: readonly CaptureKind[] = ['anchor', 'positive'];

/** The seed saves 250x250 webcam crops; training and verification resize them to the tower's input. */
export const COLLECT_CROP_SIZE = 250;
const QUALITY_SIZE = 100;

export type CaptureResult =
  | { saved: true; kind: CaptureKind; file: string; box: FaceBox; quality: CropQuality; hint: string | null; frameSource: string }
  | { saved: false; kind: CaptureKind; reason: string };

export interface CollectSessionOptions {
  camera: Camera;
  detector: FaceDetector;
  /** Anchor and positive folders are created under this (the seed's data/anchor, data/positive). */
  dataDir: string;
  cropSize?: number;
  /** Crop square around the face, as a fraction of its side (0 = the detector's square, like the seed model). */
  margin?: number;
}

/**
 * One collecting session: grab the newest frame, find the face, cut the same square crop verification uses,
 * save it under a fresh uuid name. A frame without a face saves nothing and says so.
 */
export class CollectSession {
  readonly counts: Record<CaptureKind, number> = { anchor: 0, positive: 0 };
  private readonly cropSize: number;
  private readonly margin: number;

  constructor(private readonly options: CollectSessionOptions) {
    this.cropSize = options.cropSize ?? COLLECT_CROP_SIZE;
    this.margin = options.margin ?? 0;
  }

  folder(kind: CaptureKind): string {
    return join(this.options.dataDir, kind);
  }

  /** Creates the folders and counts what earlier sessions left there, so the totals shown are the real ones. */
  async open(): Promise<void> {
    for (const kind of CAPTURE_KINDS) {
      await mkdir(this.folder(kind), { recursive: true });
      this.counts[kind] = (await readdir(this.folder(kind))).filter(isImageFile).length;
    }
  }

  async capture(kind: CaptureKind): Promise<CaptureResult> {
    let frame;
    try {
      frame = await this.options.camera.grab();
    } catch (error) {
      return { saved: false, kind, reason: `camera: ${error instanceof Error ? error.message : String(error)}` };
    }
    let image: RgbImage;
    try {
      image = await decodeImage(frame.data);
    } catch (error) {
      return { saved: false, kind, reason: `frame from ${frame.source}: ${error instanceof Error ? error.message : String(error)}` };
    }
    const face = await findFace(image, this.options.detector);
    if (!face) return { saved: false, kind, reason: `no face found in the frame (${this.options.detector.name} detector); step closer or add light` };
    const crop = extractFace(image, face, this.cropSize, { margin: this.margin, align: false });
    // Judged at the seed tower's 100 px input: what the model will see, and a scale where blur thresholds hold
    // whatever the camera's resolution (upscaling a small face to 250 px would always read as blurred).
    const quality = measureQuality(extractFace(image, face, QUALITY_SIZE, { margin: this.margin, align: false }));
    const file = join(this.folder(kind), `${randomUUID()}${CROP_MARKER}.jpg`);
    // Quality 95: these crops are training data; re-encoding losses should stay below the augmentation's.
    await writeFile(file, await encodeJpeg(crop, 95), { flag: 'wx' });
    this.counts[kind]++;
    return { saved: true, kind, file, box: face.box, quality, hint: qualityHint(quality), frameSource: frame.source };
  }
}
