import net from 'node:net';
import tls from 'node:tls';
import type { Aedes, AedesOptions } from 'aedes';
import type { Settings } from '../config/index.js';
import type { Logger } from '../log.js';
import { lockHooks, ownerCredentials, ownerTopicFilters, type BrokerLock } from './broker-lock.js';
import { haNodeId } from './discovery.js';
import { GuardedStream } from './packet-guard.js';
import { topicsFor } from './topics.js';

/** An in-process MQTT 3.1.1 broker (aedes) for the embedded default and for tests. */
export interface EmbeddedBroker {
  host: string;
  port: number;
  url: string;
  /** Stops accepting and drops every client, keeping sessions, subscriptions and retained messages in memory. */
  stop(): Promise<void>;
  /** Listens again on the same port with the same in-memory state, like a broker restarted with persistence. */
  start(): Promise<void>;
  close(): Promise<void>;
  /** Calls listener for every message a client publishes (not the broker's own $SYS traffic). */
  onPublish(listener: (topic: string, payload: Buffer, clientId: string) => void): void;
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '::1', '[::1]']);

export function isLoopbackHost(host: string): boolean {
  return LOOPBACK.has(host) || host.startsWith('127.');
}

/** True when something accepts TCP connections at host:port within timeoutMs. */
export function isPortAnswering(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (answer: boolean) => {
      socket.destroy();
      resolve(answer);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * The biggest packet a client may send the embedded broker. aedes buffers a packet whole before it looks at
 * it, inside the daemon's process; 1 MiB leaves room for face snapshots (tens of KB) and nothing near the
 * 250 MB that once took the daemon from 288 to 842 MB.
 */
export const BROKER_MAX_PACKET_BYTES = 1024 * 1024;

export interface EmbeddedBrokerOptions {
  host?: string;
  port: number;
  tls?: { key: Buffer; cert: Buffer };
  /** Credentials, the daemon's reserved client id and topics (broker-lock.ts). Without it: open, loopback use. */
  lock?: BrokerLock;
  maxPacketBytes?: number;
}

/** Starts aedes on host:port (port 0 = any free port); with `tls` it speaks mqtts:// instead. */
export async function startEmbeddedBroker(options: EmbeddedBrokerOptions, log: Logger): Promise<EmbeddedBroker> {
  const host = options.host ?? '127.0.0.1';
  let port = options.port;
  let persistence: AedesOptions['persistence'] | undefined;
  let broker: Aedes | null = null;
  let server: net.Server | null = null;
  const sockets = new Set<net.Socket>();
  const publishListeners: ((topic: string, payload: Buffer, clientId: string) => void)[] = [];

  const start = async () => {
    let created: Aedes | null = null;
    const hooks = options.lock ? lockHooks(options.lock, () => created, log) : {};
    // Loaded here, not at the top: a daemon that finds a broker already running never needs aedes (a few MB of heap).
    const { Aedes: AedesBroker } = await import('aedes');
    const aedes = await AedesBroker.createBroker({ ...hooks, ...(persistence ? { persistence } : {}) });
    created = aedes;
    // aedes keeps its persistence on the instance but does not type it; reuse it across restarts.
    persistence = (aedes as unknown as { persistence: AedesOptions['persistence'] }).persistence;
    aedes.on('publish', (packet, client) => {
      if (client) for (const listener of publishListeners) listener(packet.topic, Buffer.from(packet.payload), client.id);
    });
    aedes.on('clientError', (client, error) => log.debug({ client: client.id, reason: error.message }, 'embedded broker: client error'));
    // No-delay on the broker side too: Nagle plus delayed ACK costs ~40-90 ms per QoS 1 round trip.
    const maxPacketBytes = options.maxPacketBytes ?? BROKER_MAX_PACKET_BYTES;
    const accept = (socket: net.Socket) => {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
      // Size before buffering: an oversized packet ends the client's connection after its first 5 bytes.
      const guarded: GuardedStream = new GuardedStream(socket, maxPacketBytes, (publish) => {
        log.warn({ bytes: publish.bytes, topic: publish.topic.slice(0, 200) }, 'embedded broker: oversized packet; client disconnected');
        guarded.destroy();
      }, false);
      guarded.on('error', (error: Error) => log.debug({ reason: error.message }, 'embedded broker: connection ended'));
      aedes.handle(guarded);
    };
    const listener = options.tls
      ? tls.createServer({ key: options.tls.key, cert: options.tls.cert, noDelay: true }, accept)
      : net.createServer({ noDelay: true }, accept);
    try {
      await new Promise<void>((resolve, reject) => {
        listener.once('error', reject);
        listener.listen(port, host, () => {
          listener.off('error', reject);
          resolve();
        });
      });
    } catch (error) {
      // Port taken: stop the broker's heartbeat timer too, or it keeps the process alive.
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      throw error;
    }
    port = (listener.address() as net.AddressInfo).port;
    broker = aedes;
    server = listener;
    log.info({ host, port }, 'embedded MQTT broker (aedes) listening');
  };

  const stop = async () => {
    const [aedes, listener] = [broker, server];
    broker = null;
    server = null;
    if (!listener || !aedes) return;
    const closed = new Promise<void>((resolve) => listener.close(() => resolve()));
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => aedes.close(() => resolve()));
    await closed;
  };

  await start();
  return {
    host,
    get port() {
      return port;
    },
    get url() {
      return `${options.tls ? 'mqtts' : 'mqtt'}://${host.includes(':') ? `[${host}]` : host}:${port}`;
    },
    stop,
    start: async () => {
      if (!server) await start();
    },
    close: stop,
    onPublish: (listener) => publishListeners.push(listener),
  };
}

/** What the daemon's own connection uses when it talks to the embedded broker it started. */
export interface EmbeddedConnection {
  username: string;
  password: string;
  /** aedes speaks MQTT 3.1.1 only. */
  protocolVersion: 4;
}

/**
 * mqtt.embedded: "always" starts aedes on the URL's port; "auto" only when nothing answers there and the URL
 * points at this machine; "never" does not. A failure to listen is logged, never thrown: the daemon runs on
 * and queues. A non-loopback address without mqtt.username/password is refused: it would put an open broker
 * (snapshots, commands) on every network the machine is on.
 */
export async function maybeStartEmbeddedBroker(
  settings: Pick<Settings, 'deviceId' | 'mqtt'>,
  log: Logger,
): Promise<{ broker: EmbeddedBroker; connection: EmbeddedConnection } | null> {
  const mqtt = settings.mqtt;
  if (mqtt.embedded === 'never') return null;
  const url = new URL(mqtt.url);
  if (url.protocol !== 'mqtt:' && url.protocol !== 'tcp:') {
    if (mqtt.embedded === 'always') log.warn({ protocol: url.protocol }, 'embedded broker only speaks plain mqtt://; not started');
    return null;
  }
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = Number(url.port) || 1883;
  const credentials = mqtt.username && mqtt.password ? { username: mqtt.username, password: mqtt.password } : null;
  if (mqtt.embedded === 'auto') {
    if (!isLoopbackHost(host)) return null;
    if (await isPortAnswering(host === 'localhost' ? '127.0.0.1' : host, port)) return null;
  }
  if (!isLoopbackHost(host) && !credentials) {
    log.error({ host }, 'embedded MQTT broker NOT started: it would listen beyond this machine without a password; ' +
      'set mqtt.username and mqtt.password, or a loopback mqtt.url');
    return null;
  }
  const topics = topicsFor(settings);
  const own = ownerCredentials();
  const lock: BrokerLock = {
    credentials,
    owner: { clientId: mqtt.clientId || `facegate-${settings.deviceId}`, ...own,
      ...ownerTopicFilters(topics.root, mqtt.homeAssistant.prefix, haNodeId(settings.deviceId)) },
  };
  try {
    const broker = await startEmbeddedBroker({ host: host === 'localhost' ? '127.0.0.1' : host, port, lock }, log);
    return { broker, connection: { ...own, protocolVersion: 4 } };
  } catch (error) {
    log.error({ err: error, port }, 'embedded MQTT broker could not start; the bridge keeps retrying the URL');
    return null;
  }
}
