import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import { cropResize, decodeImage, encodeJpeg, ImageDecodeError, padImage, readImage, type RgbImage } from '../../src/image/image.js';
import { lfwDir, needLfw, needOrl, orlDir } from '../helpers/datasets.js';

const LFW_SAMPLE = join(lfwDir, 'Abdullah', 'Abdullah_0001.jpg');

/** A width x height image whose left half is red and right half blue. */
function halves(width: number, height: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) data.set(x < width / 2 ? [255, 0, 0] : [0, 0, 255], (y * width + x) * 3);
  return { data, width, height };
}
const at = (img: RgbImage, x: number, y: number) => [...img.data.subarray((y * img.width + x) * 3, (y * img.width + x) * 3 + 3)];

test('decodes a JPEG to RGB', { skip: needLfw() }, async () => {
  const img = await readImage(LFW_SAMPLE);
  assert.deepEqual([img.width, img.height, img.data.length], [250, 250, 250 * 250 * 3]);
});

test('decodes PNG, greyscale PNG (to 3 equal channels) and RGBA PNG (alpha dropped)', async () => {
  const rgb = await sharp({ create: { width: 4, height: 3, channels: 3, background: { r: 10, g: 20, b: 30 } } }).png().toBuffer();
  const a = await decodeImage(rgb);
  assert.deepEqual([a.width, a.height, ...at(a, 3, 2)], [4, 3, 10, 20, 30]);
  const grey = await sharp(Buffer.alloc(12, 77), { raw: { width: 4, height: 3, channels: 1 } }).png().toBuffer();
  const g = await decodeImage(grey);
  assert.deepEqual([g.data.length, ...at(g, 1, 1)], [36, 77, 77, 77]);
  const rgba = await sharp({ create: { width: 2, height: 2, channels: 4, background: { r: 1, g: 2, b: 3, alpha: 0.5 } } }).png().toBuffer();
  assert.equal((await decodeImage(rgba)).data.length, 12);
});

test('decodes WebP', async () => {
  const webp = await sharp({ create: { width: 8, height: 6, channels: 3, background: '#808080' } }).webp({ lossless: true }).toBuffer();
  const img = await decodeImage(webp);
  assert.deepEqual([img.width, img.height, ...at(img, 4, 3)], [8, 6, 128, 128, 128]);
});

test('applies EXIF orientation (a phone photo taken upright)', async () => {
  // 20x10 landscape pixels tagged "rotate 90° clockwise to display" -> 10x20 portrait.
  const src = halves(20, 10);
  const tagged = await sharp(src.data, { raw: { width: 20, height: 10, channels: 3 } }).withMetadata({ orientation: 6 }).png().toBuffer();
  const img = await decodeImage(tagged);
  assert.deepEqual([img.width, img.height], [10, 20]);
  // Left (red) half ends up on top after a clockwise turn.
  assert.ok(at(img, 5, 2)[0]! > 200 && at(img, 5, 17)[2]! > 200);
});

test('decodes ORL PGM (P5) to 3 equal channels', { skip: needOrl() }, async () => {
  const img = await readImage(join(orlDir, 's2', '3.pgm'));
  assert.deepEqual([img.width, img.height], [92, 112]);
  const [r, g, b] = at(img, 40, 50);
  assert.ok(r === g && g === b);
});

test('decodes PGM P2 through decodeImage', async () => {
  const img = await decodeImage(Buffer.from('P2\n2 1\n255\n7 9\n'));
  assert.deepEqual([...img.data], [7, 7, 7, 9, 9, 9]);
});

test('garbage, empty, truncated and SVG inputs give ImageDecodeError with a clear message', { skip: needLfw() }, async () => {
  const jpeg = readFileSync(LFW_SAMPLE);
  await assert.rejects(decodeImage(Buffer.from('definitely not an image')), (e: unknown) => e instanceof ImageDecodeError && /unknown signature/.test(e.message));
  await assert.rejects(decodeImage(Buffer.alloc(0)), /empty/);
  await assert.rejects(decodeImage(jpeg.subarray(0, Math.floor(jpeg.length / 2))), (e: unknown) => e instanceof ImageDecodeError && /JPEG/.test(e.message));
  await assert.rejects(decodeImage(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"/>')), ImageDecodeError);
  await assert.rejects(decodeImage(Buffer.from('P5\n10 10\n255\nxx')), /PGM.*truncated/);
  await assert.rejects(readImage('/nonexistent/face.jpg'), /ENOENT/);
});

test('cropResize inside the image samples the right pixels', () => {
  const img = halves(40, 20);
  const left = cropResize(img, { x: 0, y: 0, width: 20, height: 20 }, 10);
  assert.deepEqual([left.width, left.height, ...at(left, 5, 5)], [10, 10, 255, 0, 0]);
  const right = cropResize(img, { x: 20, y: 0, width: 20, height: 20 }, { width: 4, height: 8 });
  assert.deepEqual([right.width, right.height, ...at(right, 2, 4)], [4, 8, 0, 0, 255]);
});

test('cropResize outside the image pads with black and never throws', () => {
  const img = halves(40, 20);
  const half = cropResize(img, { x: -20, y: 0, width: 40, height: 20 }, { width: 40, height: 20 });
  assert.deepEqual(at(half, 5, 10), [0, 0, 0]);
  assert.deepEqual(at(half, 30, 10), [255, 0, 0]);
  const away = cropResize(img, { x: 1000, y: -500, width: 30, height: 30 }, 16);
  assert.ok(away.data.every((v) => v === 0));
  const empty = cropResize(img, { x: 5, y: 5, width: 0, height: 0 }, 8);
  assert.equal(empty.data.length, 8 * 8 * 3);
  const nan = cropResize(img, { x: Number.NaN, y: 0, width: 10, height: 10 }, 8);
  assert.ok(nan.data.every((v) => v === 0));
});

test('shrinking averages areas (no aliasing) and keeps black outside, also for big factors', () => {
  // 1-px black/white checkerboard: point sampling would give pure black or white, an area filter grey.
  const size = 240;
  const board = { data: new Uint8Array(size * size * 3).map((_, i) => (((i / 3) | 0) % size + (((i / 3 / size) | 0))) % 2 ? 255 : 0), width: size, height: size };
  const small = cropResize(board, { x: 0, y: 0, width: size, height: size }, 30);
  assert.ok(small.data.every((v) => Math.abs(v - 128) <= 3), `range ${Math.min(...small.data)}..${Math.max(...small.data)}`);
  const img = halves(400, 200);
  const shifted = cropResize(img, { x: -200, y: 0, width: 400, height: 200 }, { width: 40, height: 20 });
  assert.deepEqual(at(shifted, 5, 10), [0, 0, 0]);
  assert.deepEqual(at(shifted, 30, 10), [255, 0, 0]);
  const huge = cropResize(img, { x: -1e6, y: -1e6, width: 2e6, height: 2e6 }, 10);
  assert.ok(huge.data.every((v) => v <= 1), 'a tiny picture in a huge black box averages to black');
});

test('padImage adds a black border and keeps the picture in the middle', () => {
  const img = halves(4, 2);
  const padded = padImage(img, 3);
  assert.deepEqual([padded.width, padded.height], [10, 8]);
  assert.deepEqual(at(padded, 0, 0), [0, 0, 0]);
  assert.deepEqual(at(padded, 3, 3), [255, 0, 0]);
  assert.deepEqual(at(padded, 6, 4), [0, 0, 255]);
  assert.equal(padImage(img, 0), img);
});

test('encodeJpeg round-trips through decodeImage', async () => {
  const img = halves(32, 16);
  const jpeg = await encodeJpeg(img, 90);
  assert.deepEqual([...jpeg.subarray(0, 3)], [0xff, 0xd8, 0xff]);
  const back = await decodeImage(jpeg);
  assert.deepEqual([back.width, back.height], [32, 16]);
  assert.ok(at(back, 4, 8)[0]! > 200 && at(back, 28, 8)[2]! > 200);
  assert.throws(() => padImage({ data: new Uint8Array(5), width: 2, height: 2 }, 1), /expected 12/);
});
