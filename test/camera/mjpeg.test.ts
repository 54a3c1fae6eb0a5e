import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { FrameStore, JpegFrameSplitter } from '../../src/camera/mjpeg.js';
import { seededRandom as rng } from '../../src/random.js';

async function jpeg(width: number, height: number, seed: number): Promise<Buffer> {
  const random = rng(seed);
  const pixels = Buffer.alloc(width * height * 3);
  for (let i = 0; i < pixels.length; i++) pixels[i] = Math.floor(random() * 256);
  return sharp(pixels, { raw: { width, height, channels: 3 } }).jpeg({ quality: 80 }).toBuffer();
}

function chop(stream: Buffer, random: () => number, maxChunk: number): Buffer[] {
  const chunks: Buffer[] = [];
  for (let offset = 0; offset < stream.length; ) {
    const size = 1 + Math.floor(random() * maxChunk);
    chunks.push(stream.subarray(offset, offset + size));
    offset += size;
  }
  return chunks;
}

function garbage(random: () => number, length: number): Buffer {
  const bytes = Buffer.alloc(length);
  for (let i = 0; i < length; i++) bytes[i] = Math.floor(random() * 256);
  return bytes;
}

function collect(options?: { maxFrameBytes?: number }) {
  const frames: Buffer[] = [];
  const splitter = new JpegFrameSplitter((f) => frames.push(f), options);
  return { frames, splitter };
}

test('frames survive random chunking with garbage and stray markers between them', async () => {
  const originals = await Promise.all([0, 1, 2, 3, 4, 5].map((i) => jpeg(48 + i * 8, 40, i + 1)));
  for (const seed of [11, 12, 13, 14, 15]) {
    const random = rng(seed);
    const parts: Buffer[] = [garbage(random, 100)];
    for (const frame of originals) {
      parts.push(frame, garbage(random, Math.floor(random() * 300)), Buffer.from([0xff, 0xd8, 0x00, 0xff, 0xd9]));
    }
    const { frames, splitter } = collect();
    for (const chunk of chop(Buffer.concat(parts), random, 700)) splitter.push(chunk);
    assert.equal(frames.length, originals.length, `seed ${seed}`);
    frames.forEach((frame, i) => assert.ok(frame.equals(originals[i]!), `frame ${i} differs (seed ${seed})`));
  }
});

test('a stream fed one byte at a time splits markers across every boundary', async () => {
  const originals = [await jpeg(32, 32, 7), await jpeg(40, 24, 8)];
  const { frames, splitter } = collect();
  const stream = Buffer.concat(originals);
  for (let i = 0; i < stream.length; i++) splitter.push(stream.subarray(i, i + 1));
  assert.deepEqual(frames.map((f) => f.length), originals.map((f) => f.length));
  assert.ok(frames[1]!.equals(originals[1]!));
});

test('a frame cut short by the next SOI is dropped, never emitted', async () => {
  const whole = await jpeg(64, 48, 3);
  const next = await jpeg(64, 48, 4);
  for (const cut of [3, 20, Math.floor(whole.length / 2), whole.length - 3]) {
    const { frames, splitter } = collect();
    splitter.push(Buffer.concat([whole.subarray(0, cut), next]));
    assert.equal(frames.length, 1, `cut at ${cut}`);
    assert.ok(frames[0]!.equals(next));
    assert.ok(splitter.stats.dropped >= 1);
    await sharp(frames[0]!).stats(); // decodes
  }
});

test('a frame cut anywhere in its header never fuses with the next frame into a corrupt one', async () => {
  // Same size and settings, so the two headers have the same shape: the case where skipping a cut segment by
  // its length lands on a plausible marker inside the next frame.
  const cut = await sharp({ create: { width: 32, height: 24, channels: 3, background: { r: 250, g: 10, b: 10 } } }).jpeg().toBuffer();
  const next = await sharp({ create: { width: 32, height: 24, channels: 3, background: { r: 10, g: 10, b: 250 } } }).jpeg().toBuffer();
  const headerEnd = next.indexOf(Buffer.from([0xff, 0xda])) + 12;
  let fused = 0; // frames carrying a prefix of the cut one: allowed only if they decode as the next image
  for (let k = 3; k < headerEnd; k++) {
    const { frames, splitter } = collect();
    splitter.push(Buffer.concat([cut.subarray(0, k), next]));
    assert.equal(frames.length, 1, `cut at ${k}`);
    if (frames[0]!.equals(next)) continue;
    fused++;
    const { channels } = await sharp(frames[0]!).stats();
    assert.ok(channels[2]!.mean > 200 && channels[0]!.mean < 50, `cut at ${k}: the frame shows the next image`);
  }
  assert.ok(fused < 5, `${fused} fused frames`);
});

test('an embedded EXIF thumbnail (a whole JPEG inside APP1) does not end the frame early', async () => {
  const thumbnail = await jpeg(16, 16, 9);
  const main = await jpeg(64, 64, 10);
  const payload = Buffer.concat([Buffer.from('Exif\0\0'), thumbnail]);
  const app1 = Buffer.alloc(4);
  app1.writeUInt16BE(0xffe1, 0);
  app1.writeUInt16BE(payload.length + 2, 2);
  const withThumbnail = Buffer.concat([main.subarray(0, 2), app1, payload, main.subarray(2)]);
  const { frames, splitter } = collect();
  for (const chunk of chop(withThumbnail, rng(5), 64)) splitter.push(chunk);
  assert.equal(frames.length, 1);
  assert.ok(frames[0]!.equals(withThumbnail));
  const meta = await sharp(frames[0]!).metadata();
  assert.equal(meta.width, 64);
});

test('a frame larger than the limit is dropped and the stream resynchronises', async () => {
  const big = await jpeg(200, 200, 21);
  const small = await jpeg(16, 16, 22);
  const { frames, splitter } = collect({ maxFrameBytes: Math.floor(big.length / 2) });
  for (const chunk of chop(Buffer.concat([small, big, small]), rng(6), 500)) splitter.push(chunk);
  assert.deepEqual(frames.map((f) => f.length), [small.length, small.length]);
  assert.equal(splitter.stats.dropped, 1);
});

test('pure garbage yields nothing and keeps no more than one byte', () => {
  const { frames, splitter } = collect();
  const random = rng(99);
  for (let i = 0; i < 50; i++) {
    const junk = garbage(random, 1000);
    junk.forEach((b, j) => {
      if (b === 0xff && junk[j + 1] === 0xd8) junk[j + 1] = 0;
    });
    splitter.push(junk);
  }
  assert.equal(frames.length, 0);
  assert.ok(splitter.stats.discardedBytes >= 49_999);
});

test('FrameStore: fps from frame intervals, age of the newest frame, 0 fps once stalled', (t) => {
  t.mock.timers.enable({ apis: ['Date', 'setTimeout'], now: 1_000_000 });
  const store = new FrameStore(1000);
  store.begin();
  t.mock.timers.tick(1500); // camera start-up: must not dilute the rate
  for (let i = 0; i < 50; i++) {
    store.put(Buffer.from([i]), 'test');
    t.mock.timers.tick(100);
  }
  assert.equal(store.fps(), 10); // 100 ms after the newest frame is the normal wait for the next one
  assert.equal(store.lastFrameAgeMs(), 100);
  t.mock.timers.tick(1000);
  assert.equal(store.lastFrameAgeMs(), 1100);
  assert.ok(store.fps() < 9 && store.fps() > 0, 'a stall pulls the rate down at once');
  t.mock.timers.tick(3000);
  assert.equal(store.fps(), 0);
});

test('FrameStore: fresh() returns a fresh frame at once, waits for the next, and rejects after maxAgeMs', async (t) => {
  t.mock.timers.enable({ apis: ['Date', 'setTimeout'], now: 5_000_000 });
  const store = new FrameStore(500);
  store.begin();
  store.put(Buffer.from('a'), 'test');
  assert.equal((await store.fresh(undefined, () => new Error('x'))).data.toString(), 'a');
  t.mock.timers.tick(600);
  const waiting = store.fresh(undefined, () => new Error('x'));
  store.put(Buffer.from('b'), 'test');
  assert.equal((await waiting).data.toString(), 'b');
  t.mock.timers.tick(600);
  const stale = store.fresh(undefined, (waited) => new Error(`no frame, waited ${waited} ms`));
  t.mock.timers.tick(500);
  await assert.rejects(stale, /no frame, waited 500 ms/);
  const aborted = new AbortController();
  const pending = store.fresh(aborted.signal, () => new Error('x'));
  aborted.abort(new Error('door gave up'));
  await assert.rejects(pending, /door gave up/);
  const closing = store.fresh(undefined, () => new Error('x'));
  store.close(new Error('camera stopped'));
  await assert.rejects(closing, /camera stopped/);
});
