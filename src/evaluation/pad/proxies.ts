import { cropResize, encodeJpeg, type RgbImage } from '../../image/image.js';
import { seededRandom } from '../../random.js';
import { boxBlur } from '../../image/warp.js';
import {
  addNoise, colourCast, gaussian, halftone, jpegRoundTrip, moire, onPaper, onPhone, placePlane, recapture, wall,
  type PlanePose, type Random,
} from './render.js';

/**
 * Attack and bona fide PROXIES made from dataset photos (ORL: real camera captures, 92x112 grey), so that the
 * PAD figures can be measured and tested without anyone printing anything. Every figure from them says "proxy":
 * a real print, a real phone and a real sensor differ, which is why `facegate collect --attack` exists.
 *
 *  - single-image attack types: the eight the issue measured passive models on;
 *  - burst attack types: a print or a phone held still, or moved by hand (roll, tilt, drift, distance);
 *  - bona fide bursts ("live-like"): consecutive captures of one person, which show real pose and expression
 *    change, placed in the same scene with the same sensor noise and JPEG. Their motion between captures is
 *    larger than a person makes in half a second, so the BPCER they give is optimistic (see the README).
 */

export const SINGLE_ATTACK_TYPES = ['recapture', 'blur', 'moire', 'halftone', 'jpeg35', 'colour-cast', 'print', 'phone'] as const;
export type SingleAttackType = (typeof SINGLE_ATTACK_TYPES)[number];
export const BURST_ATTACK_TYPES = ['still-print', 'moved-print', 'still-phone', 'moved-phone'] as const;
export type BurstAttackType = (typeof BURST_ATTACK_TYPES)[number];

/** The scene every proxy frame is drawn in: a fixed camera looking at a wall. */
export const SCENE = { width: 400, height: 300 } as const;
/** Object px -> frame px for a face photo facing the camera (an ORL face ends up ~140 px wide). */
const FACE_SCALE = 2;
/** Instruments are made at this multiple of the photo's size and drawn at FACE_SCALE / PRINT_UPSCALE. */
const PRINT_UPSCALE = 2;
const SENSOR_NOISE = 2;
const CAMERA_JPEG_QUALITY = 85;

/** The picture an attacker holds up: a face photo turned into a print or a screen (size unchanged but borders). */
export async function instrument(photo: RgbImage, type: SingleAttackType, random: Random): Promise<RgbImage> {
  // Printed or shown at twice the dataset's resolution, so a halftone dot or a screen line is finer than a pixel of the photo.
  const face = resized(photo, photo.width * PRINT_UPSCALE);
  switch (type) {
    case 'recapture':
      return onPaper(recapture(face, 2 + random()), 12);
    case 'blur':
      return onPaper(boxBlur(face, 3), 12);
    case 'moire':
      return onPhone(moire(face, 14, 3 + random() * 2, random() * Math.PI), 16);
    case 'halftone':
      return onPaper(halftone(face, 1), 12);
    case 'jpeg35':
      return onPaper(await jpegRoundTrip(face, 35), 12);
    case 'colour-cast':
      return onPaper(colourCast(face, [1.12, 1.0, 0.82]), 12);
    case 'print':
      return onPaper(colourCast(blend(recapture(face, 1.5), halftone(face, 1), 0.4), [1.06, 1.0, 0.9]), 12);
    case 'phone':
      return onPhone(moire(recapture(face, 1.5), 6, 4, random() * Math.PI), 16);
  }
}

function facing(random: Random, jitter = 1, scale = FACE_SCALE): PlanePose {
  return {
    cx: SCENE.width / 2 + jitter * 4 * gaussian(random),
    cy: SCENE.height / 2 + jitter * 4 * gaussian(random),
    scale,
    roll: jitter * 0.02 * gaussian(random),
    yaw: 0,
    pitch: 0,
  };
}

/** One camera frame: the object at a pose in front of the wall, sensor noise, the camera's JPEG. */
async function shoot(object: RgbImage, pose: PlanePose, random: Random, quality = CAMERA_JPEG_QUALITY): Promise<Buffer> {
  const frame = addNoise(placePlane(wall(SCENE.width, SCENE.height), object, pose), SENSOR_NOISE, random);
  return encodeJpeg(frame, quality);
}

/** A single camera frame of a photo attack. */
export async function singleAttackFrame(face: RgbImage, type: SingleAttackType, seed: number): Promise<Buffer> {
  const random = seededRandom(seed);
  return shoot(await instrument(face, type, random), facing(random, 1, FACE_SCALE / PRINT_UPSCALE), random);
}

/** A single camera frame of the real face (the bona fide counterpart of singleAttackFrame). */
export async function bonaFideFrame(face: RgbImage, seed: number): Promise<Buffer> {
  const random = seededRandom(seed);
  return shoot(face, facing(random), random);
}

/**
 * A burst of an attack: the print or phone held still (only sensor noise changes), or moved by hand: a random
 * walk of roll (~2 deg/frame), yaw and pitch (~4 deg/frame, up to ~20 deg), drift (~2 % of the face/frame) and
 * distance (~2 %/frame), each frame with its own JPEG quality (70-90).
 */
export async function attackBurst(face: RgbImage, type: BurstAttackType, frames: number, seed: number): Promise<Buffer[]> {
  const random = seededRandom(seed);
  const object = await instrument(face, type.endsWith('phone') ? 'phone' : 'print', random);
  const moved = type.startsWith('moved');
  const pose = facing(random, 1, FACE_SCALE / PRINT_UPSCALE);
  const out: Buffer[] = [];
  const clamp = (v: number, limit: number) => Math.max(-limit, Math.min(limit, v));
  for (let i = 0; i < frames; i++) {
    if (moved && i > 0) {
      pose.roll = clamp(pose.roll + 0.035 * gaussian(random), 0.3);
      pose.yaw = clamp(pose.yaw + 0.07 * gaussian(random), 0.35);
      pose.pitch = clamp(pose.pitch + 0.07 * gaussian(random), 0.35);
      pose.cx += 4 * gaussian(random);
      pose.cy += 4 * gaussian(random);
      pose.scale *= 1 + 0.02 * gaussian(random);
    }
    out.push(await shoot(object, { ...pose }, random, moved ? 70 + Math.floor(random() * 21) : CAMERA_JPEG_QUALITY));
  }
  return out;
}

/**
 * A video replay on a phone held still in front of the camera: the screen shows consecutive captures of the
 * person (ORL's pose and expression change), so the face in the picture has real parallax and motion. This is
 * the attack the burst checks do NOT stop (README "What stops a photo"); it is here to measure that honestly.
 */
export async function replayBurst(captures: RgbImage[], seed: number): Promise<Buffer[]> {
  const random = seededRandom(seed);
  const pose = facing(random, 1, FACE_SCALE / PRINT_UPSCALE);
  const out: Buffer[] = [];
  for (const capture of captures) out.push(await shoot(await instrument(capture, 'phone', seededRandom(seed)), pose, random));
  return out;
}

/**
 * A live-like burst: consecutive captures of one person (ORL's ten photos of a subject differ in pose and
 * expression), each facing the fixed camera from nearly the same place, with the same noise and JPEG.
 */
export async function liveBurst(captures: RgbImage[], seed: number): Promise<Buffer[]> {
  const random = seededRandom(seed);
  const base = facing(random);
  const out: Buffer[] = [];
  for (const capture of captures) out.push(await shoot(capture, { ...base, cx: base.cx + gaussian(random), cy: base.cy + gaussian(random) }, random));
  return out;
}

function blend(a: RgbImage, b: RgbImage, weightOfB: number): RgbImage {
  const data = new Uint8Array(a.data.length);
  for (let i = 0; i < data.length; i++) data[i] = Math.round(a.data[i]! * (1 - weightOfB) + b.data[i]! * weightOfB);
  return { data, width: a.width, height: a.height };
}

/** The dataset photo at a given size (ORL photos are small; proxies work on them as they are). */
export function resized(face: RgbImage, width: number): RgbImage {
  const height = Math.round((face.height * width) / face.width);
  return cropResize(face, { x: 0, y: 0, width: face.width, height: face.height }, { width, height });
}
