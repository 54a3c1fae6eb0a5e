import { connect, type MqttClient } from 'mqtt';
import type { Settings } from '../config/index.js';
import type { Logger } from '../log.js';
import { clientOptions } from './mqtt-transport.js';
import { collectorDir, parseAttempt, SiteAuditStore } from './site-audit.js';
import { fleetTopics } from './topics.js';

/**
 * The site collector: one long-running client that gathers every door's `attempt` messages into the
 * SiteAuditStore. It holds a persistent session (clean: false, a fixed client id, QoS 1), so while it is
 * stopped the broker queues the attempts for it; and it acknowledges a message (PUBACK) only after the line is
 * on disk, so a crash between receiving and storing makes the broker send it again. Together with the
 * duplicate check by event id, a restart neither loses nor doubles an attempt.
 */
export interface Collector {
  /** Resolves once connected and subscribed the first time. */
  ready: Promise<void>;
  counts(): { stored: number; duplicates: number; refused: number };
  stop(): Promise<void>;
}

/** How long the broker keeps the collector's session (and queues attempts for it) while it is stopped. */
export const SESSION_EXPIRY_S = 7 * 24 * 3600;

export function collectorClientId(settings: Pick<Settings, 'mqtt'>): string {
  return `facegate-collector-${settings.mqtt.baseTopic.replace(/[^A-Za-z0-9_-]/g, '_')}`.slice(0, 64);
}

export function startCollector(settings: Pick<Settings, 'mqtt' | 'fleet' | 'paths'>, log: Logger): Collector {
  const topics = fleetTopics(settings);
  const store = new SiteAuditStore(collectorDir(settings));
  const counts = { stored: 0, duplicates: 0, refused: 0 };
  // MQTT 5 ends even a clean: false session at disconnect unless it has an expiry: a week of queueing.
  const session = settings.mqtt.protocolVersion === 5 ? { properties: { sessionExpiryInterval: SESSION_EXPIRY_S } } : {};
  const client: MqttClient = connect(settings.mqtt.url, clientOptions(settings, collectorClientId(settings), { clean: false, ...session }));
  // mqtt.js sends the PUBACK when this callback is called, and hands over one message at a time.
  client.handleMessage = (packet, done) => {
    if (packet.cmd !== 'publish') return done();
    const door = topics.deviceOf(packet.topic, 'attempt');
    const event = door ? parseAttempt(Buffer.from(packet.payload)) : null;
    if (!door || !event) {
      counts.refused++;
      log.warn({ topic: packet.topic }, 'collector: not an attempt event; skipped');
      return done();
    }
    try {
      if (store.append(door, event) === 'stored') counts.stored++;
      else counts.duplicates++;
      done();
    } catch (error) {
      // Not acknowledged: drop the connection so the broker keeps the message and sends it again.
      log.error({ err: error, attempt: event.id }, 'collector: cannot store an attempt; reconnecting so the broker resends it');
      client.stream?.destroy();
    }
  };
  let resolveReady!: () => void;
  const ready = new Promise<void>((resolve) => (resolveReady = resolve));
  client.on('connect', (connack) => {
    client.subscribeAsync([topics.attemptFilter], { qos: 1 }).then(
      () => {
        log.info({ sessionPresent: connack.sessionPresent, dir: store.dir }, 'collector: collecting every door\'s attempts');
        resolveReady();
      },
      (error: Error) => log.warn({ reason: error.message }, 'collector: subscribe failed; retried at the next connect'),
    );
  });
  client.on('error', (error) => log.warn({ reason: error.message }, 'collector: broker connection error'));
  return {
    ready,
    counts: () => ({ ...counts }),
    stop: async () => {
      // A clean DISCONNECT keeps the persistent session (and its queue) on the broker.
      await Promise.race([client.endAsync(), new Promise((resolve) => setTimeout(resolve, 2000))]).catch(() => undefined);
      client.end(true);
    },
  };
}
