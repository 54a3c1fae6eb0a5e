import type { Logger } from '../log.js';
import { decodeEntry } from './entry.js';
import { EntryRefused, open, personId, type RefusalCode } from './envelope.js';
import type { SiteKey } from './key.js';
import { SiteStore } from './site-store.js';
import type { FleetTopics } from './topics.js';
import type { FleetTransport } from './transport.js';

/**
 * A door's side of the site gallery: takes every retained entry from `<base>/_site/gallery/+`, checks it
 * (key, tag, topic, version, model) and merges it into the SiteStore, then asks the verifier to reload. It
 * also publishes this door's fleet state (retained `<base>/<deviceId>/fleet`) for `facegate fleet status`.
 *
 * Order of the checks, the first failure is the refusal (logged at warn, kept in the fleet state):
 * malformed envelope, wrong topic, other key, tampered (GCM tag), replayed (older than held), conflict (same
 * version, other content), invalid content. An entry for another model is kept (so versions still line up)
 * but never matched against, and reported as `other-model`.
 */
export interface FleetSyncOptions {
  transport: FleetTransport;
  key: SiteKey;
  store: SiteStore;
  topics: FleetTopics;
  deviceId: string;
  /** This door's embedding space and model label (fleet/model.ts). */
  space: string;
  model: string;
  log: Logger;
  /** Called (debounced) after the store changed; the daemon reloads the verifier here. */
  onChange(): Promise<void>;
  /** How long changes are gathered before one reload (the retained burst at connect is one reload). */
  debounceMs?: number;
}

export interface Refusal {
  pid: string;
  ver: number | null;
  code: RefusalCode;
  reason: string;
  at: string;
}

export type Outcome = 'applied' | 'unchanged' | 'ignored' | Refusal;

const KEEP_REFUSALS = 20;

export class FleetSync {
  private readonly refusals: Refusal[] = [];
  private stops: Array<() => void> = [];
  private timer: NodeJS.Timeout | null = null;
  private changing: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(private readonly o: FleetSyncOptions) {}

  start(): void {
    this.stops.push(this.o.transport.onMessage((topic, payload) => {
      if (topic.startsWith(this.o.topics.person(''))) this.handle(topic, payload);
    }));
    this.stops.push(this.o.transport.onConnect(() => {
      this.o.transport.subscribe([this.o.topics.galleryFilter])
        .then(() => this.publishState())
        .catch((error: Error) => this.o.log.warn({ reason: error.message }, 'fleet: subscribing to the site gallery failed; retried at the next connect'));
    }));
  }

  /** Stops listening; the door keeps its last gallery. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const stop of this.stops) stop();
    this.stops = [];
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.changing;
    this.o.store.flush();
  }

  recentRefusals(): readonly Refusal[] {
    return this.refusals;
  }

  /** One gallery message. Never throws: a bad entry is refused and logged, the door keeps serving. */
  handle(topic: string, payload: Buffer): Outcome {
    const pid = this.o.topics.pidOf(topic);
    if (pid === null) return this.refuse(topic.slice(topic.lastIndexOf('/') + 1), null, new EntryRefused('malformed', `not a person topic: ${topic}`));
    if (payload.length === 0) {
      // Anyone with broker access can delete a retained message; only a key holder can revoke (a signed entry).
      this.o.log.warn({ pid }, 'fleet: a site entry was deleted on the broker (empty retained message); ignored, the door keeps it');
      return 'ignored';
    }
    let ver: number | null = null;
    try {
      const { header, plaintext } = open(this.o.key, payload, pid);
      ver = header.ver;
      const hash = SiteStore.envelopeHash(payload);
      const held = this.o.store.get(pid);
      if (held && header.ver < held.ver) throw new EntryRefused('replayed', `version ${header.ver} is older than version ${held.ver} held here`);
      if (held && header.ver === held.ver) {
        if (held.envelope === hash) return 'unchanged';
        throw new EntryRefused('conflict', `a different entry with the same version ${header.ver} is held here`);
      }
      const entry = decodeEntry(plaintext);
      if (entry.version !== header.ver) throw new EntryRefused('invalid', `sealed version ${entry.version} differs from the envelope's ${header.ver}`);
      if (personId(this.o.key, entry.name) !== pid) throw new EntryRefused('wrong-topic', `entry for ${entry.name} is not on ${entry.name}'s topic`);
      this.o.store.put(pid, header.ver, hash, entry);
      if (entry.kind === 'person' && entry.space !== this.o.space) {
        this.refuse(pid, ver, new EntryRefused('other-model',
          `${entry.name} was enrolled with model ${entry.model}; this door runs ${this.o.model}: not used here, re-enrol ${entry.name} with this model`));
      } else {
        this.o.log.info({ pid, version: header.ver, person: entry.name, kind: entry.kind, by: entry.by }, `fleet: ${entry.kind === 'revoked' ? 'revoked' : 'updated'} ${entry.name}`);
      }
      this.scheduleChange();
      return 'applied';
    } catch (error) {
      const refused = error instanceof EntryRefused ? error : new EntryRefused('invalid', (error as Error).message);
      return this.refuse(pid, ver, refused);
    }
  }

  private refuse(pid: string, ver: number | null, error: EntryRefused): Refusal {
    const refusal: Refusal = { pid, ver, code: error.refusal, reason: error.message, at: new Date().toISOString() };
    this.o.log.warn({ pid, version: ver, code: error.refusal, reason: error.message }, 'fleet: site entry refused');
    this.refusals.push(refusal);
    if (this.refusals.length > KEEP_REFUSALS) this.refusals.shift();
    void this.publishState();
    return refusal;
  }

  private scheduleChange(): void {
    if (this.timer || this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.changing = this.changing
        .then(() => this.o.store.flush())
        .then(() => this.o.onChange())
        .catch((error: unknown) => this.o.log.error({ err: error }, 'fleet: reloading the gallery after a site change failed'))
        .then(() => this.publishState());
    }, this.o.debounceMs ?? 50);
  }

  /** This door's view of the site, retained, for `facegate fleet status`. Best effort. */
  async publishState(): Promise<void> {
    if (!this.o.transport.connected()) return;
    const snapshot = this.o.store.snapshot();
    const state = {
      ts: new Date().toISOString(),
      deviceId: this.o.deviceId,
      model: this.o.model,
      space: this.o.space,
      galleryVersion: this.o.store.version(),
      galleryDigest: this.o.store.digest(),
      entries: this.o.store.list().length,
      people: snapshot.people.length,
      refused: this.refusals,
    };
    await this.o.transport.publish(this.o.topics.doorFleet(this.o.deviceId), JSON.stringify(state), { qos: 1, retain: true })
      .catch((error: Error) => this.o.log.debug({ reason: error.message }, 'fleet: state not published; sent again on reconnect'));
  }
}
