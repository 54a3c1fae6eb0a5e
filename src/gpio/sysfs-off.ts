import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolvePins } from './pins.js';

/** What the relay backstop needs to know: where the pin is and which level de-energises it. */
export interface RelayPinSettings {
  sysfsRoot: string;
  relay: { pin: number | null; activeLow: boolean };
}

export interface RelayOffResult {
  bcm: number;
  sysfs: number;
  /** The value file's content before and after (logical level, as the kernel shows it through active_low). */
  before: string | null;
  after: string;
  /** True when the pin was not exported and this call exported it to drive it OFF. */
  exported: boolean;
}

const EXPORT_WAIT_MS = 2000;

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function readOrNull(path: string): string | null {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return null;
  }
}

/**
 * Drives the relay pin to its OFF level straight through sysfs, synchronously, with no library and no event
 * loop: the backstop for a process that died without switching the relay off (SIGKILL, OOM kill), run by the
 * unit before start and after every stop, and by the daemon before it reads the rest of its config.
 *  - direction gets the raw OFF level ("high" for an active-low board, "low" otherwise): that makes the pin an
 *    output at that level in one write, even if it was an input or its active_low flag is not what we think;
 *  - value then gets the logical OFF level through whatever active_low the kernel holds, as onoff would write it.
 * A pin nobody exported is exported first (its level after a crash is whatever it was last driven to).
 * Throws, naming the file, when the pin cannot be reached or does not read back OFF.
 */
export function forceRelayOffSysfs(gpio: RelayPinSettings): RelayOffResult {
  const bcm = gpio.relay.pin;
  if (bcm === null) throw new Error('gpio.relay.pin is not set: no relay pin to switch off');
  const { numbers } = resolvePins(gpio.sysfsRoot, { relay: bcm });
  const sysfs = numbers.relay!;
  const dir = join(gpio.sysfsRoot, `gpio${sysfs}`);
  const valuePath = join(dir, 'value');
  let exported = false;
  if (!existsSync(valuePath)) {
    writeFileSync(join(gpio.sysfsRoot, 'export'), String(sysfs));
    exported = true;
    // The kernel creates the files at once; udev may take a moment to hand them to the gpio group.
    for (let waited = 0; !existsSync(valuePath) && waited < EXPORT_WAIT_MS; waited += 10) sleepSync(10);
    if (!existsSync(valuePath)) throw new Error(`exported gpio${sysfs} but ${valuePath} did not appear within ${EXPORT_WAIT_MS} ms`);
    writeFileSync(join(dir, 'active_low'), gpio.relay.activeLow ? '1' : '0');
  }
  const before = readOrNull(valuePath);
  const rawOff = gpio.relay.activeLow ? 1 : 0;
  writeFileSync(join(dir, 'direction'), rawOff === 1 ? 'high' : 'low');
  const inverted = readOrNull(join(dir, 'active_low')) === '1';
  const logicalOff = inverted ? 1 - rawOff : rawOff;
  writeFileSync(valuePath, String(logicalOff));
  const after = readOrNull(valuePath);
  if (after !== String(logicalOff)) throw new Error(`${valuePath} reads ${after ?? 'nothing'} after writing the OFF level ${logicalOff}`);
  return { bcm, sysfs, before, after, exported };
}
