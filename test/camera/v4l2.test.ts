import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { loadConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/log.js';
import { createV4l2Camera, resolveFfmpegCommand, v4l2Args } from '../../src/camera/v4l2.js';
import { repoRoot } from '../helpers/datasets.js';

// The fake streamer also speaks ffmpeg's "-f v4l2 ... -f mjpeg -" argument form.
const FAKE = resolve(repoRoot, 'test/fixtures/fake-rpicam-vid');

function cameraSettings(overrides: Record<string, unknown> = {}) {
  return loadConfig({
    env: {},
    overrides: { 'camera.driver': 'v4l2', 'camera.command': FAKE, 'camera.device': '/dev/video2', 'camera.width': 320, 'camera.height': 240, 'camera.framerate': 15, ...overrides },
  }).getProperties().camera;
}

test('ffmpeg copies the webcam MJPEG to stdout without re-encoding', () => {
  assert.deepEqual(v4l2Args(cameraSettings()), [
    '-hide_banner', '-loglevel', 'error', '-f', 'v4l2', '-input_format', 'mjpeg', '-video_size', '320x240', '-framerate', '15',
    '-i', '/dev/video2', '-c', 'copy', '-f', 'mjpeg', '-',
  ]);
});

test('the v4l2 driver streams frames through the shared supervisor', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'facegate-v4l2-'));
  process.env.FAKE_CAMERA_ARGV = join(dir, 'argv.json');
  const camera = createV4l2Camera(cameraSettings(), createLogger({ level: 'silent' }));
  try {
    await camera.start();
    const frame = await waitForGrab(camera.grab.bind(camera));
    assert.equal(frame.source, 'v4l2');
    const meta = await sharp(frame.data).metadata();
    assert.deepEqual([meta.width, meta.height], [320, 240]);
    assert.equal(camera.status().driver, 'v4l2');
    assert.deepEqual(JSON.parse(readFileSync(join(dir, 'argv.json'), 'utf8')), v4l2Args(cameraSettings()));
  } finally {
    delete process.env.FAKE_CAMERA_ARGV;
    await camera.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a missing ffmpeg is reported with the install hint', () => {
  assert.equal(resolveFfmpegCommand(cameraSettings({ 'camera.command': null }), '/nonexistent'), null);
  assert.throws(() => createV4l2Camera(cameraSettings({ 'camera.command': '/nonexistent/ffmpeg' }), createLogger({ level: 'silent' })), /apt install ffmpeg.*camera\.command/);
});

/** The first grab can come before the program has started; retry until a frame arrives (or give up). */
async function waitForGrab<T>(grab: () => Promise<T>, attempts = 15): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await grab();
    } catch (error) {
      if (i >= attempts) throw error;
    }
  }
}
