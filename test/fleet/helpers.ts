import { randomBytes } from 'node:crypto';
import type { FleetTransport } from '../../src/fleet/transport.js';
import { siteKeyFromBytes } from '../../src/fleet/key.js';
import { encodeEntry, type PersonEntry, type SiteEntry } from '../../src/fleet/entry.js';
import { personId, seal } from '../../src/fleet/envelope.js';
import type { SiteKey } from '../../src/fleet/key.js';

export const newKey = () => siteKeyFromBytes(randomBytes(32));

/** A transport that is always connected and records what was published; tests feed messages by hand. */
export class RecordingTransport implements FleetTransport {
  published: Array<{ topic: string; payload: string; retain: boolean }> = [];
  subscribed: string[] = [];
  private messageListeners = new Set<(t: string, p: Buffer, r: boolean) => void>();
  /** Hand what is published back to the listeners, as a broker would to a client subscribed to it. */
  echo = false;
  async publish(topic: string, payload: string | Buffer, options: { qos: 0 | 1; retain: boolean }) {
    this.published.push({ topic, payload: payload.toString(), retain: options.retain });
    if (this.echo) for (const l of this.messageListeners) l(topic, Buffer.from(payload), false);
  }
  async subscribe(filters: string[]) {
    this.subscribed.push(...filters);
  }
  async unsubscribe() {}
  onMessage(listener: (t: string, p: Buffer, r: boolean) => void) {
    this.messageListeners.add(listener);
    return () => void this.messageListeners.delete(listener);
  }
  onConnect(listener: () => void) {
    listener();
    return () => undefined;
  }
  deliver(topic: string, payload: Buffer | string) {
    for (const l of this.messageListeners) l(topic, Buffer.from(payload), true);
  }
  connected() {
    return true;
  }
  async close() {}
}

export function personEntry(name: string, version: number, over: Partial<PersonEntry> = {}): PersonEntry {
  return {
    kind: 'person', name, version, space: 'space-A', model: 'tower@aaa', doors: 'all',
    embeddings: [Float32Array.from([1, 2, 3])], at: new Date(0).toISOString(), by: 'test', ...over,
  };
}

/** The envelope a key holder would publish for this entry. */
export function sealed(key: SiteKey, entry: SiteEntry): { pid: string; payload: Buffer } {
  const pid = personId(key, entry.name);
  return { pid, payload: Buffer.from(seal(key, pid, entry.version, encodeEntry(entry))) };
}
