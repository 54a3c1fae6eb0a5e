import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Door } from '../../src/daemon/door.js';
import type { VerifyResult } from '../../src/core/types.js';
import { FakeCamera, FakeOutput, FakeVerifier, ManualClock, RecordingSink, captureLog, result } from './fakes.js';

const door = { unlockMs: 3000, maxUnlockMs: 10000, cooldownMs: 0, resultMs: 3000, captureTimeoutMs: 1000, verifyTimeoutMs: 5000 };
const security = { maxFailures: 3, windowMs: 60000, lockoutMs: 300000 };

function rig(liveness: { mode: string; burstFrames: number; warning?: string }) {
  const clock = new ManualClock();
  const camera = new FakeCamera();
  let n = 0;
  camera.grabImpl = async () => ({ data: Buffer.from(`frame${n++}`), capturedAt: 0, source: 'fake' });
  const verifier = new FakeVerifier();
  verifier.livenessStatus = { ...liveness, burstDurationMs: 800 };
  const relay = new FakeOutput('relay', clock);
  const leds = { green: new FakeOutput('green'), red: new FakeOutput('red'), busy: new FakeOutput('busy') };
  const sink = new RecordingSink();
  let id = 0;
  const d = new Door({ settings: { door, security }, camera, verifier, relay, leds, sink, clock, log: captureLog().log, newId: () => `a${++id}` });
  d.start();
  return { d, camera, verifier, relay, leds, sink };
}

const spoof = (): VerifyResult => ({
  ...result('spoof', null, 'liveness (burst): the face moves as one flat plane'),
  liveness: { mode: 'burst', passed: false, scores: { parallax: 0.01, change: 20, score: 0.33 }, reason: 'the face moves as one flat plane' },
});

test('with burst liveness the door captures a burst and hands the frames after the press frame to the verifier', async () => {
  const { d, camera, verifier } = rig({ mode: 'burst', burstFrames: 5 });
  const outcome = await d.trigger('button');
  assert.ok(outcome.accepted);
  assert.equal(camera.bursts, 1);
  assert.equal(camera.grabs, 5);
  assert.deepEqual(verifier.lastBurst.map(String), ['frame1', 'frame2', 'frame3', 'frame4']);
});

test('liveness off: one grab, no burst (the folder camera default)', async () => {
  const { d, camera, verifier } = rig({ mode: 'off', burstFrames: 1 });
  await d.trigger('button');
  assert.equal(camera.bursts, 0);
  assert.equal(camera.grabs, 1);
  assert.deepEqual(verifier.lastBurst, []);
});

test('a spoof keeps the relay off, blinks red slowly, carries the liveness scores and counts towards the lockout', async () => {
  const { d, verifier, relay, leds, sink } = rig({ mode: 'burst', burstFrames: 3 });
  verifier.verifyImpl = async () => spoof();
  for (let i = 0; i < 2; i++) {
    const outcome = await d.trigger('button');
    assert.ok(outcome.accepted);
    assert.equal(outcome.event.decision, 'spoof');
    assert.equal(relay.isOn(), false);
    assert.equal(leds.red.lastPattern(), 'blink-slow');
    assert.deepEqual(outcome.event.liveness, spoof().liveness);
    assert.match(outcome.event.reason!, /flat plane/);
  }
  assert.equal(d.mode(), 'idle');
  // Spoofs and denials count together: the third failure of either kind locks the door.
  verifier.verifyImpl = async () => result('denied', 'bob');
  await d.trigger('button');
  assert.equal(d.mode(), 'locked_out');
  assert.equal(leds.red.lastPattern(), 'on', 'denied stays steady red');
  assert.deepEqual(sink.attempts.map((a) => a.decision), ['spoof', 'spoof', 'denied']);
});

test('the state carries the liveness mode and the folder camera warning', async () => {
  const warning = 'liveness is OFF: the folder camera gives one still image';
  const { d, sink } = rig({ mode: 'off', burstFrames: 1, warning });
  assert.deepEqual(d.status().liveness, { mode: 'off', warning });
  assert.deepEqual(sink.statuses.at(-1)?.liveness, { mode: 'off', warning });
  assert.deepEqual(rig({ mode: 'burst', burstFrames: 5 }).d.status().liveness, { mode: 'burst' });
});

test('the daemon says loudly at start that the folder camera cannot check liveness', async () => {
  const { mkdtemp, rm } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { EventEmitter } = await import('node:events');
  const { loadConfig } = await import('../../src/config/index.js');
  const { startDaemon } = await import('../../src/daemon/daemon.js');
  const { resolveLiveness } = await import('../../src/face/liveness/mode.js');
  const root = await mkdtemp(join(tmpdir(), 'facegate-liveness-warn-'));
  const settings = loadConfig({ env: {}, overrides: { 'paths.data': root, 'paths.state': join(root, 'state'), 'keyboard.enabled': false, 'mqtt.enabled': false } }).getProperties();
  const verifier = new FakeVerifier();
  verifier.livenessStatus = resolveLiveness(settings);
  const logs = captureLog();
  const daemon = await startDaemon(settings, logs.log, { createVerifier: async () => verifier, signals: new EventEmitter() as unknown as NodeJS.Process });
  try {
    const line = logs.lines().find((l) => /^!!! liveness is OFF: the folder camera/.test(String(l.msg)));
    assert.ok(line, 'warning logged at start');
    assert.equal(line.level, 40, 'at warn level');
    assert.equal(daemon.door.status().liveness.mode, 'off');
    assert.match(daemon.door.status().liveness.warning!, /photo of an enrolled person opens the door/);
  } finally {
    await daemon.stop('test over');
    await rm(root, { recursive: true, force: true });
  }
});
