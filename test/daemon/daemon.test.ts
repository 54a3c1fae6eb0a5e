import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/index.js';
import { startDaemon, type ClosableSink } from '../../src/daemon/daemon.js';
import type { CommandHandlers } from '../../src/mqtt/bridge.js';
import type { AttemptEvent, StatusEvent } from '../../src/core/events.js';
import { FakeVerifier, captureLog, flush, result } from './fakes.js';

class FakeBridge implements ClosableSink {
  attempts: AttemptEvent[] = [];
  statuses: StatusEvent[] = [];
  closed = false;
  handlers!: CommandHandlers;
  async attempt(event: AttemptEvent) {
    this.attempts.push(event);
  }
  async status(event: StatusEvent) {
    this.statuses.push(event);
  }
  async close() {
    this.closed = true;
  }
}

async function setup() {
  const root = await mkdtemp(join(tmpdir(), 'facegate-daemon-'));
  const settings = loadConfig({
    env: {},
    overrides: { 'paths.data': root, 'paths.state': join(root, 'state'), 'door.cooldownMs': 0, 'keyboard.enabled': false },
  }).getProperties();
  const logs = captureLog();
  const verifier = new FakeVerifier();
  const bridge = new FakeBridge();
  const signals = new EventEmitter();
  const daemon = await startDaemon(settings, logs.log, {
    createVerifier: async () => verifier,
    startMqtt: async (_s, _l, handlers) => {
      bridge.handlers = handlers;
      return bridge;
    },
    signals: signals as unknown as NodeJS.Process,
  });
  const cleanup = async () => {
    await daemon.stop('test over');
    await rm(root, { recursive: true, force: true });
  };
  return { root, settings, logs, verifier, bridge, signals, daemon, cleanup };
}

test('SIGUSR1 with an empty camera folder: an error attempt saying "no frame", published to every sink', async () => {
  const { daemon, bridge, signals, logs, cleanup } = await setup();
  try {
    assert.equal(daemon.healthy(), true);
    assert.ok(logs.lines().some((l) => /copy a photo of a face into/.test(String(l.msg))), 'first-run hint logged');
    signals.emit('SIGUSR1');
    while (bridge.attempts.length === 0) await flush();
    const [event] = bridge.attempts;
    assert.equal(event?.trigger, 'signal');
    assert.equal(event?.decision, 'error');
    assert.match(event?.reason ?? '', /no frame/);
    assert.equal(daemon.relay.isOn(), false);
    assert.ok(logs.lines().some((l) => l.event === 'attempt' && l.decision === 'error'));
  } finally {
    await cleanup();
  }
});

test('MQTT verify gets the attempt back; a refused one says why; unlock pulses the relay', async () => {
  const { root, daemon, bridge, verifier, cleanup } = await setup();
  try {
    await writeFile(join(root, 'camera', 'me.jpg'), 'jpeg-bytes');
    const event = await bridge.handlers.verify('cmd-1');
    assert.ok(!('refused' in event));
    assert.equal(event.decision, 'granted');
    assert.equal(event.commandId, 'cmd-1');
    assert.equal(daemon.relay.isOn(), true);

    let release!: () => void;
    verifier.verifyImpl = () => new Promise((resolve) => (release = () => resolve(result('denied'))));
    const first = bridge.handlers.verify('cmd-2');
    while (verifier.calls < 2) await flush();
    assert.deepEqual(await bridge.handlers.verify('cmd-3'), { refused: 'the door is busy' });
    release();
    const denied = await first;
    assert.ok(!('refused' in denied) && denied.decision === 'denied');
    assert.equal(daemon.relay.isOn(), false, 'a denial ends any pulse still running');

    assert.deepEqual(await bridge.handlers.unlock('cmd-4'), { ok: true });
    assert.equal(daemon.relay.isOn(), true);
    assert.ok(bridge.statuses.some((s) => s.relay === true));
  } finally {
    await cleanup();
  }
});

test('stop: relay off, bridge closed (offline), SIGUSR1 listener removed, "stopped: relay off" logged', async () => {
  const { daemon, bridge, signals, logs, cleanup } = await setup();
  await bridge.handlers.unlock('cmd-1');
  assert.equal(daemon.relay.isOn(), true);
  await cleanup();
  assert.equal(daemon.relay.isOn(), false);
  assert.equal(bridge.closed, true);
  assert.equal(signals.listenerCount('SIGUSR1'), 0);
  assert.equal(daemon.healthy(), false);
  assert.ok(logs.lines().some((l) => l.msg === 'stopped: relay off' && l.relay === 'off'));
});

test('a verifier that cannot load stops startup cleanly: the error surfaces, nothing is left running', async () => {
  const root = await mkdtemp(join(tmpdir(), 'facegate-daemon-'));
  const signals = new EventEmitter();
  try {
    const settings = loadConfig({ env: {}, overrides: { 'paths.data': root, 'mqtt.enabled': false } }).getProperties();
    await assert.rejects(
      startDaemon(settings, captureLog().log, {
        createVerifier: async () => {
          throw new Error('model not found: models/default/model.json');
        },
        signals: signals as unknown as NodeJS.Process,
      }),
      /model not found/,
    );
    assert.equal(signals.listenerCount('SIGUSR1'), 0);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('in a terminal, key v is a press and key q asks to quit', async () => {
  const root = await mkdtemp(join(tmpdir(), 'facegate-daemon-'));
  const terminal = Object.assign(new EventEmitter(), {
    isTTY: true, rawModes: [] as boolean[],
    setRawMode(mode: boolean) { terminal.rawModes.push(mode); }, setEncoding() {}, resume() {}, pause() {},
  });
  const settings = loadConfig({ env: {}, overrides: { 'paths.data': root, 'mqtt.enabled': false } }).getProperties();
  const verifier = new FakeVerifier();
  const daemon = await startDaemon(settings, captureLog().log, {
    createVerifier: async () => verifier, keyboardInput: terminal, signals: new EventEmitter() as unknown as NodeJS.Process,
  });
  try {
    await writeFile(join(root, 'camera', 'me.jpg'), 'jpeg-bytes');
    let quit = false;
    void daemon.quitRequested.then(() => (quit = true));
    terminal.emit('data', 'v');
    while (verifier.calls === 0) await flush();
    terminal.emit('data', 'q');
    await daemon.quitRequested;
    assert.equal(quit, true);
    assert.deepEqual(terminal.rawModes, [true]);
  } finally {
    await daemon.stop('test over');
    await rm(root, { recursive: true, force: true });
  }
  assert.deepEqual(terminal.rawModes, [true, false], 'stop leaves raw mode');
});
