import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crc32, deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { decodeImage, DEFAULT_MAX_INPUT_PIXELS, ImageDecodeError, shrinkImage } from '../../src/image/image.js';
import { loadConfig } from '../../src/config/index.js';

// issue 11 item 10: an image cannot stall the door by what its header declares.

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** A valid PNG header declaring width x height RGB, with a few KB of (mostly zero) image data: a decompression bomb. */
function bombPng(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  const rows = deflateSync(Buffer.alloc(64 * 1024));
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', rows), chunk('IEND', Buffer.alloc(0))]);
}

test('a small PNG declaring 16000x16000 px is refused from its header, naming the limit, before any decoding', async () => {
  const png = bombPng(16000, 16000);
  assert.ok(png.length < 40_000, `${png.length} bytes`);
  const rssBefore = process.memoryUsage().rss;
  await assert.rejects(decodeImage(png), (error: unknown) => {
    assert.ok(error instanceof ImageDecodeError);
    assert.match(error.message, /16000x16000 px \(256 MP\), over the 25 MP limit \(image\.maxPixels\)/);
    return true;
  });
  // Nothing near the 768 MB a full decode needs was allocated (a loose bound: this is not a timing test).
  assert.ok(process.memoryUsage().rss - rssBefore < 200 * 1024 * 1024);
});

test('the limit is a setting (image.maxPixels), and passes through decodeImage', async () => {
  assert.equal(loadConfig({ env: {} }).get('image.maxPixels'), DEFAULT_MAX_INPUT_PIXELS);
  const small = await sharp({ create: { width: 400, height: 300, channels: 3, background: '#808080' } }).png().toBuffer();
  await assert.rejects(decodeImage(small, { maxPixels: 100_000 }), /400x300 px/);
  assert.equal((await decodeImage(small, { maxPixels: 120_000 })).width, 400);
});

test('decoding keeps original pixels; shrinkImage downscales inside libvips, keeping the aspect ratio', async () => {
  const wide = await sharp({ create: { width: 3000, height: 1000, channels: 3, background: '#336699' } }).jpeg().toBuffer();
  const img = await decodeImage(wide);
  assert.deepEqual([img.width, img.height], [3000, 1000], 'boxes and landmarks stay in original pixels');
  const small = await shrinkImage(img, 1600);
  assert.deepEqual([small.width, small.height], [1600, 533]);
  assert.equal(small.data.length, small.width * small.height * 3);
  assert.equal(await shrinkImage(small, 1600), small, 'small enough: returned as it is');
  // decodeImage can also hand back a bounded size, shrunk in libvips while decoding.
  const bounded = await decodeImage(wide, { maxSide: 1024 });
  assert.deepEqual([bounded.width, bounded.height], [1024, 341]);
});
