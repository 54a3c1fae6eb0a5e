import { join } from 'node:path';
import { EXIT_CODES } from '../core/errors.js';
import { FileLockoutStore } from '../daemon/lockout-store.js';
import { signalReload } from './reload.js';
import { loadCommandSettings, splitArgs } from './args.js';

const USAGE = 'usage: facegate lockout clear [--config FILE]: lift a lockout (too many denied attempts) now';

/**
 * `facegate lockout clear`: writes a cleared lockout into <paths.state>/lockout.json, where the daemon keeps it
 * across restarts, then has a running daemon read it again (SIGHUP). Run it as a user who may write the state
 * dir (root or the service user): that is the authorisation, as for the audit files beside it.
 */
export async function run(argv: string[]): Promise<number> {
  const { values, positionals, settingsArgs } = splitArgs(argv, {});
  if (values.help || positionals[0] !== 'clear' || positionals.length !== 1) {
    console.log(USAGE);
    return values.help ? 0 : EXIT_CODES.usage;
  }
  const settings = loadCommandSettings(values, settingsArgs);
  const store = new FileLockoutStore(join(settings.paths.state, 'lockout.json'));
  const before = store.load();
  store.save({ until: null, denials: [] });
  const was = before?.until !== null && before?.until !== undefined && before.until > Date.now();
  console.log(`lockout cleared${was ? ` (it ran until ${new Date(before!.until!).toISOString()})` : ' (none was in force)'}`);
  const code = await signalReload(settings.paths.state, 'facegate lockout clear');
  // No daemon running is fine: the cleared state is on disk and the next start reads it.
  return code === EXIT_CODES.unavailable ? 0 : code;
}
