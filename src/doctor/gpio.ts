import { accessSync, constants, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Settings } from '../config/index.js';
import { resolvePins } from '../gpio/pins.js';
import { fail, messageOf, pass, skip, type CheckResult } from './types.js';

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
