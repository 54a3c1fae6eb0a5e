import net from 'node:net';
import tls from 'node:tls';
import { readFileSync } from 'node:fs';
import { MqttClient, connect as mqttConnect, type IClientOptions, type IClientPublishOptions, type Packet } from 'mqtt';
import type { Settings } from '../config/index.js';
import type { Logger } from '../log.js';
import { GuardedStream, guardedTcp, type OversizedPublish } from './packet-guard.js';

export interface LastWill {
  topic: string;
  payload: string;
  retain: boolean;
  qos: 0 | 1;
}

export interface ConnectionHooks {
  /** Called after every successful CONNACK; subscriptions and the availability message go here. */
  onConnect(): Promise<void> | void;
  onMessage(topic: string, payload: Buffer, retained: boolean): void;
  /** A PUBLISH over mqtt.maxPacketBytes was skipped unread (3.1.1 stream guard). */
  onOversized?(publish: OversizedPublish): void;
  onDisconnect?(): void;
}

/** CONNACK codes meaning "I do not speak this protocol version": 1 in MQTT 3.1.1, 0x84 in MQTT 5. */
const UNSUPPORTED_PROTOCOL = new Set([1, 0x84]);

/** Raised by publish() when there is no connection; callers queue instead. */
export class NotConnectedError extends Error {
  constructor(message = 'not connected to the MQTT broker') {
    super(message);
    this.name = 'NotConnectedError';
  }
}

/**
 * Exponential backoff with "equal jitter": half the delay is fixed, half random, so a fleet of doors
 * restarting together after a power cut does not hammer the broker in lockstep, yet never retries at 0 ms.
 */
export function backoffDelay(failures: number, minMs: number, maxMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(maxMs, minMs * 2 ** Math.min(failures, 30));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/** The URL without user name or password, for logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return '(unparseable url)';
  }
}

/** A connection that stayed up this long counts as healthy and resets the reconnect backoff. */
const STABLE_CONNECTION_MS = 10_000;

const readPem = (file: string | null) => (file ? readFileSync(file) : undefined);

/**
 * One logical MQTT connection that we reconnect ourselves (mqtt.js only knows a fixed reconnectPeriod).
 * Each attempt is a fresh MqttClient: nothing un-acknowledged is silently re-sent by mqtt.js behind our back,
 * so the outbox alone decides what is (re)published, and in which order.
 */
export class ManagedConnection {
  private client: MqttClient | null = null;
  private isConnected = false;
  private closing = false;
  private failures = 0;
  private retryTimer: NodeJS.Timeout | null = null;
  private readonly lostListeners = new Set<() => void>();
  /** The protocol in use: the configured one, or 4 after a broker refused MQTT 5. */
  private version: 4 | 5;
  readonly url: string;

  constructor(
    private readonly settings: Pick<Settings, 'mqtt'>,
    private readonly clientId: string,
    private readonly will: LastWill,
    private readonly hooks: ConnectionHooks,
    private readonly log: Logger,
    private readonly options: { clean: boolean; connectTimeoutMs?: number },
  ) {
    this.url = settings.mqtt.url;
    this.version = settings.mqtt.protocolVersion === 5 ? 5 : 4;
  }

  connected(): boolean {
    return this.isConnected;
  }

  protocolVersion(): 4 | 5 {
    return this.version;
  }

  /** Starts connecting in the background; never throws and never waits for the broker. */
  start(): void {
    this.connectOnce();
  }

  private clientOptions(): IClientOptions {
    const m = this.settings.mqtt;
    return {
      clientId: this.clientId,
      protocolVersion: this.version,
      // MQTT 5: the broker must not send us anything bigger (it drops it instead), so nothing big is buffered.
      ...(this.version === 5 ? { properties: { maximumPacketSize: m.maxPacketBytes } } : {}),
      keepalive: m.keepaliveS,
      clean: this.options.clean,
      reconnectPeriod: 0,
      connectTimeout: this.options.connectTimeoutMs ?? 10_000,
      username: m.username ?? undefined,
      password: m.password ?? undefined,
      will: { topic: this.will.topic, payload: Buffer.from(this.will.payload), retain: this.will.retain, qos: this.will.qos },
      resubscribe: false,
    };
  }

  private createClient(): MqttClient {
    const m = this.settings.mqtt;
    const url = new URL(m.url);
    const options = this.clientOptions();
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const secure = url.protocol === 'mqtts:' || url.protocol === 'ssl:';
    if (url.protocol === 'ws:' || url.protocol === 'wss:') {
      return mqttConnect(m.url, {
        ...options,
        ca: readPem(m.tls.ca),
        cert: readPem(m.tls.cert),
        key: readPem(m.tls.key),
        rejectUnauthorized: m.tls.rejectUnauthorized,
      });
    }
    const port = Number(url.port) || (secure ? 8883 : 1883);
    // Our own stream so that Nagle is off: a QoS 1 round trip measured 88 ms with it, 0.15 ms without.
    // Every received byte passes the size guard before mqtt.js buffers a packet (packet-guard.ts).
    const guarded = (socket: net.Socket) =>
      new GuardedStream(socket, m.maxPacketBytes, (publish) => this.hooks.onOversized?.(publish));
    const streamBuilder = () => {
      if (!secure) return guardedTcp(host, port, m.maxPacketBytes, (publish) => this.hooks.onOversized?.(publish));
      const socket = tls.connect({
        host,
        port,
        servername: net.isIP(host) ? undefined : host,
        ca: readPem(m.tls.ca),
        cert: readPem(m.tls.cert),
        key: readPem(m.tls.key),
        rejectUnauthorized: m.tls.rejectUnauthorized,
      });
      socket.setNoDelay(true);
      return guarded(socket);
    };
    return new MqttClient(streamBuilder, options);
  }

  private connectOnce(): void {
    if (this.closing) return;
    this.retryTimer = null;
    let client: MqttClient;
    try {
      client = this.createClient();
    } catch (error) {
      this.log.error({ err: error, url: redactUrl(this.url) }, 'mqtt: cannot create the client (check the TLS files)');
      this.scheduleRetry();
      return;
    }
    this.client = client;
    let thisClientConnected = false;
    let connectedAt = 0;
    client.on('connect', () => {
      if (this.client !== client) return;
      thisClientConnected = true;
      connectedAt = Date.now();
      this.isConnected = true;
      this.log.info({ url: redactUrl(this.url), clientId: this.clientId }, 'mqtt: connected');
      Promise.resolve(this.hooks.onConnect()).catch((error: unknown) => {
        if (this.closing) return;
        this.log.warn({ err: error }, 'mqtt: setup after connect failed; reconnecting');
        client.stream?.destroy();
      });
    });
    client.on('message', (topic: string, payload: Buffer, packet: Packet) => {
      if (this.client !== client) return;
      this.hooks.onMessage(topic, payload, (packet as { retain?: boolean }).retain === true);
    });
    client.on('error', (error: Error & { code?: unknown }) => {
      if (this.version === 5 && typeof error.code === 'number' && UNSUPPORTED_PROTOCOL.has(error.code)) {
        this.version = 4;
        this.log.warn({ url: redactUrl(this.url) }, 'mqtt: the broker does not speak MQTT 5; using 3.1.1, where a retained ' +
          'command sent while facegate is connected cannot be told from a live one (see docs/mqtt.md)');
      }
      // Never log the options: they hold the password. While the broker stays down, every 10th is enough.
      const level = this.failures % 10 === 0 ? 'warn' : 'debug';
      this.log[level]({ url: redactUrl(this.url), reason: error.message, failures: this.failures }, 'mqtt: connection error');
    });
    client.on('close', () => {
      if (this.client !== client) return;
      this.client = null;
      client.removeAllListeners('connect');
      client.end(true);
      if (thisClientConnected) {
        this.isConnected = false;
        // Only a connection that lasted resets the backoff: a broker that accepts and at once drops us
        // (another client with our id, an ACL) must not turn into a reconnect loop at the minimum delay.
        const lastedMs = Date.now() - connectedAt;
        if (lastedMs >= STABLE_CONNECTION_MS) this.failures = 0;
        this.log.warn({ url: redactUrl(this.url), lastedMs }, lastedMs < STABLE_CONNECTION_MS
          ? 'mqtt: disconnected soon after connecting (is another client using the same client id?)'
          : 'mqtt: disconnected');
        for (const lost of [...this.lostListeners]) lost();
        this.hooks.onDisconnect?.();
      }
      this.scheduleRetry();
    });
  }

  private scheduleRetry(): void {
    if (this.closing || this.retryTimer) return;
    const m = this.settings.mqtt;
    const delay = backoffDelay(this.failures, m.reconnectMinMs, m.reconnectMaxMs);
    this.failures += 1;
    this.log.debug({ delayMs: delay, failures: this.failures }, 'mqtt: reconnect scheduled');
    this.retryTimer = setTimeout(() => this.connectOnce(), delay);
  }

  /** Resolves when the broker acknowledged (QoS 1) or the packet left (QoS 0); rejects when not connected. */
  publish(topic: string, payload: string | Buffer, options: IClientPublishOptions): Promise<void> {
    const client = this.client;
    if (!client || !this.isConnected) return Promise.reject(new NotConnectedError());
    return new Promise((resolve, reject) => {
      const lost = () => reject(new NotConnectedError('connection lost before the broker acknowledged'));
      this.lostListeners.add(lost);
      client.publish(topic, payload, options, (error) => {
        this.lostListeners.delete(lost);
        if (error) reject(error);
        else resolve();
      });
    });
  }

  /**
   * MQTT 5 subscriptions ask for retain-as-published (a retained command stays recognisable as retained when
   * the broker forwards it live; in 3.1.1 the flag is cleared) and no-local (our own clearing of a retained
   * command does not come back to us).
   */
  async subscribe(filters: string[], qos: 0 | 1): Promise<void> {
    const client = this.client;
    if (!client || !this.isConnected) throw new NotConnectedError();
    const granted = await client.subscribeAsync(filters, this.version === 5 ? { qos, rap: true, nl: true } : { qos });
    const refused = granted.filter((g) => g.qos === 128);
    if (refused.length) throw new Error(`broker refused subscription to ${refused.map((g) => g.topic).join(', ')}`);
  }

  async unsubscribe(filters: string[]): Promise<void> {
    const client = this.client;
    if (!client || !this.isConnected || filters.length === 0) return;
    await client.unsubscribeAsync(filters);
  }

  /** Sends the given messages (best effort) and disconnects cleanly; no reconnect afterwards. */
  async close(finalMessages: LastWill[] = []): Promise<void> {
    this.closing = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    const client = this.client;
    this.client = null;
    if (!client) return;
    if (this.isConnected) {
      for (const m of finalMessages) {
        await withTimeout(client.publishAsync(m.topic, m.payload, { qos: m.qos, retain: m.retain }), 2000).catch(() => undefined);
      }
      await withTimeout(client.endAsync(), 2000).catch(() => client.end(true));
    } else {
      client.end(true);
    }
    this.isConnected = false;
    for (const lost of [...this.lostListeners]) lost();
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
