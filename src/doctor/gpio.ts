import { accessSync, constants, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Settings } from '../config/index.js';
import { loadOnoff, OnoffLoadError } from '../gpio/onoff.js';
import { resolvePins } from '../gpio/pins.js';
import { fail, messageOf, pass, skip, type CheckResult } from './types.js';

/**
 * onoff and its native addon (epoll) really load in this Node. Without it doctor passed while `run` then
 * failed at every start: after a Node major upgrade the addon is built for the old ABI.
 */
export function gpioDriverCheck(gpio: Settings['gpio'], load: () => unknown = loadOnoff): CheckResult {
  const name = 'gpio-driver';
  if (gpio.driver !== 'onoff') return skip(name, `gpio.driver is "${gpio.driver}": onoff not needed`);
  try {
    load();
  } catch (error) {
    if (error instanceof OnoffLoadError) return fail(name, error.problems[0]!.reason.replace(/; fix: .*$/, ''), error.fix, { kind: error.kind });
    return fail(name, `onoff cannot load: ${messageOf(error)}`, 'run npm rebuild in the facegate folder');
  }
  return pass(name, `onoff and its epoll addon load in Node ${process.versions.node} (${process.arch}, module version ${process.versions.modules})`);
}

/** The sysfs GPIO interface exists and this user may export pins. */
export function gpioAccessCheck(gpio: Settings['gpio']): CheckResult {
  const name = 'gpio-access';
  if (gpio.driver !== 'onoff') return skip(name, `gpio.driver is "${gpio.driver}": no pins used`);
  if (!existsSync(gpio.sysfsRoot)) {
    return fail(name, `${gpio.sysfsRoot} does not exist`, 'the kernel needs CONFIG_GPIO_SYSFS (Raspberry Pi OS has it); or set gpio.driver "simulated"');
  }
  const exportFile = join(gpio.sysfsRoot, 'export');
  try {
    accessSync(exportFile, constants.W_OK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return fail(name, `${exportFile}: ${code ?? messageOf(error)}`, 'add the user to group "gpio": sudo usermod -aG gpio $USER, then log in again');
  }
  return pass(name, `${exportFile} is writable`);
}

/** Every configured BCM pin maps to a sysfs number on the SoC's gpiochip. */
export function gpioPinsCheck(gpio: Settings['gpio']): CheckResult {
  const name = 'gpio-pins';
  if (gpio.driver !== 'onoff') return skip(name, `gpio.driver is "${gpio.driver}"`);
  try {
    const { chip, numbers } = resolvePins(gpio.sysfsRoot, {
      button: gpio.button.pin,
      relay: gpio.relay.pin,
      green: gpio.leds.green,
      red: gpio.leds.red,
      busy: gpio.leds.busy,
    });
    const bcm: Record<string, number | null> = { button: gpio.button.pin, relay: gpio.relay.pin, green: gpio.leds.green, red: gpio.leds.red, busy: gpio.leds.busy };
    const parts = Object.entries(numbers).map(([role, n]) => (n === null ? `${role} not wired` : `${role} BCM${bcm[role]}->gpio${n}`));
    return pass(name, `${chip.label} base ${chip.base}: ${parts.join(', ')}`, { chip: chip.label, base: chip.base, sysfs: numbers });
  } catch (error) {
    return fail(name, messageOf(error), 'check gpio.sysfsRoot and the gpio.* pin settings');
  }
}
