import { seededRandom } from '../random.js';
import { decodeImage, encodeJpeg, type RgbImage } from '../image/image.js';

/**
 * The seed tutorial's data augmentation, reproduced on plain RGB images and seeded. The seed calls, per
 * variant, tf.image's stateless ops in this order:
 *   stateless_random_brightness(max_delta=0.02), stateless_random_contrast(0.6, 1), stateless_random_flip_left_right,
 *   stateless_random_jpeg_quality(90, 100), stateless_random_saturation(0.9, 1)
 * and keeps 9 variants per original image. Same ranges, same order here; only the random streams differ.
 */

export interface AugmentRanges {
  brightnessDelta: number;
  contrast: [number, number];
  jpegQuality: [number, number];
  saturation: [number, number];
}

export const SEED_AUGMENTATION: Readonly<AugmentRanges> = {
  brightnessDelta: 0.02,
  contrast: [0.6, 1],
  jpegQuality: [90, 100],
  saturation: [0.9, 1],
};

/** The seed makes 9 augmented images from every collected one. */
export const SEED_VARIANTS = 9;

/** What was drawn for one variant: recorded so a test (or a curious user) can check the ranges. */
export interface AugmentDraw {
  brightness: number;
  contrast: number;
  flip: boolean;
  jpegQuality: number;
  saturation: number;
}

export function drawAugmentation(random: () => number, ranges: AugmentRanges = SEED_AUGMENTATION): AugmentDraw {
  const between = ([low, high]: [number, number]) => low + (high - low) * random();
  return {
    brightness: (2 * random() - 1) * ranges.brightnessDelta,
    contrast: between(ranges.contrast),
    flip: random() < 0.5,
    // tf draws an integer quality in [min, max).
    jpegQuality: Math.min(ranges.jpegQuality[1] - 1, Math.floor(between(ranges.jpegQuality))),
    saturation: between(ranges.saturation),
  };
}

const clamp01 = (v: number) => (v < 0 ? 0 : v > 1 ? 1 : v);

/** The pixel steps before the JPEG round trip: brightness, contrast (about each channel's mean), flip. */
function adjustPixels(img: RgbImage, draw: AugmentDraw): Float32Array {
  const { width, height } = img;
  const pixels = width * height;
  const values = new Float32Array(pixels * 3);
  for (let i = 0; i < values.length; i++) values[i] = img.data[i]! / 255 + draw.brightness;
  const means = [0, 0, 0];
  for (let i = 0; i < values.length; i++) means[i % 3]! += values[i]!;
  for (let c = 0; c < 3; c++) means[c]! /= pixels;
  for (let i = 0; i < values.length; i++) values[i] = (values[i]! - means[i % 3]!) * draw.contrast + means[i % 3]!;
  if (draw.flip) {
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width >> 1; x++) {
        const left = (y * width + x) * 3;
        const right = (y * width + (width - 1 - x)) * 3;
        for (let c = 0; c < 3; c++) [values[left + c], values[right + c]] = [values[right + c]!, values[left + c]!];
      }
    }
  }
  return values;
}

/**
 * HSV saturation scaled by `factor` with hue and value kept. With V = max(r,g,b) fixed, every channel is
 * V - (V - c), and S is proportional to (V - min): scaling S scales each (V - c) by the same factor.
 */
function adjustSaturation(img: RgbImage, factor: number): RgbImage {
  const data = new Uint8Array(img.data.length);
  for (let i = 0; i < data.length; i += 3) {
    const r = img.data[i]!, g = img.data[i + 1]!, b = img.data[i + 2]!;
    const value = Math.max(r, g, b);
    const low = Math.min(r, g, b);
    const saturation = value === 0 ? 0 : (value - low) / value;
    // S cannot exceed 1: cap the factor where it would.
    const k = saturation > 0 ? Math.min(factor, 1 / saturation) : 1;
    data[i] = Math.round(value - (value - r) * k);
    data[i + 1] = Math.round(value - (value - g) * k);
    data[i + 2] = Math.round(value - (value - b) * k);
  }
  return { data, width: img.width, height: img.height };
}

/** One augmented variant of `img` for the given draw. */
export async function augmentImage(img: RgbImage, draw: AugmentDraw): Promise<RgbImage> {
  const adjusted = adjustPixels(img, draw);
  const bytes = new Uint8Array(adjusted.length);
  for (let i = 0; i < adjusted.length; i++) bytes[i] = Math.round(clamp01(adjusted[i]!) * 255);
  const recompressed = await decodeImage(await encodeJpeg({ data: bytes, width: img.width, height: img.height }, draw.jpegQuality));
  return adjustSaturation(recompressed, draw.saturation);
}

/**
 * `variants` augmented copies of every image, in order (image 0's variants first). Each image gets its own
 * random stream from (seed, index): the same images and seed give the same variants, byte for byte.
 */
export async function augmentAll(images: RgbImage[], seed: number, variants = SEED_VARIANTS, ranges: AugmentRanges = SEED_AUGMENTATION): Promise<RgbImage[]> {
  const out: RgbImage[] = [];
  for (const [index, img] of images.entries()) {
    const random = seededRandom((seed * 1_000_003 + index * 7919) >>> 0);
    for (let v = 0; v < variants; v++) out.push(await augmentImage(img, drawAugmentation(random, ranges)));
  }
  return out;
}
