import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { FolderCamera } from '../../src/camera/files.js';
import { FrameStore } from '../../src/camera/frame-store.js';
import { createRpicamCamera } from '../../src/camera/rpicam.js';
import { loadConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/log.js';
import { captureLog } from '../daemon/fakes.js';
import { repoRoot } from '../helpers/datasets.js';

const noError = (waited: number) => new Error(`no frame for ${waited} ms`);

test('FrameStore.burst: the fresh frame, then each new frame once, up to count', async () => {
  const store = new FrameStore(500);
  store.begin();
  store.put(Buffer.from('a'), 't');
  const burst = store.burst({ count: 3, durationMs: 2000 }, undefined, noError);
  setTimeout(() => store.put(Buffer.from('b'), 't'), 20);
  setTimeout(() => store.put(Buffer.from('c'), 't'), 40);
  setTimeout(() => store.put(Buffer.from('d'), 't'), 60);
  const frames = await burst;
  assert.deepEqual(frames.map((f) => f.data.toString()), ['a', 'b', 'c']);
});

test('FrameStore.burst: a stream that stalls or a short duration ends the burst early with the frames so far', async () => {
  const store = new FrameStore(100);
  store.begin();
  store.put(Buffer.from('a'), 't');
  setTimeout(() => store.put(Buffer.from('b'), 't'), 10);
  const stalled = await store.burst({ count: 5, durationMs: 5000 }, undefined, noError);
  assert.deepEqual(stalled.map((f) => f.data.toString()), ['a', 'b'], 'stalled: no frame within maxAgeMs');
  store.put(Buffer.from('c'), 't');
  const short = await store.burst({ count: 5, durationMs: 1 }, undefined, noError);
  assert.deepEqual(short.map((f) => f.data.toString()), ['c']);
  const aborted = new AbortController();
  const pending = store.burst({ count: 3, durationMs: 5000 }, aborted.signal, noError);
  setTimeout(() => aborted.abort(new Error('attempt aborted')), 10);
  await assert.rejects(pending, /attempt aborted/);
  store.close(new Error('camera stopped'));
  await assert.rejects(store.burst({ count: 2, durationMs: 100 }, undefined, noError), /camera stopped/);
});

test('rpicam (fake rpicam-vid at 10 fps): a burst of 5 distinct consecutive frames takes about 4 frame intervals', async (t) => {
  const settings = loadConfig({
    env: {},
    overrides: { 'camera.driver': 'rpicam', 'camera.command': resolve(repoRoot, 'test/fixtures/fake-rpicam-vid'), 'camera.width': 64, 'camera.height': 48, 'camera.framerate': 10 },
  }).getProperties().camera;
  const camera = createRpicamCamera(settings, createLogger({ level: 'silent' }));
  await camera.start();
  try {
    await camera.grab();
    const started = Date.now();
    const frames = await camera.burst({ count: 5, durationMs: 2000 });
    const tookMs = Date.now() - started;
    assert.equal(frames.length, 5);
    for (let i = 1; i < frames.length; i++) assert.ok(frames[i]!.capturedAt >= frames[i - 1]!.capturedAt);
    assert.equal(new Set(frames).size, 5, 'no frame twice');
    t.diagnostic(`burst of 5 at 10 fps took ${tookMs} ms (expected ~400)`);
    const capped = await camera.burst({ count: 50, durationMs: 250 });
    assert.ok(capped.length >= 1 && capped.length < 50, `durationMs caps the burst (${capped.length} frames)`);
  } finally {
    await camera.stop();
  }
});

test('folder camera: a burst is the newest images in name order; one photo is a burst of one', async () => {
  const root = await mkdtemp(join(tmpdir(), 'facegate-burst-'));
  try {
    const camera = new FolderCamera(root, captureLog().log);
    await camera.start();
    await assert.rejects(camera.burst({ count: 3, durationMs: 100 }), /holds no image/);
    await writeFile(join(root, 'old.jpg'), 'old');
    await utimes(join(root, 'old.jpg'), new Date(1000), new Date(1000));
    assert.deepEqual((await camera.burst({ count: 3, durationMs: 100 })).map((f) => f.data.toString()), ['old']);
    for (const name of ['002.jpg', '000.jpg', '001.jpg']) await writeFile(join(root, name), name);
    const frames = await camera.burst({ count: 3, durationMs: 100 });
    assert.deepEqual(frames.map((f) => f.data.toString()), ['000.jpg', '001.jpg', '002.jpg']);
    await camera.stop();
    await assert.rejects(camera.burst({ count: 1, durationMs: 1 }), /not started/);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
