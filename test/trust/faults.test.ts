import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createRpicamCamera } from '../../src/camera/rpicam.js';
import { systemClock } from '../../src/core/clock.js';
import { loadConfig, type Settings } from '../../src/config/index.js';
import { startDaemon } from '../../src/daemon/daemon.js';
import { Door } from '../../src/daemon/door.js';
import { GuardedRelay } from '../../src/process/relay-guard.js';
import { RelayDeadman } from '../../src/process/watchdog.js';
import type { AttemptEvent, EventSink } from '../../src/core/events.js';
import { simulatedGpio } from '../../src/gpio/factory.js';
import { SimulatedButton, SimulatedOutput } from '../../src/gpio/simulated.js';
import { repoRoot } from '../helpers/datasets.js';
import { memoryLogger } from '../audit/helpers.js';
import { CountingVerifier, InstantCamera, childPids } from './fakes.js';

// These tests use the real door with simulated GPIO and a model-free verifier: the model is irrelevant to how
// the door reacts to a stuck loop, a press storm or a dying camera.

function settingsWith(overrides: Record<string, unknown>): Settings {
  return loadConfig({ env: {}, overrides: { 'keyboard.enabled': false, 'mqtt.enabled': false, ...overrides } }).getProperties();
}

function collectingSink(): EventSink & { attempts: AttemptEvent[] } {
  const attempts: AttemptEvent[] = [];
  return { attempts, async attempt(e) { attempts.push(e); }, async status() {} };
}

function busyWait(ms: number) {
  const end = Date.now() + ms;
  while (Date.now() < end) { /* a runaway synchronous job on the event loop */ }
}

const noLeds = { green: null, red: null, busy: null };

test('a granted pulse ends at the first turn of the loop after a block, and the deadman acted during it', async () => {
  const { log } = memoryLogger();
  const settings = settingsWith({ 'door.unlockMs': 100, 'door.maxUnlockMs': 200, 'door.cooldownMs': 0 });
  const raw = new SimulatedOutput('relay', log);
  const deadman = new RelayDeadman(null, 50);
  const relay = new GuardedRelay(raw, { maxOnMs: settings.door.maxUnlockMs, log, deadman });
  const door = new Door({ settings, camera: new InstantCamera(), verifier: new CountingVerifier(), relay, leds: noLeds,
    sink: collectingSink(), clock: systemClock, log, newId: () => 'blocked-1' });
  try {
    door.start();
    const outcome = await door.trigger('button');
    assert.equal(outcome.accepted && outcome.event.decision, 'granted');
    assert.equal(raw.isOn(), true);
    busyWait(1000); // five times the hard cap
    assert.equal(deadman.forcedCount(), 1, 'the off-thread deadman fired while the loop was blocked');
    await sleep(0); // the first timers phase: the off-timer armed before energising is already due
    assert.equal(raw.isOn(), false);
    assert.equal(relay.isOn(), false);
  } finally {
    await door.stop();
    await deadman.close();
  }
});

test('a storm of 10,000 button edges in one second: one attempt in flight at a time, no crash, relay off after', async () => {
  const root = mkdtempSync(join(tmpdir(), 'facegate-storm-'));
  const { log } = memoryLogger();
  const settings = settingsWith({ 'paths.data': root, 'paths.state': join(root, 'state'), 'door.unlockMs': 20, 'door.cooldownMs': 0, 'log.level': 'warn' });
  const gpio = simulatedGpio(log);
  const camera = new InstantCamera();
  const verifier = new CountingVerifier(5);
  const daemon = await startDaemon(settings, log, {
    createGpio: async () => gpio, createCamera: async () => camera, createVerifier: async () => verifier,
  });
  try {
    const button = gpio.button as SimulatedButton;
    for (let batch = 0; batch < 100; batch++) {
      for (let i = 0; i < 100; i++) button.press();
      await sleep(10);
    }
    while (daemon.door.getPhase() !== 'idle') await sleep(10);
    assert.equal(verifier.maxInFlight, 1);
    assert.equal(camera.maxInFlight, 1);
    assert.ok(verifier.calls >= 1);
    assert.equal(verifier.calls + daemon.door.ignoredPresses, 10_000, 'every press either made the one attempt or was counted as refused');
    while (daemon.relay.isOn()) await sleep(10);
  } finally {
    await daemon.stop('test over');
    rmSync(root, { recursive: true, force: true });
  }
});

test('the camera process killed mid-grab: that attempt ends "error", the next one succeeds after the restart', async () => {
  const { log } = memoryLogger();
  const settings = settingsWith({
    'camera.driver': 'rpicam', 'camera.command': join(repoRoot, 'test/fixtures/fake-rpicam-vid'),
    'camera.width': 64, 'camera.height': 48, 'camera.framerate': 2, 'camera.maxAgeMs': 100,
    // Restart only after the capture timeout, so the killed grab cannot be rescued by the next process.
    'camera.restartMinMs': 1500, 'camera.restartMaxMs': 3000,
    'door.captureTimeoutMs': 800, 'door.cooldownMs': 0, 'door.unlockMs': 50,
  });
  const camera = createRpicamCamera(settings.camera, log);
  const sink = collectingSink();
  const door = new Door({ settings, camera, verifier: new CountingVerifier(), relay: new SimulatedOutput('relay', log), leds: noLeds,
    sink, clock: systemClock, log, newId: (() => { let n = 0; return () => `cam-${++n}`; })() });
  await camera.start();
  door.start();
  try {
    // Wait for a frame, then for it to go stale, so the next grab has to wait for the (dead) process.
    for (;;) {
      const age = camera.status().lastFrameAgeMs;
      if (age !== null && age > 120 && age < 300) break;
      await sleep(5);
    }
    const [pid] = childPids('fake-rpicam-vid');
    assert.ok(pid, 'the fake rpicam-vid is running');
    const attempt = door.trigger('button');
    process.kill(pid, 'SIGKILL');
    const killed = await attempt;
    assert.equal(killed.accepted && killed.event.decision, 'error');
    assert.match((killed.accepted && killed.event.reason) || '', /capture/);

    while (camera.status().restarts < 1 || !camera.status().healthy) await sleep(20);
    const next = await door.trigger('button');
    assert.equal(next.accepted && next.event.decision, 'granted', next.accepted ? next.event.reason : 'refused');
  } finally {
    await door.stop();
    await camera.stop();
  }
});
