import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SimulatedButton, SimulatedOutput } from '../../src/gpio/simulated.js';
import { createGpio } from '../../src/gpio/factory.js';
import { captureLog } from '../daemon/fakes.js';

test('a simulated output tracks its state and logs each change once', () => {
  const { log, lines } = captureLog();
  const relay = new SimulatedOutput('relay', log);
  assert.equal(relay.isOn(), false);
  relay.set(true);
  relay.set(true);
  assert.equal(relay.isOn(), true);
  relay.set(false);
  const changes = lines().filter((l) => l.output === 'relay');
  assert.deepEqual(changes.map((l) => l.on), [true, false]);
  assert.equal(changes[1]?.msg, 'relay off (simulated)');
});

test('LED patterns: blinking counts as lit, off is off', () => {
  const led = new SimulatedOutput('led-red', captureLog().log);
  led.show('blink-fast');
  assert.equal(led.isOn(), true);
  assert.equal(led.currentPattern(), 'blink-fast');
  led.show('off');
  assert.equal(led.isOn(), false);
});

test('the simulated button presses only while started', async () => {
  const button = new SimulatedButton();
  let presses = 0;
  button.onPress(() => presses++);
  button.press();
  await button.start();
  button.press();
  button.press();
  await button.stop();
  button.press();
  assert.equal(presses, 2);
});

test('the gpio factory builds a simulated set whose release de-energises the relay', async () => {
  const gpio = await createGpio({ driver: 'simulated' } as Parameters<typeof createGpio>[0], captureLog().log);
  gpio.relay.set(true);
  gpio.leds.green?.show('on');
  await gpio.release();
  assert.equal(gpio.relay.isOn(), false);
  assert.equal(gpio.leds.green?.isOn(), false);
});
