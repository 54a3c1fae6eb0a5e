import { join } from 'node:path';
import { ConfigError, type Settings } from '../config/index.js';
import type { GalleryStore } from '../gallery/store.js';
import type { Logger } from '../log.js';
import { loadSiteKey, siteKeyPath, SiteKeyError, type SiteKey } from './key.js';
import { modelIdentity, type ModelIdentity } from './model.js';
import { linkTransport, type SharedLink } from './link-transport.js';
import { SiteStore } from './site-store.js';
import { SiteGalleryStore } from './site-gallery-store.js';
import { FleetSync } from './sync.js';
import { SITE_SEGMENT, fleetTopics } from './topics.js';

/**
 * The fleet as one feature of the door daemon: exists only when fleet.enabled, opened before the verifier
 * (whose gallery it extends), its sync a feature on the MQTT bridge's one connection, stopped with it. While
 * the broker is down the door keeps the site gallery it last had (on disk) and keeps working.
 */
export interface FleetDoor {
  /** The verifier's gallery: the site gallery in front of the door's own store. */
  galleryStore(local: GalleryStore): GalleryStore;
  identity: ModelIdentity;
  /**
   * The sync as a feature of the daemon's shared MQTT connection (start/stop, everything it registered released
   * on stop). onChange runs, debounced, after the site gallery changed: the daemon reloads the verifier there.
   */
  feature(link: SharedLink, onChange: () => Promise<void>): { readonly name: string; start(): Promise<void>; stop(): Promise<void> };
}

export function siteGalleryFile(settings: Pick<Settings, 'paths'>): string {
  return join(settings.paths.state, 'fleet', 'site-gallery.json');
}

/** The key, as a configuration problem when it is missing or unsafe: the door must not start half a site member. */
export function siteKeyOrConfigError(settings: Pick<Settings, 'fleet' | 'paths'>): SiteKey {
  try {
    return loadSiteKey(settings);
  } catch (error) {
    if (error instanceof SiteKeyError) throw new ConfigError([{ key: settings.fleet.key ? 'fleet.key' : 'fleet.keyFile', reason: `${error.message} (${siteKeyPath(settings)})` }]);
    throw error;
  }
}

export async function openFleetDoor(settings: Settings, log: Logger): Promise<FleetDoor> {
  const fleetLog = log.child({ component: 'fleet' });
  if (settings.deviceId === SITE_SEGMENT) throw new ConfigError([{ key: 'deviceId', reason: `"${SITE_SEGMENT}" is where the site gallery lives; pick another device id` }]);
  const key = siteKeyOrConfigError(settings);
  const identity = await modelIdentity(settings.model.dir);
  const store = SiteStore.open(siteGalleryFile(settings), { deviceId: settings.deviceId, space: identity.space }, fleetLog);
  fleetLog.info({ keyId: key.id, model: identity.label, entries: store.list().length, version: store.version() }, 'fleet: site gallery opened');
  return {
    galleryStore: (local) => new SiteGalleryStore(store, local),
    identity,
    feature(link, onChange) {
      const transport = linkTransport(link);
      const sync = new FleetSync({ transport, key, store, topics: fleetTopics(settings), deviceId: settings.deviceId, space: identity.space, model: identity.label, log: fleetLog, onChange });
      return {
        name: 'fleet',
        start: async () => sync.start(),
        async stop() {
          await sync.stop();
          await transport.close();
        },
      };
    },
  };
}
