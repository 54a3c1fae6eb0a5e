import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { loadConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/log.js';
import {
  OnoffButton, OnoffOutput, onoffGpio,
  type BinaryValue, type Direction, type Edge, type OnoffGpio, type OnoffGpioClass, type OnoffOptions,
} from '../../src/gpio/onoff.js';
import { fakeSysfs, PI5 } from '../fixtures/fake-sysfs/tree.js';

const log = createLogger({ level: 'silent' });

/**
 * Behaves like onoff on a kernel: active_low inverts value reads and writes, direction "high"/"low" set the raw
 * level and "out" means raw low, watchers hear a (debounced) edge only when its value matches the enabled edge.
 * `physical` records every raw level the pin took, from the moment of export.
 */
class FakeGpio implements OnoffGpio {
  static pins = new Map<number, FakeGpio>();
  static failures = new Map<number, string>();
  readonly physical: BinaryValue[] = [];
  readonly direction: Direction;
  readonly edge: Edge | undefined;
  readonly options: OnoffOptions;
  private listeners: Array<(err: Error | null | undefined, value: BinaryValue) => void> = [];
  exported = true;

  constructor(readonly gpio: number, direction: Direction, edgeOrOptions?: Edge | OnoffOptions, options?: OnoffOptions) {
    const code = FakeGpio.failures.get(gpio);
    if (code) throw Object.assign(new Error(`${code}: fake failure, write`), { code, path: '/sys/class/gpio/export' });
    this.direction = direction;
    this.edge = typeof edgeOrOptions === 'string' ? edgeOrOptions : undefined;
    this.options = (typeof edgeOrOptions === 'object' ? edgeOrOptions : options) ?? {};
    if (direction === 'high') this.physical.push(1);
    else if (direction === 'low' || direction === 'out') this.physical.push(0);
    else this.physical.push(1); // an input with its pull-up: not pressed
    FakeGpio.pins.set(gpio, this);
  }
  private get inverted(): boolean {
    return this.options.activeLow === true;
  }
  readSync(): BinaryValue {
    const raw = this.physical[this.physical.length - 1]!;
    return (this.inverted ? 1 - raw : raw) as BinaryValue;
  }
  writeSync(value: BinaryValue): void {
    assert.ok(this.exported, 'write after unexport');
    this.physical.push((this.inverted ? 1 - value : value) as BinaryValue);
  }
  watch(callback: (err: Error | null | undefined, value: BinaryValue) => void): void {
    this.listeners.push(callback);
  }
  unwatchAll(): void {
    this.listeners = [];
  }
  activeLow(): boolean {
    return this.inverted;
  }
  unexport(): void {
    this.exported = false;
  }
  /** The wire settles at `level`; onoff reports it when it matches the enabled edge. */
  settle(level: BinaryValue): void {
    this.physical.push(level);
    const rising = this.edge === 'both' || this.edge === 'rising';
    const falling = this.edge === 'both' || this.edge === 'falling';
    if ((level === 1 && rising) || (level === 0 && falling)) for (const l of [...this.listeners]) l(null, this.readSync());
  }
  /** A bounce: onoff saw the edge but the level is back where it was when the handler reads it. */
  bounce(reported: BinaryValue): void {
    for (const l of [...this.listeners]) l(null, reported);
  }
}
const Fake = FakeGpio as unknown as OnoffGpioClass;

test('an active-low relay is exported straight into OFF (raw high) and set(true) drives it low', () => {
  const relay = new OnoffOutput('relay', { bcm: 27, sysfs: 598, configKey: 'gpio.relay.pin', activeLow: true }, log, Fake);
  const pin = FakeGpio.pins.get(598)!;
  assert.equal(pin.direction, 'high', 'direction "out" would mean raw low: an energised relay at export');
  assert.deepEqual(pin.physical, [1]);
  assert.equal(pin.options.activeLow, true);
  relay.set(true);
  assert.equal(relay.isOn(), true);
  assert.deepEqual(pin.physical, [1, 0]);
  relay.set(false);
  assert.deepEqual(pin.physical, [1, 0, 1]);
});

test('an active-high relay starts raw low and release de-energises and unexports, twice safely', async () => {
  const relay = new OnoffOutput('relay', { bcm: 27, sysfs: 700, configKey: 'gpio.relay.pin', activeLow: false }, log, Fake);
  const pin = FakeGpio.pins.get(700)!;
  assert.equal(pin.direction, 'low');
  relay.set(true);
  assert.deepEqual(pin.physical, [0, 1]);
  await relay.release();
  await relay.release();
  assert.deepEqual(pin.physical, [0, 1, 0]);
  assert.equal(pin.exported, false);
  relay.set(true); // ignored after release, nothing written
  assert.deepEqual(pin.physical, [0, 1, 0]);
});

test('LED blink patterns toggle on timers and stop on release', async (t) => {
  t.mock.timers.enable({ apis: ['setInterval'] });
  const led = new OnoffOutput('led-red', { bcm: 23, sysfs: 594, configKey: 'gpio.leds.red', activeLow: false }, log, Fake);
  const pin = FakeGpio.pins.get(594)!;
  led.show('blink-fast');
  t.mock.timers.tick(120 * 4);
  assert.deepEqual(pin.physical, [0, 1, 0, 1, 0, 1]);
  led.show('blink-slow');
  t.mock.timers.tick(500);
  assert.deepEqual(pin.physical.slice(-2), [1, 0]);
  led.show('on');
  t.mock.timers.tick(5000);
  assert.equal(pin.physical.at(-1), 1);
  led.show('blink-fast');
  await led.release();
  const after = pin.physical.length;
  t.mock.timers.tick(5000);
  assert.equal(pin.physical.length, after, 'no writes after release');
  assert.equal(pin.physical.at(-1), 0);
});

test('an active-low button fires once per settled press, ignores bounces and releases', async () => {
  const button = new OnoffButton({ bcm: 17, sysfs: 588, configKey: 'gpio.button.pin', activeLow: true, debounceMs: 30 }, log, Fake);
  let presses = 0;
  button.onPress(() => presses++);
  await button.start();
  const pin = FakeGpio.pins.get(588)!;
  assert.deepEqual([pin.direction, pin.edge, pin.options.debounceTimeout], ['in', 'falling', 30]);
  pin.settle(0);
  assert.equal(presses, 1);
  pin.settle(1); // release: a rising edge, not enabled
  assert.equal(presses, 1);
  pin.bounce(0); // onoff reported low, but the pin reads high again
  assert.equal(presses, 1);
  pin.settle(0);
  assert.equal(presses, 2);
  await button.stop();
  assert.equal(pin.exported, false);
  pin.settle(1);
  pin.settle(0);
  assert.equal(presses, 2);
});

test('an active-high button listens for rising edges', async () => {
  const button = new OnoffButton({ bcm: 5, sysfs: 576, configKey: 'gpio.button.pin', activeLow: false, debounceMs: 0 }, log, Fake);
  let presses = 0;
  button.onPress(() => presses++);
  await button.start();
  const pin = FakeGpio.pins.get(576)!;
  assert.equal(pin.edge, 'rising');
  pin.settle(0);
  pin.settle(1);
  assert.equal(presses, 1);
  await button.stop();
});

test('onoffGpio resolves BCM pins through sysfs, opens the relay first, and explains export errors', async (t) => {
  const root = fakeSysfs(PI5);
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const settings = loadConfig({ env: {}, overrides: { 'gpio.driver': 'onoff', 'gpio.sysfsRoot': root, 'gpio.leds.busy': null } }).getProperties().gpio;
  FakeGpio.pins.clear();
  const gpio = onoffGpio(settings, log, Fake);
  assert.deepEqual([...FakeGpio.pins.keys()], [571 + 27, 571 + 22, 571 + 23]);
  assert.equal(gpio.leds.busy, null);
  await gpio.button.start();
  assert.ok(FakeGpio.pins.has(571 + 17));
  await gpio.release();
  assert.ok([...FakeGpio.pins.values()].every((p) => !p.exported));

  for (const [code, message] of [
    ['EACCES', /permission denied .* group "gpio"/],
    ['EINVAL', /refused to export gpio594.*gpio\.leds\.red/],
    ['EBUSY', /in use by another driver/],
  ] as const) {
    FakeGpio.pins.clear();
    FakeGpio.failures.set(594, code);
    assert.throws(() => onoffGpio(settings, log, Fake), message);
    assert.equal(FakeGpio.pins.get(598)?.exported, false, `the relay opened before the ${code} failure is released again`);
    assert.ok(FakeGpio.pins.get(598)?.physical.every((level) => level === 1), 'and it never left OFF (raw high)');
  }
  FakeGpio.failures.clear();
});
