import { cropResize, encodeJpeg, decodeImage, type RgbImage } from '../../image/image.js';
import { boxBlur, drawPerspective } from '../../image/warp.js';
import { invertHomography } from '../../face/liveness/homography.js';

/**
 * Pixel effects of presentation-attack instruments (a print, a phone screen) and of the camera that films
 * them. These are PROXIES: made by arithmetic from dataset photos, not by printing and filming. They stand in
 * for attacks that a site measures for real with `facegate collect --attack` and `facegate evaluate-pad`.
 */

export type Random = () => number;

function mapPixels(img: RgbImage, f: (value: number, x: number, y: number, c: number) => number): RgbImage {
  const data = new Uint8Array(img.data.length);
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) {
      for (let c = 0; c < 3; c++) {
        const i = (y * img.width + x) * 3 + c;
        data[i] = Math.max(0, Math.min(255, Math.round(f(img.data[i]!, x, y, c))));
      }
    }
  }
  return { data, width: img.width, height: img.height };
}

/** Standard normal deviate (Box-Muller) from a seeded uniform source. */
export function gaussian(random: Random): number {
  const u = Math.max(random(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

/** Sensor noise: independent Gaussian per pixel and channel. */
export function addNoise(img: RgbImage, sigma: number, random: Random): RgbImage {
  return mapPixels(img, (v) => v + sigma * gaussian(random));
}

/** Encodes and decodes: the blocking and ringing a camera's or a messenger's JPEG leaves. */
export async function jpegRoundTrip(img: RgbImage, quality: number): Promise<RgbImage> {
  return decodeImage(await encodeJpeg(img, quality));
}

/** Re-photographed: detail lost by a small capture, then enlarged again. */
export function recapture(img: RgbImage, factor: number): RgbImage {
  const full = { x: 0, y: 0, width: img.width, height: img.height };
  const small = cropResize(img, full, { width: Math.max(8, Math.round(img.width / factor)), height: Math.max(8, Math.round(img.height / factor)) });
  return cropResize(small, { x: 0, y: 0, width: small.width, height: small.height }, { width: img.width, height: img.height });
}

/** The interference stripes of a screen filmed by a sensor with another pixel pitch. */
export function moire(img: RgbImage, amplitude: number, period: number, angle: number): RgbImage {
  const fx = Math.cos(angle) / period;
  const fy = Math.sin(angle) / period;
  return mapPixels(img, (v, x, y) => v + amplitude * Math.sin(2 * Math.PI * (x * fx + y * fy)));
}

const BAYER4 = [0, 8, 2, 10, 12, 4, 14, 6, 3, 11, 1, 9, 15, 7, 13, 5];

/** An ordered-dither halftone per ink channel in cells of `cell` px, then ink spread (blur 1). */
export function halftone(img: RgbImage, cell: number): RgbImage {
  const dithered = mapPixels(img, (v, x, y) => {
    const t = (BAYER4[(Math.floor(y / cell) % 4) * 4 + (Math.floor(x / cell) % 4)]! + 0.5) / 16;
    return v / 255 > t ? 255 : 0;
  });
  return boxBlur(dithered, Math.max(1, Math.round(cell / 2)));
}

/** White balance off: each channel scaled (a warm print under a lamp, a blue phone screen). */
export function colourCast(img: RgbImage, gains: [number, number, number]): RgbImage {
  return mapPixels(img, (v, _x, _y, c) => v * gains[c]!);
}

/** A print's paper: the picture on a white border of `border` px, paper slightly grey-white. */
export function onPaper(img: RgbImage, border: number): RgbImage {
  return frame(img, border, [235, 232, 225]);
}

/** A phone: the picture lit like a screen (lifted blacks, blue cast) inside a black bezel. */
export function onPhone(img: RgbImage, bezel: number): RgbImage {
  const screen = mapPixels(colourCast(img, [0.92, 0.97, 1.08]), (v) => 18 + v * 0.93);
  return frame(screen, bezel, [12, 12, 14]);
}

function frame(img: RgbImage, border: number, colour: [number, number, number]): RgbImage {
  const width = img.width + 2 * border;
  const height = img.height + 2 * border;
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) data.set(colour, i * 3);
  for (let y = 0; y < img.height; y++) data.set(img.data.subarray(y * img.width * 3, (y + 1) * img.width * 3), ((y + border) * width + border) * 3);
  return { data, width, height };
}

/** A wall behind the person: a smooth two-way gradient, the same in every frame (the camera is fixed). */
export function wall(width: number, height: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const base = 150 + 40 * (x / width) - 30 * (y / height);
      data.set([base + 10, base, base - 15].map((v) => Math.max(0, Math.min(255, Math.round(v)))), (y * width + x) * 3);
    }
  }
  return { data, width, height };
}

/**
 * Where a flat object stands in front of the camera: its centre in the frame (px), its size (scale: frame px
 * per object px when facing the camera), in-plane roll and out-of-plane yaw/pitch (radians).
 */
export interface PlanePose {
  cx: number;
  cy: number;
  scale: number;
  roll: number;
  yaw: number;
  pitch: number;
}

/** Focal length (px) of the simulated camera; the object sits at this distance, so scale 1 = life size. */
const FOCAL = 900;

/**
 * The homography object px -> frame px of a pinhole camera looking at the object plane: x = K [r1 r2 t] X,
 * with the object centred on its own origin. This is exactly the motion a print or phone can make.
 */
export function planeToFrame(object: { width: number; height: number }, pose: PlanePose): number[] {
  const { cos, sin } = Math;
  // R = Ry(yaw) * Rx(pitch) * Rz(roll); only its first two columns matter for a plane z = 0.
  const rz = [cos(pose.roll), -sin(pose.roll), sin(pose.roll), cos(pose.roll)];
  const cp = cos(pose.pitch);
  const sp = sin(pose.pitch);
  const cyw = cos(pose.yaw);
  const syw = sin(pose.yaw);
  const col = (a: number, b: number): [number, number, number] => {
    // Rz column (a, b, 0), then Rx, then Ry.
    const x1 = a;
    const y1 = b * cp;
    const z1 = b * sp;
    return [x1 * cyw + z1 * syw, y1, -x1 * syw + z1 * cyw];
  };
  const r1 = col(rz[0]!, rz[2]!);
  const r2 = col(rz[1]!, rz[3]!);
  const s = pose.scale;
  const ox = object.width / 2;
  const oy = object.height / 2;
  // Object point (u, v) -> plane (s(u - ox), s(v - oy), 0) -> camera -> frame px around (cx, cy).
  const m = [
    [r1[0], r2[0], 0],
    [r1[1], r2[1], 0],
    [r1[2], r2[2], FOCAL],
  ];
  const project = (row: number[], camRow: number) => [FOCAL * row[0]! + camRow * m[2]![0]!, FOCAL * row[1]! + camRow * m[2]![1]!, camRow * FOCAL];
  const rowX = project(m[0]!, pose.cx);
  const rowY = project(m[1]!, pose.cy);
  const rowW = [m[2]![0]!, m[2]![1]!, FOCAL];
  // Fold in the object's own scale and centring: [s, 0, -s*ox; 0, s, -s*oy; 0, 0, 1].
  const fold = (row: number[]) => [row[0]! * s, row[1]! * s, row[2]! - row[0]! * s * ox - row[1]! * s * oy];
  return [...fold(rowX), ...fold(rowY), ...fold(rowW)];
}

/** Draws a flat object into a copy of the background at a pose. */
export function placePlane(background: RgbImage, object: RgbImage, pose: PlanePose): RgbImage {
  const out: RgbImage = { data: Uint8Array.from(background.data), width: background.width, height: background.height };
  const inverse = invertHomography(planeToFrame(object, pose));
  if (inverse) drawPerspective(out, object, inverse);
  return out;
}
