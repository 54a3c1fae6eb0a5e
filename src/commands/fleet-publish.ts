import type { Settings } from '../config/index.js';
import type { Doors } from '../fleet/entry.js';
import type { FacePipeline } from '../gallery/cache.js';
import type { Logger } from '../log.js';
import { siteKeyOrConfigError } from '../fleet/door.js';
import { mqttTransport, whenConnected } from '../fleet/mqtt-transport.js';
import { publishPerson, type PublishContext } from '../fleet/publish.js';
import { fleetTopics } from '../fleet/topics.js';
import { redactUrl } from '../mqtt/client.js';
import { oneShotClientId } from './fleet-args.js';

/** Publishing a person to the site from photos: shared by `facegate fleet enroll` and `facegate enroll` on a fleet door. */
export function parseDoors(value: string | boolean | undefined): Doors | null {
  if (typeof value !== 'string') return 'all';
  const doors = value.split(',').map((d) => d.trim()).filter(Boolean);
  return doors.length ? doors : null;
}

export interface Published {
  name: string;
  version: number;
  /** Embeddings published (at most what fits in SITE_ENTRY_MAX_BYTES) of `photos` usable ones. */
  embeddings: number;
  photos: number;
  doors: Doors;
  model: string;
  rejected: Array<{ file: string; reason: string }>;
}

export const siteSummary = (p: Published) =>
  `published ${p.name} to ${p.doors === 'all' ? 'every door' : p.doors.join(', ')}: ${p.embeddings} embedding(s)${p.photos > p.embeddings ? ` (of ${p.photos} usable photos, evenly chosen: an entry must fit the doors' packet limit)` : ''}, version ${p.version}, model ${p.model}; the photos stayed here`;

/** Photos -> embeddings with this machine's model -> one sealed, retained site entry. Throws when no photo is usable. */
export async function publishEmbedded(ctx: PublishContext, settings: Settings, name: string, images: Array<{ file: string; isCrop: boolean }>, pipeline: FacePipeline, doors: Doors): Promise<Published> {
  const { modelIdentity } = await import('../fleet/model.js');
  const { embedPhotos } = await import('../fleet/embed.js');
  const identity = await modelIdentity(settings.model.dir);
  const { embeddings, rejected } = await embedPhotos(pipeline, images);
  if (embeddings.length === 0) {
    throw new Error(`none of the ${images.length} images shows a usable face (${rejected.map((r) => `${r.file}: ${r.reason}`).join('; ')}); nothing was published`);
  }
  const result = await publishPerson(ctx, { name, space: identity.space, model: identity.label, embeddings, doors, by: settings.deviceId });
  return { name, version: result.version, embeddings: result.embeddings, photos: embeddings.length, doors, model: identity.label, rejected };
}

/** `facegate enroll` on a door with fleet.enabled: the person just enrolled here goes to the whole site too. */
export async function publishEnrolment(settings: Settings, log: Logger, name: string, images: Array<{ file: string; isCrop: boolean }>, pipeline: FacePipeline, doors: Doors): Promise<Published> {
  const key = siteKeyOrConfigError(settings);
  const transport = mqttTransport(settings, oneShotClientId('enroll'), log);
  try {
    await whenConnected(transport, redactUrl(settings.mqtt.url));
    return await publishEmbedded({ transport, key, topics: fleetTopics(settings) }, settings, name, images, pipeline, doors);
  } finally {
    await transport.close();
  }
}

