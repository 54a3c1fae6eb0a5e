import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * BCM pin numbers (what is printed on the Pi's pinout) become sysfs GPIO numbers as `base + line` of the
 * SoC's gpiochip. Since kernel 6.6 the base is no longer 0 (571 on a Pi 5, 512 on a Pi 4, other values
 * when more chips register first), so it is read from sysfs at startup instead of being assumed.
 */
export const SOC_GPIO_LABELS = ['pinctrl-rp1', 'pinctrl-bcm2711', 'pinctrl-bcm2835'] as const;

export interface GpioChip {
  /** e.g. /sys/class/gpio/gpiochip571 */
  path: string;
  label: string;
  base: number;
  ngpio: number;
}

export class PinError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PinError';
  }
}

/** Every gpiochip under the sysfs root, as the kernel describes it. */
export function listGpioChips(sysfsRoot: string): GpioChip[] {
  if (!existsSync(sysfsRoot)) {
    throw new PinError(
      `GPIO sysfs not found at ${sysfsRoot}: the kernel needs CONFIG_GPIO_SYSFS (Raspberry Pi OS has it; ` +
        `some minimal images do not), or set gpio.sysfsRoot / use gpio.driver "simulated"`,
    );
  }
  const chips: GpioChip[] = [];
  for (const name of readdirSync(sysfsRoot).filter((n) => n.startsWith('gpiochip')).sort()) {
    const path = join(sysfsRoot, name);
    const read = (file: string) => readFileSync(join(path, file), 'utf8').trim();
    try {
      chips.push({ path, label: read('label'), base: Number(read('base')), ngpio: Number(read('ngpio')) });
    } catch {
      // A chip whose attributes cannot be read is not one we can use; the others may still be.
    }
  }
  return chips;
}

/** The SoC's own GPIO controller (the one the 40-pin header is wired to). */
export function findSocChip(sysfsRoot: string): GpioChip {
  const chips = listGpioChips(sysfsRoot);
  for (const label of SOC_GPIO_LABELS) {
    const chip = chips.find((c) => c.label === label);
    if (chip && Number.isInteger(chip.base) && chip.ngpio > 0) return chip;
  }
  const seen = chips.map((c) => `${c.label}@${c.base}`).join(', ') || 'none';
  throw new PinError(
    `no Raspberry Pi GPIO controller under ${sysfsRoot} (looked for ${SOC_GPIO_LABELS.join(', ')}; found ${seen}). ` +
      `Is this a Raspberry Pi? Otherwise use gpio.driver "simulated"`,
  );
}

/** BCM number -> sysfs number on the given chip. */
export function sysfsNumber(chip: GpioChip, bcm: number): number {
  if (!Number.isInteger(bcm) || bcm < 0 || bcm >= chip.ngpio) {
    throw new PinError(`BCM ${bcm} is not a line of ${chip.label} (it has ${chip.ngpio} lines)`);
  }
  return chip.base + bcm;
}

/** Resolves several BCM pins at once; null (not wired) stays null. */
export function resolvePins<K extends string>(sysfsRoot: string, pins: Record<K, number | null>): { chip: GpioChip; numbers: Record<K, number | null> } {
  const chip = findSocChip(sysfsRoot);
  const numbers = {} as Record<K, number | null>;
  for (const key of Object.keys(pins) as K[]) {
    const bcm = pins[key];
    numbers[key] = bcm === null ? null : sysfsNumber(chip, bcm);
  }
  return { chip, numbers };
}
