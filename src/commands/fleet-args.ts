import { randomBytes } from 'node:crypto';
import type { Settings } from '../config/index.js';
import type { Logger } from '../log.js';

/** What `facegate fleet` and its subcommand files share (kept apart from the dispatcher so nothing imports in a circle). */
export const USAGE = `usage: facegate fleet <subcommand> [options] [--config FILE]
  init                      make the site key (<paths.state>/fleet/site.key, mode 0600); copy it to every door
  enroll NAME --images DIR  embed the photos with this machine's model and publish NAME to every door
         [--doors ID,ID] [--crops] [--json]      (photos stay here; only sealed embeddings go on the broker)
  revoke NAME [--wait S]    remove NAME from every door (doors that are offline: when they reconnect);
                            lists the doors that confirmed within S seconds (default 5)
  list [--json]             the site gallery, decrypted with the site key
  status [--json]           every door: online, mode, model, gallery version (flags doors that lag), lockout
  collect                   run the site collector: every door's attempts into one append-only store
  audit [--since T] [--until T] [--door ID] [--identity NAME] [--decision D] [--json]
                            who opened which door when, from the collector's store`;

export const SUBCOMMANDS = ['init', 'enroll', 'revoke', 'list', 'status', 'collect', 'audit'] as const;
type Subcommand = (typeof SUBCOMMANDS)[number];

export const OWN_OPTIONS = {
  images: { type: 'string' },
  doors: { type: 'string' },
  crops: { type: 'boolean' },
  json: { type: 'boolean' },
  wait: { type: 'string' },
  since: { type: 'string' },
  until: { type: 'string' },
  door: { type: 'string' },
  identity: { type: 'string' },
  decision: { type: 'string' },
} as const;

export interface FleetArgs {
  sub: Subcommand;
  positionals: string[];
  values: Record<string, string | boolean | undefined>;
  settings: Settings;
  log: Logger;
}

/** An exit code for a usage mistake, with the message and the usage. */
export function usageError(message: string): number {
  console.error(`facegate fleet: ${message}\n${USAGE}`);
  return 64;
}

/** A client id nobody else uses: one-shot commands must never kick a door's own connection off the broker. */
export const oneShotClientId = (sub: string) => `facegate-fleet-${sub}-${randomBytes(4).toString('hex')}`;
