import { loadGpioSettings, type LoadOptions } from '../config/index.js';
import { forceRelayOffSysfs, type RelayOffResult } from '../gpio/sysfs-off.js';

export type RelayBackstopOutcome =
  | { action: 'off'; result: RelayOffResult }
  | { action: 'none'; why: string };

/**
 * The out-of-process relay backstop: reads only the GPIO settings and drives the relay pin OFF through sysfs.
 * The simulated driver has no pin, so there is nothing to do. Throws ConfigError when the GPIO settings
 * themselves are wrong (the pin cannot be known), an Error when sysfs refuses the write.
 */
export function relayBackstop(options: LoadOptions): RelayBackstopOutcome {
  const gpio = loadGpioSettings(options);
  if (gpio.driver !== 'onoff') return { action: 'none', why: `gpio.driver is "${gpio.driver}": no pin to switch` };
  return { action: 'off', result: forceRelayOffSysfs(gpio) };
}

/** Splits a command line into the config file and the flags (convict reads only the ones it declares). */
export function backstopOptions(argv: string[], env: NodeJS.ProcessEnv = process.env): LoadOptions {
  const args: string[] = [];
  let file: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i]!;
    if (token === '--config') file = argv[++i];
    else if (token.startsWith('--config=')) file = token.slice('--config='.length);
    else args.push(token);
  }
  return { file, env, args };
}
