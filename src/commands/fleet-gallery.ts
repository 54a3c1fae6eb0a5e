import type { Doors } from '../fleet/entry.js';
import { validatePersonName } from '../gallery/gallery.js';
import { decodeEntry } from '../fleet/entry.js';
import { open, personId, readHeader } from '../fleet/envelope.js';
import { createSiteKeyFile, siteKeyPath } from '../fleet/key.js';
import { siteKeyOrConfigError } from '../fleet/door.js';
import { mqttTransport, whenConnected } from '../fleet/mqtt-transport.js';
import { collectRetained, revokePerson, type PublishContext } from '../fleet/publish.js';
import { fleetTopics } from '../fleet/topics.js';
import { confirmDoors } from '../fleet/confirm.js';
import { redactUrl } from '../mqtt/client.js';
import { candidateImages } from './enroll.js';
import { parseDoors, publishEmbedded, siteSummary } from './fleet-publish.js';
import { oneShotClientId, usageError, type FleetArgs } from './fleet-args.js';

/** fleet init | enroll | revoke | list: the site gallery, which needs the site key. */
export async function runGallery(args: FleetArgs): Promise<number> {
  const { sub, settings } = args;
  if (sub === 'init') {
    const file = siteKeyPath(settings);
    const key = createSiteKeyFile(file);
    console.log(`site key ${key.id} written to ${file} (mode 0600).\nCopy this file to every door of the site (same path, owner facegate, mode 0600) and set fleet.enabled: true there.`);
    return 0;
  }
  if (sub === 'list' ? args.positionals.length !== 0 : args.positionals.length !== 1) {
    return usageError(sub === 'list' ? 'list takes no NAME' : `${sub} needs exactly one NAME`);
  }
  const key = siteKeyOrConfigError(settings);
  const topics = fleetTopics(settings);
  const transport = mqttTransport(settings, oneShotClientId(sub), args.log);
  try {
    await whenConnected(transport, redactUrl(settings.mqtt.url));
    const ctx: PublishContext = { transport, key, topics };
    if (sub === 'list') {
      const retained = await collectRetained(transport, [topics.galleryFilter], topics.base);
      const rows: ListRow[] = [...retained].flatMap(([topic, payload]): ListRow[] => {
        const pid = topics.pidOf(topic);
        if (!pid) return [];
        try {
          const entry = decodeEntry(open(key, payload, pid).plaintext);
          return [entry.kind === 'person'
            ? { name: entry.name, kind: entry.kind, version: entry.version, doors: entry.doors, model: entry.model, embeddings: entry.embeddings.length, by: entry.by, at: entry.at }
            : { name: entry.name, kind: entry.kind, version: entry.version, by: entry.by, at: entry.at }];
        } catch (error) {
          return [{ name: `(${pid})`, kind: 'unreadable', version: readVersion(payload), reason: errorText(error) }];
        }
      }).sort((a, b) => (a.name < b.name ? -1 : 1));
      if (args.values.json) for (const row of rows) console.log(JSON.stringify(row));
      else if (rows.length === 0) console.log('the site gallery is empty');
      else for (const r of rows) console.log([r.name, r.kind, r.version, r.doors === undefined ? '' : r.doors === 'all' ? 'all doors' : r.doors.join(','), r.model ?? '', r.reason ?? ''].join('  ').trimEnd());
      return 0;
    }
    const name = validatePersonName(args.positionals[0]!);
    if (sub === 'enroll') return await enroll(args, ctx, name);
    const current = (await collectRetained(transport, [topics.person(personId(key, name))], topics.base)).values().next().value;
    if (!current) {
      console.error(`facegate fleet revoke: ${name} is not in the site gallery (nothing to revoke)`);
      return 1;
    }
    const result = await revokePerson(ctx, name, settings.deviceId);
    console.log(`revoked ${name} (version ${result.version})`);
    const waitS = Number(args.values.wait ?? 5);
    if (!(waitS >= 0)) return usageError('--wait takes seconds');
    const doors = await confirmDoors(transport, topics, result.version, waitS * 1000);
    console.log(`  applied at: ${doors.applied.join(', ') || 'no door yet'}`);
    if (doors.offline.length) console.log(`  offline, will apply when they reconnect: ${doors.offline.join(', ')}`);
    if (doors.pending.length) console.log(`  online but not confirmed within ${waitS} s: ${doors.pending.join(', ')} (check "facegate fleet status")`);
    return doors.pending.length ? 1 : 0;
  } finally {
    await transport.close();
  }
}

async function enroll(args: FleetArgs, ctx: PublishContext, name: string): Promise<number> {
  const { settings, values, log } = args;
  if (typeof values.images !== 'string') return usageError('enroll needs --images DIR');
  const doors = parseDoors(values.doors);
  if (doors === null) return usageError('--doors needs at least one device id');
  const candidates = candidateImages(values.images, values.crops === true);
  // Loaded here: the model is needed only to enrol.
  const { createVerifier } = await import('../face/verifier.js');
  const verifier = await createVerifier(settings, log);
  try {
    const published = await publishEmbedded(ctx, settings, name, candidates, verifier.pipeline, doors);
    if (values.json) console.log(JSON.stringify(published));
    else {
      console.log(siteSummary(published));
      for (const r of published.rejected) console.log(`  not used: ${r.file}: ${r.reason}`);
    }
    return 0;
  } finally {
    await verifier.close();
  }
}

interface ListRow {
  name: string;
  kind: string;
  version: number | null;
  doors?: Doors;
  model?: string;
  embeddings?: number;
  by?: string;
  at?: string;
  reason?: string;
}

function readVersion(payload: Buffer): number | null {
  try {
    return readHeader(payload).ver;
  } catch {
    return null;
  }
}

const errorText = (error: unknown) => (error instanceof Error ? error.message : String(error));
