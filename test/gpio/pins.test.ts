import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { findSocChip, resolvePins, sysfsNumber } from '../../src/gpio/pins.js';
import { fakeSysfs, PI4, PI5 } from '../fixtures/fake-sysfs/tree.js';

test('Pi 5: BCM pins resolve on pinctrl-rp1 at base 571, not on the first chip', (t) => {
  const root = fakeSysfs(PI5);
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const { chip, numbers } = resolvePins(root, { button: 17, relay: 27, led: null });
  assert.equal(chip.label, 'pinctrl-rp1');
  assert.equal(chip.path, join(root, 'gpiochip571'));
  assert.deepEqual(numbers, { button: 588, relay: 598, led: null });
});

test('Pi 4 with kernel 6.6: base 512 (and 522 when another chip registered first)', (t) => {
  const root = fakeSysfs(PI4);
  const shifted = fakeSysfs([{ label: 'brcmvirt-gpio', base: 512, ngpio: 2 }, { label: 'pinctrl-bcm2711', base: 522, ngpio: 58 }]);
  t.after(() => [root, shifted].forEach((r) => rmSync(r, { recursive: true, force: true })));
  assert.equal(sysfsNumber(findSocChip(root), 17), 529);
  assert.equal(sysfsNumber(findSocChip(shifted), 17), 539);
});

test('older kernels: pinctrl-bcm2835 at base 0 maps BCM n to n', (t) => {
  const root = fakeSysfs([{ label: 'pinctrl-bcm2835', base: 0, ngpio: 54 }]);
  t.after(() => rmSync(root, { recursive: true, force: true }));
  assert.equal(sysfsNumber(findSocChip(root), 4), 4);
});

test('missing sysfs, foreign boards and out-of-range pins fail with what to do', (t) => {
  assert.throws(() => findSocChip('/nonexistent/sys/class/gpio'), /GPIO sysfs not found at \/nonexistent.*CONFIG_GPIO_SYSFS.*gpio\.sysfsRoot/);
  const foreign = fakeSysfs([{ label: 'gpio-mockup-A', base: 0, ngpio: 8 }]);
  t.after(() => rmSync(foreign, { recursive: true, force: true }));
  assert.throws(() => findSocChip(foreign), /no Raspberry Pi GPIO controller .*found gpio-mockup-A@0.*simulated/);
  const pi5 = fakeSysfs(PI5);
  t.after(() => rmSync(pi5, { recursive: true, force: true }));
  assert.throws(() => sysfsNumber(findSocChip(pi5), 54), /BCM 54 is not a line of pinctrl-rp1 \(it has 54 lines\)/);
});
