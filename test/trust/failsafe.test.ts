import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { EXIT_FATAL, EXIT_STOP_HUNG, Lifecycle, type ProcessHooks } from '../../src/process/lifecycle.js';
import { GuardedRelay } from '../../src/process/relay-guard.js';
import { RelayDeadman } from '../../src/process/watchdog.js';
import { SimulatedOutput } from '../../src/gpio/simulated.js';
import type { Clock } from '../../src/core/clock.js';
import { memoryLogger } from '../audit/helpers.js';

/** A process stand-in: real EventEmitter semantics, exit() recorded instead of ending the test runner. */
function fakeProcess(): ProcessHooks & EventEmitter & { exits: number[] } {
  const emitter = new EventEmitter() as EventEmitter & { exits: number[]; exit(code: number): void };
  emitter.exits = [];
  emitter.exit = (code: number) => void emitter.exits.push(code);
  return emitter as ProcessHooks & EventEmitter & { exits: number[] };
}

function manualClock(start = 0): Clock & { advance(ms: number): void } {
  let now = start;
  let timers: Array<{ at: number; fn: () => void; live: boolean }> = [];
  return {
    now: () => now,
    setTimeout(fn, ms) {
      const timer = { at: now + ms, fn, live: true };
      timers.push(timer);
      return { cancel: () => void (timer.live = false) };
    },
    advance(ms) {
      now += ms;
      const due = timers.filter((t) => t.live && t.at <= now);
      timers = timers.filter((t) => !due.includes(t));
      for (const t of due) { t.live = false; t.fn(); }
    },
  };
}

test('install() de-energises the relay before anything else', () => {
  const { log } = memoryLogger();
  const relay = new SimulatedOutput('relay', log);
  relay.set(true);
  const proc = fakeProcess();
  const failsafe = new Lifecycle({ relay, log, proc }).install();
  assert.equal(relay.isOn(), false);
  failsafe.uninstall();
  assert.equal(proc.listenerCount('SIGTERM'), 0);
});

for (const event of ['uncaughtException', 'unhandledRejection'] as const) {
  test(`${event}: relay off synchronously, fatal log, non-zero exit`, () => {
    const { log, lines } = memoryLogger();
    const relay = new SimulatedOutput('relay', log);
    const proc = fakeProcess();
    const failsafe = new Lifecycle({ relay, log, proc }).install();
    relay.set(true);
    proc.emit(event, new Error('adapter exploded'), event === 'uncaughtException' ? 'uncaughtException' : undefined);
    assert.equal(relay.isOn(), false);
    assert.deepEqual(proc.exits, [EXIT_FATAL]);
    assert.ok(lines.some((l) => l.level === 60 && (l.err as { message?: string })?.message === 'adapter exploded'));
    failsafe.uninstall();
  });
}

test('a relay that throws on the way off is logged; the exit still happens', () => {
  const { log, lines } = memoryLogger();
  const proc = fakeProcess();
  let calls = 0;
  const failsafe = new Lifecycle({ relay: { set: () => { calls++; throw new Error('EIO'); } }, log, proc }).install();
  proc.emit('uncaughtException', new Error('boom'), 'uncaughtException');
  assert.ok(calls >= 2);
  assert.deepEqual(proc.exits, [EXIT_FATAL]);
  assert.ok(lines.some((l) => String(l.msg).includes('could not de-energise')));
  failsafe.uninstall();
});

test('SIGTERM: relay off at once; a graceful stop that hangs is ended by the hard-exit timer, relay off first', async () => {
  const { log, lines } = memoryLogger();
  const relay = new SimulatedOutput('relay', log);
  const proc = fakeProcess();
  const failsafe = new Lifecycle({ relay, log, proc, hardExitMs: 30 }).install();
  proc.on('SIGTERM', () => { /* the daemon's graceful stop, which never finishes */ });
  relay.set(true);
  proc.emit('SIGTERM');
  assert.equal(relay.isOn(), false, 'off before the graceful stop even starts');
  assert.deepEqual(proc.exits, []);
  relay.set(true); // something in the hung stop path re-energises it
  while (proc.exits.length === 0) await sleep(10);
  assert.deepEqual(proc.exits, [EXIT_STOP_HUNG]);
  assert.equal(relay.isOn(), false);
  assert.ok(lines.some((l) => String(l.msg).includes('graceful stop hung')));
  failsafe.uninstall();
});

test('SIGTERM with no graceful handler exits 0 like Node would; a second signal exits at once', () => {
  const { log } = memoryLogger();
  const relay = new SimulatedOutput('relay', log);
  const alone = fakeProcess();
  const first = new Lifecycle({ relay, log, proc: alone }).install();
  alone.emit('SIGINT');
  assert.deepEqual(alone.exits, [0]);
  first.uninstall();

  const proc = fakeProcess();
  const second = new Lifecycle({ relay, log, proc, hardExitMs: 60_000 }).install();
  proc.on('SIGTERM', () => undefined);
  proc.emit('SIGTERM');
  relay.set(true);
  proc.emit('SIGTERM');
  assert.equal(relay.isOn(), false);
  assert.deepEqual(proc.exits, [EXIT_STOP_HUNG]);
  second.uninstall();
});

test('the guarded relay enforces the hard cap whoever energised it, and set(false) disarms it', () => {
  const { log, lines } = memoryLogger();
  const clock = manualClock();
  const raw = new SimulatedOutput('relay', log);
  const relay = new GuardedRelay(raw, { maxOnMs: 1000, log, clock });
  relay.set(true);
  clock.advance(999);
  assert.equal(raw.isOn(), true);
  clock.advance(1);
  assert.equal(raw.isOn(), false);
  assert.ok(lines.some((l) => String(l.msg).includes('hard cap')));

  relay.set(true);
  relay.set(false);
  relay.set(true);
  clock.advance(600);
  assert.equal(raw.isOn(), true, 're-arming restarts the cap');
  relay.set(false);
  clock.advance(5000);
  assert.equal(raw.isOn(), false);
});

test('a relay whose energise write fails is switched back off and the error reaches the caller', () => {
  const { log } = memoryLogger();
  let level = false;
  const flaky = { name: 'relay', set(on: boolean) { if (on) throw new Error('EIO'); level = on; }, isOn: () => level, show() {}, async release() {} };
  const relay = new GuardedRelay(flaky, { maxOnMs: 1000, log, clock: manualClock() });
  assert.throws(() => relay.set(true), /EIO/);
  assert.equal(level, false);
});

/** A sysfs GPIO directory as onoff leaves it for an active-low relay: active_low=1, value = logical level. */
function sysfsRelay() {
  const root = mkdtempSync(join(tmpdir(), 'facegate-deadman-'));
  const dir = join(root, 'gpio539');
  mkdirSync(dir);
  writeFileSync(join(dir, 'active_low'), '1\n');
  writeFileSync(join(dir, 'value'), '0\n');
  const valuePath = join(dir, 'value');
  let on = false;
  const output = {
    name: 'relay',
    set(next: boolean) { writeFileSync(valuePath, next ? '1' : '0'); on = next; }, // like onoff's writeSync
    isOn: () => on,
    show() {},
    async release() {},
  };
  return { root, valuePath, output, read: () => readFileSync(valuePath, 'utf8').trim() };
}

test('the deadman switches the relay off in sysfs while the event loop is blocked', async () => {
  const { log, lines } = memoryLogger();
  const sysfs = sysfsRelay();
  const deadman = new RelayDeadman({ valuePath: sysfs.valuePath, activeLow: true }, 50);
  try {
    const relay = new GuardedRelay(sysfs.output, { maxOnMs: 100, log, deadman });
    relay.set(true);
    const energisedAt = Date.now();
    assert.equal(sysfs.read(), '1');
    // A runaway synchronous job: no timer on this thread can run until it ends.
    let offAt: number | null = null;
    while (Date.now() - energisedAt < 10_000) {
      if (sysfs.read() === '0') { offAt = Date.now(); break; }
    }
    assert.notEqual(offAt, null, 'the relay stayed energised while the event loop was blocked');
    assert.ok(offAt! - energisedAt >= 100, 'not before the cap');
    assert.equal(deadman.forcedCount(), 1);
    assert.equal(relay.isOn(), false, 'the guard learns that the deadman acted');
    assert.ok(lines.some((l) => String(l.msg).includes('forced off by the deadman')));
  } finally {
    await deadman.close();
    rmSync(sysfs.root, { recursive: true, force: true });
  }
});

test('a disarmed deadman does nothing: an ordinary pulse ends by the book', async () => {
  const { log } = memoryLogger();
  const sysfs = sysfsRelay();
  const deadman = new RelayDeadman({ valuePath: sysfs.valuePath, activeLow: true }, 0);
  try {
    // The cap is far above the 20 ms pulse so that a loaded machine cannot stretch the pulse past it (the
    // deadman would then fire legitimately); the wait after the pulse is longer than the cap.
    const relay = new GuardedRelay(sysfs.output, { maxOnMs: 600, log, deadman });
    relay.set(true);
    relay.set(false);
    relay.set(true);
    await sleep(20);
    relay.set(false);
    writeFileSync(sysfs.valuePath, '1'); // if the deadman were still armed, it would flip this back to 0
    await sleep(900);
    assert.equal(sysfs.read(), '1');
    assert.equal(deadman.forcedCount(), 0);
  } finally {
    await deadman.close();
    rmSync(sysfs.root, { recursive: true, force: true });
  }
});

test('process exit: the relay is written off when it is (or may be) on, and left alone after a clean release', () => {
  const { log } = memoryLogger();
  const proc = fakeProcess();
  let writes = 0;
  let on = true;
  const relay = { set: (next: boolean) => { writes++; on = next; }, isOn: () => on };
  const failsafe = new Lifecycle({ relay, log, proc }).install();
  const afterInstall = writes;
  relay.set(true);
  proc.emit('exit', 0);
  assert.equal(on, false);
  const afterExit = writes;
  proc.emit('exit', 0);
  assert.equal(writes, afterExit, 'already off: no write after release');
  assert.ok(afterExit > afterInstall);
  failsafe.uninstall();
});

test('the onoff relay path is synchronous: set(false) reaches writeSync before it returns', async () => {
  const { OnoffOutput } = await import('../../src/gpio/onoff.js');
  const written: number[] = [];
  class FakeGpio {
    constructor(_pin: number, _direction: string, private readonly options: { activeLow?: boolean } = {}) {}
    readSync(): 0 | 1 { return 0; }
    writeSync(value: 0 | 1) { written.push(value); }
    watch() {}
    unwatchAll() {}
    activeLow() { return this.options.activeLow === true; }
    unexport() {}
  }
  const { log } = memoryLogger();
  const relay = new OnoffOutput('relay', { bcm: 27, sysfs: 539, configKey: 'gpio.relay.pin', activeLow: true }, log,
    FakeGpio as unknown as ConstructorParameters<typeof OnoffOutput>[3]);
  const proc = fakeProcess();
  const failsafe = new Lifecycle({ relay, log, proc }).install();
  relay.set(true);
  written.length = 0;
  proc.emit('uncaughtException', new Error('boom'), 'uncaughtException');
  assert.deepEqual(written, [0], 'written synchronously inside the crash handler');
  assert.deepEqual(proc.exits, [EXIT_FATAL]);
  failsafe.uninstall();
});

test('guardDoorRelay on real pins aims the deadman at the relay\'s sysfs value file (Pi 5 numbering)', async () => {
  const { fakeSysfs, PI5 } = await import('../fixtures/fake-sysfs/tree.js');
  const { guardDoorRelay } = await import('../../src/process/relay-guard.js');
  const { loadConfig } = await import('../../src/config/index.js');
  const root = fakeSysfs(PI5);
  // As onoff leaves an exported active-low relay: kernel active_low=1, value holds the logical level.
  const gpioDir = join(root, 'gpio598'); // pinctrl-rp1 base 571 + BCM 27
  mkdirSync(gpioDir);
  writeFileSync(join(gpioDir, 'active_low'), '1\n');
  writeFileSync(join(gpioDir, 'value'), '1\n');
  const settings = loadConfig({ env: {}, overrides: { 'gpio.driver': 'onoff', 'gpio.sysfsRoot': root, 'gpio.relay.pin': 27, 'door.unlockMs': 50, 'door.maxUnlockMs': 50 } }).getProperties();
  const { log } = memoryLogger();
  let on = false;
  const relay = { name: 'relay', set(next: boolean) { on = next; }, isOn: () => on, show() {}, async release() {} };
  const guarded = guardDoorRelay(relay, settings, log);
  try {
    guarded.relay.set(true);
    const start = Date.now();
    while (readFileSync(join(gpioDir, 'value'), 'utf8').trim() !== '0' && Date.now() - start < 10_000) { /* loop blocked */ }
    assert.equal(readFileSync(join(gpioDir, 'value'), 'utf8').trim(), '0', 'the deadman wrote the OFF level');
    assert.equal(guarded.relay.isOn(), false);
  } finally {
    await guarded.close();
    rmSync(root, { recursive: true, force: true });
  }
});
