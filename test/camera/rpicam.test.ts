import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PassThrough } from 'node:stream';
import sharp from 'sharp';
import { loadConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/log.js';
import type { Frame } from '../../src/camera/camera.js';
import { ProcessCamera, terminate } from '../../src/camera/process.js';
import { createRpicamCamera, resolveRpicamCommand, rpicamArgs } from '../../src/camera/rpicam.js';
import { repoRoot } from '../helpers/datasets.js';

const FAKE = resolve(repoRoot, 'test/fixtures/fake-rpicam-vid');

function cameraSettings(overrides: Record<string, unknown> = {}) {
  return loadConfig({
    env: {},
    overrides: { 'camera.driver': 'rpicam', 'camera.command': FAKE, 'camera.width': 160, 'camera.height': 120, 'camera.framerate': 20, ...overrides },
  }).getProperties().camera;
}

function capturingLogger() {
  const lines: string[] = [];
  const stream = new PassThrough();
  stream.on('data', (chunk: Buffer) => lines.push(...chunk.toString().split('\n').filter(Boolean)));
  return { logger: createLogger({ level: 'warn', destination: stream }), lines };
}

async function waitFor(what: string, predicate: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A ProcessCamera on the fake streamer in a given mode, recording every frame it delivers. */
function fakeCamera(mode: string, extraEnv: Record<string, string> = {}, overrides: Record<string, unknown> = {}) {
  const settings = cameraSettings(overrides);
  const delivered: Frame[] = [];
  const { logger, lines } = capturingLogger();
  const camera = new ProcessCamera({
    driver: 'rpicam',
    command: FAKE,
    args: rpicamArgs(settings),
    maxAgeMs: settings.maxAgeMs,
    restartMinMs: settings.restartMinMs,
    restartMaxMs: settings.restartMaxMs,
    logger,
    env: { ...process.env, FAKE_CAMERA_MODE: mode, FAKE_CAMERA_AFTER: '4', ...extraEnv },
    onFrame: (frame) => delivered.push(frame),
  });
  return { camera, delivered, lines };
}

test('rpicam-vid is spawned with the documented arguments and delivers fresh frames', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'facegate-rpicam-'));
  process.env.FAKE_CAMERA_ARGV = join(dir, 'argv.json');
  const camera = createRpicamCamera(cameraSettings({ 'camera.extraArgs': ['--rotation', '180'] }), createLogger({ level: 'silent' }));
  const startedAt = Date.now();
  try {
    await camera.start();
    await waitFor('three frames', () => (camera.status().fps ?? 0) > 0 && camera.status().lastFrameAgeMs !== null);
    const frame = await camera.grab();
    assert.equal(frame.source, 'rpicam');
    assert.ok(frame.capturedAt >= startedAt, 'a frame of this run');
    const meta = await sharp(frame.data).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ['jpeg', 160, 120]);
    const status = camera.status();
    assert.equal(status.healthy, true);
    assert.ok(status.fps > 0, `fps ${status.fps}`);
    assert.equal(status.restarts, 0);
    assert.deepEqual(JSON.parse(readFileSync(join(dir, 'argv.json'), 'utf8')), [
      '-t', '0', '--codec', 'mjpeg', '--nopreview', '--width', '160', '--height', '120', '--framerate', '20', '-o', '-', '--rotation', '180',
    ]);
  } finally {
    delete process.env.FAKE_CAMERA_ARGV;
    await camera.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  await assert.rejects(camera.grab(), /not started/);
});

test('a crash is logged with the stderr tail and the camera comes back, restart counted', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'facegate-rpicam-'));
  const { camera, delivered, lines } = fakeCamera('crash-once', { FAKE_CAMERA_MARKER: join(dir, 'crashed') }, { 'camera.restartMinMs': 100 });
  try {
    await camera.start();
    await waitFor('the restart', () => camera.status().restarts === 1);
    const before = delivered.length;
    await waitFor('frames after the restart', () => delivered.length >= before + 3);
    assert.equal(camera.status().restarts, 1);
    assert.equal(camera.status().healthy, true);
    await sharp((await camera.grab()).data).metadata();
    const warning = lines.map((l) => JSON.parse(l) as { msg: string; stderr: string }).find((l) => /exited with code 1/.test(l.msg));
    assert.ok(warning, `no restart warning in ${lines.join('\n')}`);
    assert.match(warning.stderr, /sensor timeout/);
  } finally {
    await camera.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('during a stall grab() fails clearly and status() turns unhealthy', async () => {
  const { camera } = fakeCamera('stall', {}, { 'camera.maxAgeMs': 300 });
  try {
    await camera.start();
    await waitFor('the stall', () => (camera.status().lastFrameAgeMs ?? 0) > 600);
    await assert.rejects(camera.grab(), /no frame for \d+ ms; fake-rpicam-vid stderr: fake camera: 160x120 @ 20 fps, mode stall/);
    const status = camera.status();
    assert.equal(status.healthy, false);
    assert.match(status.lastError ?? '', /no frame for/);
    assert.equal(status.restarts, 0);
  } finally {
    await camera.stop();
  }
});

for (const mode of ['garbage', 'truncated']) {
  test(`${mode} output never yields a corrupt frame`, async () => {
    const { camera, delivered } = fakeCamera(mode);
    try {
      await camera.start();
      await waitFor('12 frames', () => delivered.length >= 12);
    } finally {
      await camera.stop();
    }
    for (const frame of delivered) {
      const { width, height } = await sharp(frame.data, { failOn: 'truncated' }).stats().then(() => sharp(frame.data).metadata());
      assert.deepEqual([width, height], [160, 120]);
    }
  });
}

test('a missing capture program is reported with what to do', async () => {
  assert.equal(resolveRpicamCommand(cameraSettings({ 'camera.command': '/nonexistent/rpicam-vid' })), null);
  assert.throws(
    () => createRpicamCamera(cameraSettings({ 'camera.command': '/nonexistent/rpicam-vid' }), createLogger({ level: 'silent' })),
    /\/nonexistent\/rpicam-vid not found; install rpicam-apps .* or set camera\.command/,
  );
  assert.equal(resolveRpicamCommand(cameraSettings({ 'camera.command': null }), '/nonexistent'), null);
  const camera = new ProcessCamera({
    driver: 'rpicam', command: '/nonexistent/rpicam-vid', args: [], maxAgeMs: 200, restartMinMs: 5000, restartMaxMs: 5000,
    logger: createLogger({ level: 'silent' }),
  });
  try {
    await camera.start();
    await assert.rejects(camera.grab(), /not found \(set camera\.command or install it\)/);
    assert.equal(camera.status().healthy, false);
  } finally {
    await camera.stop();
  }
});

test('a program that keeps crashing is restarted with exponential backoff up to restartMaxMs', async () => {
  const { camera, lines } = fakeCamera('crash', { FAKE_CAMERA_AFTER: '1' }, { 'camera.restartMinMs': 50, 'camera.restartMaxMs': 200 });
  try {
    await camera.start();
    await waitFor('four restarts', () => camera.status().restarts >= 4);
  } finally {
    await camera.stop();
  }
  const delays = lines.map((l) => (JSON.parse(l) as { restartInMs?: number }).restartInMs).filter((d) => d !== undefined);
  assert.deepEqual(delays.slice(0, 4), [50, 100, 200, 200]);
  assert.match(camera.status().lastError ?? '', /exited with code 1/);
});

test('frames from a folder of JPEGs arrive byte for byte', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'facegate-frames-'));
  const originals: Buffer[] = [];
  for (const seed of [1, 2]) {
    const pixels = Buffer.alloc(160 * 120 * 3, 0);
    for (let i = 0; i < pixels.length; i++) pixels[i] = (i * seed * 2654435761) >>> 24;
    const jpeg = await sharp(pixels, { raw: { width: 160, height: 120, channels: 3 } }).jpeg().toBuffer();
    writeFileSync(join(dir, `${seed}.jpg`), jpeg);
    originals.push(jpeg);
  }
  const { camera, delivered } = fakeCamera('normal', { FAKE_CAMERA_FRAMES: dir });
  try {
    await camera.start();
    await waitFor('4 frames', () => delivered.length >= 4);
  } finally {
    await camera.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  for (const frame of delivered) assert.ok(originals.some((o) => o.equals(frame.data)));
});

test('rpicam-vid is preferred on PATH, libcamera-vid (Bullseye) is the fallback', (t) => {
  const bin = mkdtempSync(join(tmpdir(), 'facegate-path-'));
  t.after(() => rmSync(bin, { recursive: true, force: true }));
  const auto = cameraSettings({ 'camera.command': null });
  symlinkSync(FAKE, join(bin, 'libcamera-vid'));
  assert.equal(resolveRpicamCommand(auto, `/nonexistent:${bin}`), join(bin, 'libcamera-vid'));
  symlinkSync(FAKE, join(bin, 'rpicam-vid'));
  assert.equal(resolveRpicamCommand(auto, `/nonexistent:${bin}`), join(bin, 'rpicam-vid'));
});

test('stop escalates to SIGKILL when the program ignores SIGTERM', async () => {
  const child = spawn(process.execPath, ['-e', 'process.on("SIGTERM", () => {}); console.log("up"); setInterval(() => {}, 1000)'], { stdio: ['ignore', 'pipe', 'ignore'] });
  await new Promise((r) => child.stdout!.once('data', r));
  await terminate(child, 200);
  assert.equal(child.signalCode, 'SIGKILL');
});
