import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/index.js';
import { startDaemon, type ClosableSink } from '../../src/daemon/daemon.js';
import type { Command, CommandName, CommandPort } from '../../src/core/commands.js';
import type { AttemptEvent, StatusEvent } from '../../src/core/events.js';
import { FakeVerifier, captureLog, flush, result } from './fakes.js';

class FakeBridge implements ClosableSink {
  attempts: AttemptEvent[] = [];
  statuses: StatusEvent[] = [];
  closed = false;
  port!: CommandPort;
  /** A command as a transport hands it over after its checks (signed unless said otherwise). */
  send(name: CommandName, id: string, authenticated = true) {
    const command: Command = { name, id, authenticated, transport: 'mqtt' };
    return this.port.execute(command);
  }
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
    startMqtt: async (_s, _l, port) => {
      bridge.port = port;
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
    const reply = await bridge.send('verify', 'cmd-1');
    assert.ok(reply.ok && reply.attempt);
    const event = reply.attempt;
    assert.equal(event.decision, 'granted');
    assert.equal(event.commandId, 'cmd-1');
    assert.equal(daemon.relay.isOn(), true);

    let release!: () => void;
    verifier.verifyImpl = () => new Promise((resolve) => (release = () => resolve(result('denied'))));
    const first = bridge.send('verify', 'cmd-2');
    while (verifier.calls < 2) await flush();
    assert.deepEqual(await bridge.send('verify', 'cmd-3'), { ok: false, reason: 'the door is busy' });
    release();
    const denied = await first;
    assert.ok(denied.ok && denied.attempt?.decision === 'denied');
    // Issue 12: a later attempt never cuts short the pulse a grant started (it used to: 3 s became 2.3 s).
    assert.equal(daemon.relay.isOn(), true, 'a denial leaves the running pulse alone');

    const unlocked = await bridge.send('unlock', 'cmd-4');
    assert.equal(unlocked.ok, true);
    assert.equal(daemon.relay.isOn(), true);
    assert.ok(bridge.statuses.some((s) => s.relay === true));
  } finally {
    await cleanup();
  }
});

test('stop: relay off, bridge closed (offline), SIGUSR1 listener removed, "stopped: relay off" logged', async () => {
  const { daemon, bridge, signals, logs, cleanup } = await setup();
  await bridge.send('unlock', 'cmd-1');
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

test('commands through the port: reload republishes the state at once; lockout clear and unlock need authentication', async () => {
  const { daemon, bridge, verifier, cleanup } = await setup();
  try {
    let identities = 1;
    verifier.info = () => ({ identities, images: identities * 5, model: 'fake', backend: 'fake', healthy: true });
    verifier.reload = async () => ({ identities, images: identities * 5, model: 'fake' });
    identities = 4;
    const before = bridge.statuses.length;
    assert.deepEqual(await bridge.send('reload', 'reload-0001', false), { ok: true });
    assert.ok(bridge.statuses.length > before, 'state republished after the reload');
    assert.deepEqual(bridge.statuses.at(-1)?.gallery, { identities: 4, images: 20 });

    assert.deepEqual(await bridge.send('unlock', 'unlock-0001', false), { ok: false, reason: 'unsigned: remote unlock needs a signature' });
    assert.deepEqual(await bridge.send('lockout-clear', 'clear-0001', false), { ok: false, reason: 'unsigned: clearing a lockout needs a signature' });
    assert.equal(daemon.relay.isOn(), false);
    assert.deepEqual(await bridge.send('lockout-clear', 'clear-0002'), { ok: true });

    const unlocked = await bridge.send('unlock', 'unlock-0002');
    assert.ok(unlocked.ok && unlocked.attempt);
    assert.equal(unlocked.attempt.trigger, 'remote');
    assert.equal(unlocked.attempt.commandId, 'unlock-0002');
    assert.deepEqual(bridge.attempts.at(-1), unlocked.attempt, 'the remote unlock reached the sinks as an attempt');
  } finally {
    await cleanup();
  }
});
