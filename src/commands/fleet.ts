import { exitCodeOf } from '../core/errors.js';
import { commandSettings, errorMessage, splitArgs } from './args.js';
import { OWN_OPTIONS, SUBCOMMANDS, USAGE, usageError, type FleetArgs } from './fleet-args.js';

/**
 * `facegate fleet`: several doors, one site, over the broker (docs: README "Several doors").
 * The subcommands live in fleet-gallery.ts (need the site key) and fleet-site.ts (what the doors report).
 */
export async function run(argv: string[]): Promise<number> {
  const { values, positionals, settingsArgs } = splitArgs(argv, OWN_OPTIONS);
  const [sub, ...rest] = positionals;
  if (values.help || !sub) {
    console.log(USAGE);
    return sub || values.help ? 0 : 64;
  }
  if (!(SUBCOMMANDS as readonly string[]).includes(sub)) return usageError(`unknown subcommand "${sub}"`);
  const { settings, log } = commandSettings(values, settingsArgs);
  const args: FleetArgs = { sub: sub as FleetArgs['sub'], positionals: rest, values, settings, log };
  try {
    if (sub === 'init' || sub === 'enroll' || sub === 'revoke' || sub === 'list') return await (await import('./fleet-gallery.js')).runGallery(args);
    return await (await import('./fleet-site.js')).runSite(args);
  } catch (error) {
    console.error(`facegate fleet ${sub}: ${errorMessage(error)}`);
    return exitCodeOf(error);
  }
}
