import { readFile } from 'node:fs/promises';
import sharp, { type Metadata } from 'sharp';
import { FacegateError } from '../core/errors.js';
import { decodePgm, isPgm, PgmError } from './pgm.js';

// libvips keeps the results of recent operations (up to 50 MB by default) in case the same one comes again.
// Every frame from a camera is new, so that cache never hits here and only holds memory the Pi lacks.
sharp.cache(false);

/** Decoded picture: 8-bit RGB, interleaved, row-major, no padding. The one image type of facegate. */
export interface RgbImage {
  data: Uint8Array;
  width: number;
  height: number;
}

/** A region in pixels; may lie partly or wholly outside the image. */
export interface Region {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** An image that cannot be used: code "data" (exit 65 when a command ends on it). */
export class ImageDecodeError extends FacegateError {
  override name = 'ImageDecodeError';
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('data', message, options);
  }
}

/**
 * Decode limits. A 31 KB PNG can declare 16000x16000 px: decoded whole it took 923 MB and, handed to the
 * detector, blocked the event loop ~8 s (a 3 s unlock stayed on for 9 s). So images over maxPixels are refused
 * from their header, before any pixel is decoded (sharp's limitInputPixels). What passes is decoded at its own
 * size (face boxes and landmarks are in original pixels); the detector shrinks big pictures with shrinkImage(),
 * inside libvips, off the main thread, instead of a JS loop over every pixel.
 */
export interface DecodeLimits {
  /** image.maxPixels: width x height above which an image is refused. */
  maxPixels: number;
  /** The longest side handed back; larger images are downscaled by libvips. Unlimited by default. */
  maxSide: number;
}

/** 25 MP: a 12 MP phone photo or a 4K / Pi HQ camera frame passes, a decompression bomb does not. */
export const DEFAULT_MAX_INPUT_PIXELS = 25_000_000;
export const DEFAULT_DECODE_LIMITS: DecodeLimits = { maxPixels: DEFAULT_MAX_INPUT_PIXELS, maxSide: Number.POSITIVE_INFINITY };

/** Decodes JPEG/PNG/WebP/GIF/TIFF (via sharp, EXIF orientation applied) and PGM P5/P2 (own parser) to RGB. */
export async function decodeImage(buf: Buffer | Uint8Array, limits: Partial<DecodeLimits> = {}): Promise<RgbImage> {
  const { maxPixels, maxSide } = { ...DEFAULT_DECODE_LIMITS, ...limits };
  if (buf.length === 0) throw new ImageDecodeError('image is empty (0 bytes)');
  if (isPgm(buf)) {
    let grey: ReturnType<typeof decodePgm>;
    try {
      grey = decodePgm(buf);
    } catch (err) {
      throw new ImageDecodeError(`cannot decode PGM: ${(err as PgmError).message}`);
    }
    // A PGM carries every pixel in the file, so it cannot be a bomb; the limit still applies, for one rule.
    if (grey.width * grey.height > maxPixels) throw tooLarge(grey.width, grey.height, maxPixels);
    const rgb = { data: greyToRgb(grey.data), width: grey.width, height: grey.height };
    return shrinkImage(rgb, maxSide);
  }
  const format = sniffFormat(buf);
  if (!format) throw new ImageDecodeError(`unsupported or corrupt image: unknown signature ${hexPrefix(buf)}`);
  let header: Metadata;
  try {
    header = await sharp(buf, { limitInputPixels: false }).metadata();
  } catch (err) {
    throw new ImageDecodeError(`cannot decode ${format.toUpperCase()} image: ${(err as Error).message}`);
  }
  if (header.width !== undefined && header.height !== undefined && header.width * header.height > maxPixels) {
    throw tooLarge(header.width, header.height, maxPixels);
  }
  try {
    // failOn 'warning' turns truncated JPEGs into errors instead of grey-filled pictures.
    const { data, info } = await sharp(buf, { failOn: 'warning', limitInputPixels: maxPixels })
      .rotate() // applies EXIF orientation
      .resize(Number.isFinite(maxSide) ? { width: maxSide, height: maxSide, fit: 'inside', withoutEnlargement: true } : null)
      .removeAlpha()
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
    const rgb = info.channels === 3 ? data : toRgb(data, info.channels);
    return { data: new Uint8Array(rgb.buffer, rgb.byteOffset, rgb.length), width: info.width, height: info.height };
  } catch (err) {
    throw new ImageDecodeError(`cannot decode ${format.toUpperCase()} image: ${(err as Error).message}`);
  }
}

function tooLarge(width: number, height: number, maxPixels: number): ImageDecodeError {
  return new ImageDecodeError(
    `image is ${width}x${height} px (${Math.round((width * height) / 1e6)} MP), over the ${Math.round(maxPixels / 1e6)} MP limit ` +
      '(image.maxPixels): refused before decoding; resize it, or raise the setting',
  );
}

/**
 * An already decoded image, shrunk inside libvips (a worker thread of sharp's pool) so that its longest side is
 * at most maxSide; smaller images come back as they are. For the detector: a 12 MP photo, averaged down in a
 * JS loop, held the event loop (and with it the relay's off timer) for the whole loop.
 */
export async function shrinkImage(img: RgbImage, maxSide: number): Promise<RgbImage> {
  assertImage(img);
  if (Math.max(img.width, img.height) <= maxSide) return img;
  const { data, info } = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 }, limitInputPixels: false })
    .resize({ width: maxSide, height: maxSide, fit: 'inside' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height };
}

/** Reads and decodes an image file; the error names the file. */
export async function readImage(path: string): Promise<RgbImage> {
  const buf = await readFile(path);
  try {
    return await decodeImage(buf);
  } catch (err) {
    if (err instanceof ImageDecodeError) throw new ImageDecodeError(`${path}: ${err.message}`);
    throw err;
  }
}

/** JPEG of an RgbImage (snapshots, audit, face crops). */
export async function encodeJpeg(img: RgbImage, quality = 85): Promise<Buffer> {
  assertImage(img);
  return sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } })
    .jpeg({ quality, mozjpeg: false })
    .toBuffer();
}

/** Adds a black border of `px` pixels on every side. */
export function padImage(img: RgbImage, px: number): RgbImage {
  assertImage(img);
  const pad = Math.max(0, Math.floor(px));
  if (pad === 0) return img;
  const width = img.width + 2 * pad;
  const height = img.height + 2 * pad;
  const data = new Uint8Array(width * height * 3);
  const rowBytes = img.width * 3;
  for (let y = 0; y < img.height; y++) {
    data.set(img.data.subarray(y * rowBytes, (y + 1) * rowBytes), ((y + pad) * width + pad) * 3);
  }
  return { data, width, height };
}

/** The picture mirrored left to right (a new image). */
export function mirrorImage(img: RgbImage): RgbImage {
  assertImage(img);
  const { width, height } = img;
  const data = new Uint8Array(img.data.length);
  for (let y = 0; y < height; y++) {
    const row = y * width * 3;
    for (let x = 0; x < width; x++) data.set(img.data.subarray(row + x * 3, row + x * 3 + 3), row + (width - 1 - x) * 3);
  }
  return { data, width, height };
}

/**
 * Cuts `box` out of the image and resizes it to size x size (or size.width x size.height). The box may extend
 * past the image: the outside is black. Never throws for odd boxes; an empty box gives a black image.
 */
export function cropResize(img: RgbImage, box: Region, size: number | { width: number; height: number }): RgbImage {
  const outW = typeof size === 'number' ? size : size.width;
  const outH = typeof size === 'number' ? size : size.height;
  const scaleX = box.width / outW;
  const scaleY = box.height / outH;
  // Output pixel (u, v) centre -> source point box.x + (u + 0.5) * scaleX (pixel centres at +0.5).
  return warpAffine(img, outW, outH, [scaleX, 0, box.x, 0, scaleY, box.y]);
}

/**
 * Samples the source at an affine map of each output pixel: source = M * (u + 0.5, v + 0.5, 1) with
 * M = [a, b, c, d, e, f] (source x = a*u' + b*v' + c, y = d*u' + e*v' + f). Outside the image is black.
 * Shrinking by 2x or more first box-averages the source region by the whole factor (an exact area filter,
 * so a 400 px camera face does not alias down to 100 px), then samples bilinearly, 2x2 per pixel when
 * still shrinking.
 */
export function warpAffine(img: RgbImage, outW: number, outH: number, m: readonly number[]): RgbImage {
  assertImage(img);
  const width = Math.max(1, Math.round(outW));
  const height = Math.max(1, Math.round(outH));
  const [a = 1, b = 0, c = 0, d = 0, e = 1, f = 0] = m;
  if (![a, b, c, d, e, f].every(Number.isFinite)) return { data: new Uint8Array(width * height * 3), width, height };
  const stretch = Math.max(Math.hypot(a, d), Math.hypot(b, e));
  if (stretch >= 2) {
    const k = Math.floor(stretch);
    // Source bounding box of the output's footprint, one block of slack each side for the bilinear taps.
    const xs = [c, a * width + c, b * height + c, a * width + b * height + c];
    const ys = [f, d * width + f, e * height + f, d * width + e * height + f];
    const x0 = Math.floor(Math.min(...xs)) - k;
    const y0 = Math.floor(Math.min(...ys)) - k;
    const blocksX = Math.ceil((Math.max(...xs) - x0) / k) + 2;
    const blocksY = Math.ceil((Math.max(...ys) - y0) / k) + 2;
    const shrunk = boxShrink(img, x0, y0, blocksX, blocksY, k);
    return bilinear(shrunk, width, height, [a / k, b / k, (c - x0) / k, d / k, e / k, (f - y0) / k], stretch / k > 1.25 ? 2 : 1);
  }
  return bilinear(img, width, height, [a, b, c, d, e, f], stretch > 1.25 ? 2 : 1);
}

/** Averages k x k blocks of the region starting at (x0, y0); parts outside the image count as black. */
function boxShrink(img: RgbImage, x0: number, y0: number, blocksX: number, blocksY: number, k: number): RgbImage {
  const acc = new Uint32Array(blocksX * blocksY * 3);
  const fromX = Math.max(0, x0);
  const toX = Math.min(img.width, x0 + blocksX * k);
  const fromY = Math.max(0, y0);
  const toY = Math.min(img.height, y0 + blocksY * k);
  const column = new Int32Array(Math.max(0, toX - fromX));
  for (let sx = fromX; sx < toX; sx++) column[sx - fromX] = Math.floor((sx - x0) / k) * 3;
  const src = img.data;
  for (let sy = fromY; sy < toY; sy++) {
    const row = Math.floor((sy - y0) / k) * blocksX * 3;
    let p = (sy * img.width + fromX) * 3;
    for (let i = 0; i < column.length; i++, p += 3) {
      const o = row + column[i]!;
      acc[o]! += src[p]!;
      acc[o + 1]! += src[p + 1]!;
      acc[o + 2]! += src[p + 2]!;
    }
  }
  const data = new Uint8Array(acc.length);
  const area = k * k;
  for (let i = 0; i < acc.length; i++) data[i] = Math.round(acc[i]! / area);
  return { data, width: blocksX, height: blocksY };
}

/** Bilinear sampling with samples x samples points per output pixel. */
function bilinear(img: RgbImage, width: number, height: number, m: readonly number[], samples: number): RgbImage {
  const [a, b, c, d, e, f] = m as [number, number, number, number, number, number];
  const data = new Uint8Array(width * height * 3);
  const src = img.data;
  const sw = img.width;
  const sh = img.height;
  const stride = sw * 3;
  const weight = 1 / (samples * samples);
  let r = 0;
  let g = 0;
  let bl = 0;
  for (let v = 0; v < height; v++) {
    for (let u = 0; u < width; u++) {
      r = g = bl = 0;
      for (let sy = 0; sy < samples; sy++) {
        const vv = v + (sy + 0.5) / samples;
        for (let sx = 0; sx < samples; sx++) {
          const uu = u + (sx + 0.5) / samples;
          // Continuous source coordinate; pixel i covers [i, i+1), so its centre is i + 0.5.
          const x = a * uu + b * vv + c - 0.5;
          const y = d * uu + e * vv + f - 0.5;
          const x0 = Math.floor(x);
          const y0 = Math.floor(y);
          const fx = x - x0;
          const fy = y - y0;
          const w00 = (1 - fx) * (1 - fy);
          const w10 = fx * (1 - fy);
          const w01 = (1 - fx) * fy;
          const w11 = fx * fy;
          if (x0 >= 0 && y0 >= 0 && x0 + 1 < sw && y0 + 1 < sh) {
            const p = y0 * stride + x0 * 3;
            const q = p + stride;
            r += src[p]! * w00 + src[p + 3]! * w10 + src[q]! * w01 + src[q + 3]! * w11;
            g += src[p + 1]! * w00 + src[p + 4]! * w10 + src[q + 1]! * w01 + src[q + 4]! * w11;
            bl += src[p + 2]! * w00 + src[p + 5]! * w10 + src[q + 2]! * w01 + src[q + 5]! * w11;
          } else {
            r += edgeTaps(src, sw, sh, x0, y0, 0, w00, w10, w01, w11);
            g += edgeTaps(src, sw, sh, x0, y0, 1, w00, w10, w01, w11);
            bl += edgeTaps(src, sw, sh, x0, y0, 2, w00, w10, w01, w11);
          }
        }
      }
      const o = (v * width + u) * 3;
      data[o] = Math.round(r * weight);
      data[o + 1] = Math.round(g * weight);
      data[o + 2] = Math.round(bl * weight);
    }
  }
  return { data, width, height };
}

/** The four bilinear taps near or past the border, outside pixels black. */
function edgeTaps(src: Uint8Array, w: number, h: number, x: number, y: number, ch: number, w00: number, w10: number, w01: number, w11: number): number {
  return pixel(src, w, h, x, y, ch) * w00 + pixel(src, w, h, x + 1, y, ch) * w10 + pixel(src, w, h, x, y + 1, ch) * w01 + pixel(src, w, h, x + 1, y + 1, ch) * w11;
}

function pixel(src: Uint8Array, w: number, h: number, x: number, y: number, ch: number): number {
  if (x < 0 || y < 0 || x >= w || y >= h) return 0;
  return src[(y * w + x) * 3 + ch]!;
}

function assertImage(img: RgbImage): void {
  if (!Number.isInteger(img.width) || !Number.isInteger(img.height) || img.width < 1 || img.height < 1) {
    throw new RangeError(`bad image size ${img.width}x${img.height}`);
  }
  if (img.data.length !== img.width * img.height * 3) {
    throw new RangeError(`image data has ${img.data.length} bytes, expected ${img.width * img.height * 3} (RGB)`);
  }
}

function greyToRgb(grey: Uint8Array): Uint8Array {
  const rgb = new Uint8Array(grey.length * 3);
  for (let i = 0; i < grey.length; i++) rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = grey[i]!;
  return rgb;
}

function toRgb(data: Buffer, channels: number): Uint8Array {
  const count = data.length / channels;
  const rgb = new Uint8Array(count * 3);
  for (let i = 0; i < count; i++) {
    const s = i * channels;
    rgb[3 * i] = data[s]!;
    rgb[3 * i + 1] = data[channels >= 3 ? s + 1 : s]!;
    rgb[3 * i + 2] = data[channels >= 3 ? s + 2 : s]!;
  }
  return rgb;
}

/** Only these reach sharp; SVG, PDF, HEIC... are refused: the bytes come from cameras and uploads. */
function sniffFormat(b: Uint8Array): string | null {
  const ascii = (from: number, to: number) => String.fromCharCode(...b.subarray(from, to));
  if (b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpeg';
  if (b[0] === 0x89 && ascii(1, 4) === 'PNG') return 'png';
  if (ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WEBP') return 'webp';
  if (ascii(0, 4) === 'GIF8') return 'gif';
  if (ascii(0, 4) === 'II*\0' || ascii(0, 4) === 'MM\0*') return 'tiff';
  return null;
}

function hexPrefix(b: Uint8Array): string {
  return Buffer.from(b.subarray(0, 8)).toString('hex') || '(none)';
}
