import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Aedes, AedesOptions, Client, PublishPacket } from 'aedes';
import type { Logger } from '../log.js';
import { topicMatches } from './hub.js';

/**
 * The embedded broker's lock. Before it, aedes accepted anonymous clients even with mqtt.username/password
 * set (they received face snapshots and ran commands), let any client take the daemon's client id and knock
 * it off, and let anyone publish on the daemon's own topics. Now:
 * - with credentials configured, a client must present them (compared in constant time);
 * - the daemon's client id belongs to the daemon: only the per-run credentials it was handed connect with it;
 * - a client id that is connected cannot be taken over by a second connection (for every client);
 * - only the daemon publishes on its state, attempt, snapshot, availability, result and discovery topics;
 * - a retained command is never stored nor forwarded: its payload is emptied, which also clears a retained
 *   copy (aedes speaks MQTT 3.1.1, where a subscriber could not tell a retained command from a live one).
 */
export interface BrokerLock {
  /** mqtt.username/password; null = anonymous clients (the broker then listens on loopback only). */
  credentials: { username: string; password: string } | null;
  /** The daemon's own connection; absent for a broker without a daemon (tests, collect). */
  owner?: BrokerOwner;
}

export interface BrokerOwner {
  clientId: string;
  username: string;
  password: string;
  /** Topic filters only the owner may publish on. */
  ownTopics: string[];
  /** Topic filters of commands: retained publishes there are emptied. */
  commandTopics: string[];
}

/** Per-run credentials for the daemon's own connection; they never leave the process. */
export function ownerCredentials(): { username: string; password: string } {
  return { username: 'facegate-daemon', password: randomBytes(24).toString('base64url') };
}

/** The daemon's topics under `<root>` and its discovery configs, as filters. */
export function ownerTopicFilters(root: string, discoveryPrefix: string, node: string): { ownTopics: string[]; commandTopics: string[] } {
  return {
    ownTopics: [`${root}/availability`, `${root}/state`, `${root}/attempt`, `${root}/snapshot`, `${root}/cmd/+/result`,
      `${root}/cmd/lockout/clear/result`, `${discoveryPrefix}/+/${node}/+/config`],
    commandTopics: [`${root}/cmd/#`],
  };
}

function same(given: Buffer | string | undefined, expected: string): boolean {
  if (given === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

type Hooks = Pick<AedesOptions, 'preConnect' | 'authenticate' | 'authorizePublish'>;

/** aedes hooks implementing the lock; `broker()` returns the running instance (for the takeover check). */
export function lockHooks(lock: BrokerLock, broker: () => Aedes | null, log: Logger): Hooks {
  const { credentials, owner } = lock;
  const isResult = (topic: string) => topic.endsWith('/result');
  return {
    preConnect(_client: Client, packet, callback) {
      const id = (packet as { clientId?: string }).clientId ?? '';
      const existing = id ? (broker() as unknown as { clients: Record<string, Client> } | null)?.clients[id] : undefined;
      if (existing?.connected && !existing.closed) {
        log.warn({ clientId: id }, 'embedded broker: refused a second connection with a client id in use (no takeover)');
        return callback(new Error('client id in use'), false);
      }
      callback(null, true);
    },
    authenticate(client: Client, username, password, callback) {
      let ok: boolean;
      if (owner && client.id === owner.clientId) ok = same(username, owner.username) && same(password, owner.password);
      else if (credentials) ok = same(username, credentials.username) && same(password, credentials.password);
      else ok = true;
      if (!ok) log.warn({ clientId: client.id }, 'embedded broker: refused a client with wrong or missing credentials');
      const error = ok ? null : Object.assign(new Error('bad user name or password'), { returnCode: 4 as const });
      callback(error, ok);
    },
    authorizePublish(client: Client | null, packet: PublishPacket, callback) {
      if (packet.topic.startsWith('$SYS')) return callback(new Error('$SYS topic is reserved'));
      if (!owner || !client || client.id === owner.clientId) return callback(null);
      if (owner.ownTopics.some((f) => topicMatches(f, packet.topic))) {
        log.warn({ clientId: client.id, topic: packet.topic }, 'embedded broker: refused a publish on the daemon\'s own topic');
        return callback(new Error('topic reserved for the facegate daemon'));
      }
      if (packet.retain && packet.payload.length > 0 && !isResult(packet.topic) && owner.commandTopics.some((f) => topicMatches(f, packet.topic))) {
        log.warn({ clientId: client.id, topic: packet.topic }, 'embedded broker: retained command emptied (never stored, never run)');
        packet.payload = Buffer.alloc(0);
      }
      callback(null);
    },
  };
}
