import net from 'node:net';
import tls from 'node:tls';
import { Aedes, type AedesOptions } from 'aedes';
import type { Settings } from '../config/index.js';
import type { Logger } from '../log.js';

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

/** Starts aedes on host:port (port 0 = any free port); with `tls` it speaks mqtts:// instead. */
export async function startEmbeddedBroker(
  options: { host?: string; port: number; tls?: { key: Buffer; cert: Buffer } },
  log: Logger,
): Promise<EmbeddedBroker> {
  const host = options.host ?? '127.0.0.1';
  let port = options.port;
  let persistence: AedesOptions['persistence'] | undefined;
  let broker: Aedes | null = null;
  let server: net.Server | null = null;
  const sockets = new Set<net.Socket>();
  const publishListeners: ((topic: string, payload: Buffer, clientId: string) => void)[] = [];

  const start = async () => {
    const aedes = await Aedes.createBroker(persistence ? { persistence } : {});
    // aedes keeps its persistence on the instance but does not type it; reuse it across restarts.
    persistence = (aedes as unknown as { persistence: AedesOptions['persistence'] }).persistence;
    aedes.on('publish', (packet, client) => {
      if (client) for (const listener of publishListeners) listener(packet.topic, Buffer.from(packet.payload), client.id);
    });
    aedes.on('clientError', (client, error) => log.debug({ client: client.id, reason: error.message }, 'embedded broker: client error'));
    // No-delay on the broker side too: Nagle plus delayed ACK costs ~40-90 ms per QoS 1 round trip.
    const accept = (socket: net.Socket) => {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
      aedes.handle(socket);
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

/**
 * mqtt.embedded: "always" starts aedes on the URL's port; "auto" only when nothing answers there and the URL
 * points at this machine; "never" does not. A failure is logged, never thrown: the daemon runs on and queues.
 */
export async function maybeStartEmbeddedBroker(mqtt: Settings['mqtt'], log: Logger): Promise<EmbeddedBroker | null> {
  if (mqtt.embedded === 'never') return null;
  const url = new URL(mqtt.url);
  if (url.protocol !== 'mqtt:' && url.protocol !== 'tcp:') {
    if (mqtt.embedded === 'always') log.warn({ protocol: url.protocol }, 'embedded broker only speaks plain mqtt://; not started');
    return null;
  }
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = Number(url.port) || 1883;
  if (mqtt.embedded === 'auto') {
    if (!isLoopbackHost(host)) return null;
    if (await isPortAnswering(host === 'localhost' ? '127.0.0.1' : host, port)) return null;
  }
  try {
    return await startEmbeddedBroker({ host: host === 'localhost' ? '127.0.0.1' : host, port }, log);
  } catch (error) {
    log.error({ err: error, port }, 'embedded MQTT broker could not start; the bridge keeps retrying the URL');
    return null;
  }
}
