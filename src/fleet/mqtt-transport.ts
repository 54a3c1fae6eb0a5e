import { readFileSync } from 'node:fs';
import { connect, type IClientOptions } from 'mqtt';
import type { Settings } from '../config/index.js';
import { FacegateError } from '../core/errors.js';
import type { Logger } from '../log.js';
import type { FleetTransport } from './transport.js';

const readPem = (file: string | null) => (file ? readFileSync(file) : undefined);

/** mqtt.js options from the mqtt settings: the same broker, credentials and TLS files as the door's bridge. */
export function clientOptions(settings: Pick<Settings, 'mqtt'>, clientId: string, extra: Partial<IClientOptions> = {}): IClientOptions {
  const m = settings.mqtt;
  return {
    clientId,
    protocolVersion: m.protocolVersion as 4 | 5,
    keepalive: m.keepaliveS,
    clean: true,
    reconnectPeriod: m.reconnectMinMs,
    connectTimeout: 10_000,
    username: m.username ?? undefined,
    password: m.password ?? undefined,
    ca: readPem(m.tls.ca),
    cert: readPem(m.tls.cert),
    key: readPem(m.tls.key),
    rejectUnauthorized: m.tls.rejectUnauthorized,
    // Subscriptions are made again by onConnect listeners, explicitly, after every connect.
    resubscribe: false,
    ...extra,
  };
}

/**
 * A FleetTransport on its own mqtt.js client (reconnecting by itself). The daemon's fleet sync and the
 * `facegate fleet` commands use it; never waits for the broker at creation.
 */
export function mqttTransport(settings: Pick<Settings, 'mqtt'>, clientId: string, log: Logger): FleetTransport {
  const client = connect(settings.mqtt.url, clientOptions(settings, clientId));
  const connectListeners = new Set<() => void>();
  let failures = 0;
  client.on('connect', () => {
    failures = 0;
    for (const listener of [...connectListeners]) listener();
  });
  client.on('error', (error) => {
    if (failures++ % 10 === 0) log.warn({ reason: error.message, clientId }, 'fleet: broker connection error');
  });
  return {
    publish: async (topic, payload, options) => {
      await client.publishAsync(topic, payload, options);
    },
    subscribe: async (filters) => {
      const granted = await client.subscribeAsync(filters, { qos: 1 });
      const refused = granted.filter((g) => g.qos === 128);
      if (refused.length) throw new Error(`broker refused subscription to ${refused.map((g) => g.topic).join(', ')}`);
    },
    unsubscribe: async (filters) => {
      await client.unsubscribeAsync(filters);
    },
    onMessage: (listener) => {
      const handler = (topic: string, payload: Buffer, packet: { retain?: boolean }) => listener(topic, payload, packet.retain === true);
      client.on('message', handler);
      return () => void client.off('message', handler);
    },
    onConnect: (listener) => {
      connectListeners.add(listener);
      if (client.connected) listener();
      return () => void connectListeners.delete(listener);
    },
    connected: () => client.connected,
    close: async () => {
      await Promise.race([client.endAsync(), new Promise((resolve) => setTimeout(resolve, 2000))]).catch(() => undefined);
      client.end(true);
    },
  };
}

/** Resolves once connected, or rejects after timeoutMs (one-shot commands want an answer, not a wait). */
export function whenConnected(transport: FleetTransport, url: string, timeoutMs = 10_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      stop();
      reject(new FacegateError('unavailable', `no answer from the broker at ${url} within ${timeoutMs} ms`));
    }, timeoutMs);
    const stop = transport.onConnect(() => {
      clearTimeout(timer);
      queueMicrotask(() => stop());
      resolve();
    });
  });
}
