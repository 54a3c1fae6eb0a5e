import { randomBytes } from 'node:crypto';
import { encodeEntry, type PersonEntry, type RevokedEntry } from './entry.js';
import { personId, readHeader, seal } from './envelope.js';
import type { SiteKey } from './key.js';
import { SITE_SEGMENT, type FleetTopics } from './topics.js';
import type { FleetTransport } from './transport.js';

/**
 * Publishing to the site gallery: enrol (a person entry) and revoke (a revocation entry), both retained and
 * sealed. Versions are wall-clock milliseconds, but always above the version on the broker: two enrolments
 * from machines whose clocks disagree still order as they were made, as long as each sees the other's entry.
 */
export interface PublishContext {
  transport: FleetTransport;
  key: SiteKey;
  topics: FleetTopics;
  now?: () => number;
}

/**
 * The retained messages under some filters now. The broker sends them when a subscription is made; a marker
 * message published after the subscriptions comes back after them, so "no retained message" is an answer, not
 * a guess (plus a short grace for brokers that send retained messages from another thread).
 */
export async function collectRetained(transport: FleetTransport, filters: string[], base: string, graceMs = 200): Promise<Map<string, Buffer>> {
  const marker = `${base}/${SITE_SEGMENT}/probe/${randomBytes(8).toString('hex')}`;
  const found = new Map<string, Buffer>();
  let markerSeen!: () => void;
  const seen = new Promise<void>((resolve) => (markerSeen = resolve));
  const stop = transport.onMessage((topic, payload, retained) => {
    if (topic === marker) markerSeen();
    else if (retained && payload.length > 0) found.set(topic, payload);
  });
  try {
    await transport.subscribe(filters);
    await transport.subscribe([marker]);
    await transport.publish(marker, 'probe', { qos: 1, retain: false });
    await Promise.race([seen, new Promise((resolve) => setTimeout(resolve, 5000))]);
    await new Promise((resolve) => setTimeout(resolve, graceMs));
    return found;
  } finally {
    stop();
    await transport.unsubscribe([...filters, marker]).catch(() => undefined);
  }
}

async function publish(ctx: PublishContext, name: string, make: (version: number) => PersonEntry | RevokedEntry): Promise<{ pid: string; version: number; previous: number | null }> {
  const pid = personId(ctx.key, name);
  const topic = ctx.topics.person(pid);
  const current = (await collectRetained(ctx.transport, [topic], ctx.topics.base)).get(topic);
  let previous: number | null = null;
  if (current) {
    try {
      previous = readHeader(current).ver;
    } catch {
      previous = null; // not an entry (someone wrote junk there): replace it
    }
  }
  const version = Math.max((ctx.now ?? Date.now)(), (previous ?? 0) + 1);
  await ctx.transport.publish(topic, seal(ctx.key, pid, version, encodeEntry(make(version))), { qos: 1, retain: true });
  return { pid, version, previous };
}

/**
 * The largest sealed entry published: doors read their shared connection with mqtt.maxPacketBytes (16 KB by
 * default) and skip anything bigger unread, so an entry stays well under it. 128-d embeddings cost ~0.9 KB each
 * sealed: about 12 fit. More photos than that are thinned out evenly (first and last kept).
 */
export const SITE_ENTRY_MAX_BYTES = 12 * 1024;

export function evenlySpaced<T>(items: T[], count: number): T[] {
  if (count >= items.length) return items;
  if (count <= 1) return items.slice(0, 1);
  return Array.from({ length: count }, (_, i) => items[Math.round((i * (items.length - 1)) / (count - 1))]!);
}

export async function publishPerson(ctx: PublishContext, person: Omit<PersonEntry, 'kind' | 'version' | 'at'>) {
  let embeddings = person.embeddings;
  const sealedSize = (list: Float32Array[]) => seal(ctx.key, '0'.repeat(32), Number.MAX_SAFE_INTEGER, encodeEntry({ kind: 'person', ...person, embeddings: list, version: Number.MAX_SAFE_INTEGER, at: new Date().toISOString() })).length;
  while (embeddings.length > 1 && sealedSize(embeddings) > SITE_ENTRY_MAX_BYTES) embeddings = evenlySpaced(person.embeddings, embeddings.length - 1);
  const result = await publish(ctx, person.name, (version) => ({ kind: 'person', ...person, embeddings, version, at: new Date().toISOString() }));
  return { ...result, embeddings: embeddings.length };
}

/** Revocation keeps the topic (retained) so a door that was offline learns it when it reconnects. */
export async function revokePerson(ctx: PublishContext, name: string, by: string): Promise<{ pid: string; version: number; previous: number | null }> {
  return publish(ctx, name, (version) => ({ kind: 'revoked', name, version, at: new Date().toISOString(), by }));
}
