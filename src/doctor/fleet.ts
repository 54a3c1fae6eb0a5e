import type { Settings } from '../config/index.js';
import { fail, messageOf, pass, skip, type CheckResult } from './types.js';

/**
 * With fleet.enabled: the site key is there and private, and what this door holds of the site gallery. The
 * door itself refuses to start without the key; this says so before systemd does, with the fix.
 */
export async function fleetCheck(settings: Settings): Promise<CheckResult> {
  const name = 'fleet';
  if (!settings.fleet.enabled) return skip(name, 'fleet.enabled is off: this door is on its own');
  try {
    const { loadSiteKey, siteKeyPath } = await import('../fleet/key.js');
    const { siteGalleryFile } = await import('../fleet/door.js');
    const { existsSync, readFileSync } = await import('node:fs');
    const key = loadSiteKey(settings);
    const from = settings.fleet.key ? 'fleet.key' : siteKeyPath(settings);
    const file = siteGalleryFile(settings);
    const entries = existsSync(file) ? Object.keys((JSON.parse(readFileSync(file, 'utf8')) as { entries: object }).entries).length : 0;
    return pass(name, `site key ${key.id} from ${from}; ${entries} site gallery entries held (${file})`, { keyId: key.id, entries });
  } catch (error) {
    return fail(name, messageOf(error), 'run "facegate fleet init" once for the site and copy its site.key to every door (mode 0600), or set fleet.key');
  }
}
