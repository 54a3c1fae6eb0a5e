import { test } from 'node:test';
import assert from 'node:assert/strict';
import { augmentAll, augmentImage, drawAugmentation, SEED_AUGMENTATION, type AugmentDraw } from '../../src/training/augment.js';
import { seededRandom } from '../../src/random.js';
import type { RgbImage } from '../../src/image/image.js';

/** Left half a saturated orange, right half dark blue, with a gentle vertical gradient. */
function twoTone(width = 32, height = 24): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 3;
      const shade = Math.round((y / height) * 20);
      const [r, g, b] = x < width / 2 ? [230, 140, 40] : [20, 40, 120];
      data[o] = r! - shade;
      data[o + 1] = g! - shade;
      data[o + 2] = b! + shade;
    }
  }
  return { data, width, height };
}

const neutral: AugmentDraw = { brightness: 0, contrast: 1, flip: false, jpegQuality: 100, saturation: 1 };

function meanAbsDiff(a: Uint8Array, b: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i]! - b[i]!);
  return sum / a.length;
}

function channelStd(img: RgbImage, channel: number): number {
  const values: number[] = [];
  for (let i = channel; i < img.data.length; i += 3) values.push(img.data[i]!);
  const mean = values.reduce((s, v) => s + v, 0) / values.length;
  return Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / values.length);
}

test('draws stay inside the seed ranges and flips happen about half the time', () => {
  const random = seededRandom(3);
  let flips = 0;
  for (let i = 0; i < 2000; i++) {
    const d = drawAugmentation(random);
    assert.ok(Math.abs(d.brightness) <= SEED_AUGMENTATION.brightnessDelta);
    assert.ok(d.contrast >= 0.6 && d.contrast <= 1);
    assert.ok(Number.isInteger(d.jpegQuality) && d.jpegQuality >= 90 && d.jpegQuality <= 99);
    assert.ok(d.saturation >= 0.9 && d.saturation <= 1);
    if (d.flip) flips++;
  }
  assert.ok(flips > 900 && flips < 1100, `${flips} flips of 2000`);
});

test('a neutral draw keeps the picture (only JPEG at quality 100 touches it)', async () => {
  const img = twoTone();
  const out = await augmentImage(img, neutral);
  assert.deepEqual([out.width, out.height], [img.width, img.height]);
  assert.ok(meanAbsDiff(out.data, img.data) < 3);
});

test('flip mirrors left and right', async () => {
  const img = twoTone();
  const out = await augmentImage(img, { ...neutral, flip: true });
  const leftPixel = (im: RgbImage) => [im.data[0]!, im.data[1]!, im.data[2]!];
  const rightPixel = (im: RgbImage) => {
    const o = (im.width - 1) * 3;
    return [im.data[o]!, im.data[o + 1]!, im.data[o + 2]!];
  };
  leftPixel(out).forEach((v, c) => assert.ok(Math.abs(v - rightPixel(img)[c]!) < 12, `left ${leftPixel(out)} vs ${rightPixel(img)}`));
  rightPixel(out).forEach((v, c) => assert.ok(Math.abs(v - leftPixel(img)[c]!) < 12));
});

test('lower contrast narrows the spread, lower saturation moves colours toward grey, brightness shifts the mean', async () => {
  const img = twoTone();
  const lowContrast = await augmentImage(img, { ...neutral, contrast: 0.6 });
  assert.ok(channelStd(lowContrast, 0) < channelStd(img, 0) * 0.7);
  const desaturated = await augmentImage(img, { ...neutral, saturation: 0.9 });
  // Orange pixel: the blue channel (the minimum) rises toward the maximum, red (the value) stays.
  assert.ok(desaturated.data[2]! > img.data[2]! + 10, `${desaturated.data[2]} vs ${img.data[2]}`);
  assert.ok(Math.abs(desaturated.data[0]! - img.data[0]!) < 4);
  const brighter = await augmentImage(img, { ...neutral, brightness: 0.02 });
  const mean = (im: RgbImage) => im.data.reduce((s, v) => s + v, 0) / im.data.length;
  assert.ok(mean(brighter) - mean(img) > 3 && mean(brighter) - mean(img) < 7);
});

test('augmentAll makes 9 variants per image, reproducible from the seed and different for another seed', async () => {
  const images = [twoTone(), twoTone(24, 24)];
  const first = await augmentAll(images, 7);
  const again = await augmentAll(images, 7);
  const other = await augmentAll(images, 8);
  assert.equal(first.length, 18);
  assert.deepEqual([first[9]!.width, first[9]!.height], [24, 24]);
  first.forEach((img, i) => assert.deepEqual(img.data, again[i]!.data));
  assert.ok(first.some((img, i) => meanAbsDiff(img.data, other[i]!.data) > 1));
  assert.ok(meanAbsDiff(first[0]!.data, first[1]!.data) > 0.5, 'variants of one image differ from each other');
});
