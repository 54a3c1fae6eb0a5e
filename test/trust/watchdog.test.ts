import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { Watchdog, cameraProbe, eventLoopProbe, verifierProbe, type HealthProbe } from '../../src/process/watchdog.js';
import type { CameraStatus } from '../../src/camera/camera.js';
import { memoryLogger } from '../audit/helpers.js';

function busyWait(ms: number) {
  const end = Date.now() + ms;
  while (Date.now() < end) { /* a runaway synchronous job */ }
}

function harness(probes: HealthProbe[]) {
  const pings: number[] = [];
  const unhealthy: string[][] = [];
  const { log, lines } = memoryLogger();
  const watchdog = new Watchdog({
    pinger: { notifyWatchdog: async () => void pings.push(Date.now()) },
    intervalMs: 10_000,
    probes,
    log,
    onUnhealthy: (reasons) => unhealthy.push(reasons),
  });
  return { watchdog, pings, unhealthy, lines };
}

test('pings only while camera and verifier are healthy, and calls onUnhealthy (relay off) when not', () => {
  let camera: CameraStatus = { driver: 'fake', healthy: true, fps: 10, lastFrameAgeMs: 50, restarts: 0 };
  let verifierHealthy = true;
  const { watchdog, pings, unhealthy, lines } = harness([
    cameraProbe({ status: () => camera }),
    verifierProbe({ info: () => ({ identities: 1, images: 3, model: 'm', backend: 'cpu', healthy: verifierHealthy }) }),
  ]);
  assert.equal(watchdog.tick(), true);
  assert.equal(pings.length, 1);

  camera = { ...camera, healthy: false, fps: 0, lastError: 'rpicam-vid exited' };
  assert.equal(watchdog.tick(), false);
  assert.equal(watchdog.tick(), false);
  assert.equal(pings.length, 1, 'no ping while the camera is down');
  assert.deepEqual(unhealthy, [['camera: rpicam-vid exited'], ['camera: rpicam-vid exited']]);
  assert.equal(lines.filter((l) => String(l.msg).startsWith('watchdog: unhealthy')).length, 1, 'logged once per new problem');

  camera = { ...camera, healthy: true };
  verifierHealthy = false;
  assert.equal(watchdog.tick(), false);
  assert.deepEqual(unhealthy.at(-1), ['verifier: model or gallery not usable']);

  verifierHealthy = true;
  assert.equal(watchdog.tick(), true);
  assert.equal(pings.length, 2);
  assert.equal(watchdog.missed, 3);
});

test('a probe that throws counts as unhealthy, not as a crash', () => {
  const { watchdog, pings, unhealthy } = harness([{ name: 'broken', check: () => { throw new Error('boom'); } }]);
  assert.equal(watchdog.tick(), false);
  assert.equal(pings.length, 0);
  assert.deepEqual(unhealthy, [['broken: check threw: boom']]);
});

test('an event loop stalled longer than the limit withholds the next ping', async () => {
  const probe = eventLoopProbe(200);
  const { watchdog, pings, unhealthy } = harness([probe]);
  try {
    await sleep(50);
    busyWait(700);
    await sleep(30); // let the histogram record the stalled interval
    assert.equal(watchdog.tick(), false);
    assert.match(unhealthy[0]![0]!, /^event loop: stalled for \d+ ms \(limit 200 ms\)$/);
    await sleep(100);
    assert.equal(watchdog.tick(), true, 'healthy once the loop runs freely again');
    assert.equal(pings.length, 1);
  } finally {
    watchdog.stop();
  }
});

test('start() pings on its interval and stop() ends it', async () => {
  const pings: number[] = [];
  const watchdog = new Watchdog({ pinger: { notifyWatchdog: async () => void pings.push(1) }, intervalMs: 10, probes: [], log: memoryLogger().log, onUnhealthy: () => undefined });
  watchdog.start();
  while (pings.length < 3) await sleep(10);
  watchdog.stop();
  const count = pings.length;
  await sleep(50);
  assert.equal(pings.length, count);
});
