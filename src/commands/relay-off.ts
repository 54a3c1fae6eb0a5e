import { EXIT_CODES, errorText, exitCodeOf, FacegateError } from '../core/errors.js';
import { backstopOptions, relayBackstop } from '../process/relay-off.js';

/**
 * `facegate relay-off [--config FILE]`: the relay backstop systemd runs before every start (ExecStartPre=) and
 * after every stop, clean or not (ExecStopPost=), so a daemon killed mid-pulse (SIGKILL, OOM) never leaves the
 * door open. Reads only the GPIO settings: an unrelated bad key must not keep the relay energised.
 */
export async function run(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log('usage: facegate relay-off [--config FILE] [--gpio onoff] ...: drive the relay pin OFF through sysfs and exit');
    return 0;
  }
  try {
    const outcome = relayBackstop(backstopOptions(argv));
    if (outcome.action === 'none') {
      console.log(`relay-off: nothing to do (${outcome.why})`);
      return 0;
    }
    const { bcm, sysfs, before, after, exported } = outcome.result;
    console.log(`relay-off: BCM ${bcm} (sysfs gpio${sysfs}) is OFF (value ${before ?? 'unexported'} -> ${after}${exported ? ', exported to drive it' : ''})`);
    return 0;
  } catch (error) {
    console.error(`facegate relay-off: ${errorText(error)}`);
    return error instanceof FacegateError ? exitCodeOf(error) : EXIT_CODES.io;
  }
}
