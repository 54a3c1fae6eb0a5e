import type { IClientPublishOptions } from 'mqtt';
import type { Logger } from '../log.js';
import type { ConnectionHooks, ManagedConnection } from './client.js';
import type { OversizedPublish } from './packet-guard.js';

export interface InboundMessage {
  topic: string;
  payload: Buffer;
  /** The retain flag as it arrived (in MQTT 5 with retain-as-published: as the sender set it). */
  retained: boolean;
}

export type Release = () => Promise<void>;

/**
 * What a feature sees of the one shared MQTT connection. Subscriptions and connect hooks are registered once
 * and restored after every reconnect; each registration hands back its release, which is what a feature's
 * stop() calls, so stopping a feature leaves nothing of it subscribed.
 */
export interface MqttLink {
  connected(): boolean;
  protocolVersion(): 4 | 5;
  publish(topic: string, payload: string | Buffer, options: IClientPublishOptions): Promise<void>;
  subscribe(filters: string[], handler: (message: InboundMessage) => void): Promise<Release>;
  /** Runs after every (re)connect, once the subscriptions are back, in registration order. */
  onConnect(hook: () => Promise<void> | void): Release;
  /** A PUBLISH on a subscribed topic was too big to read (see packet-guard.ts). */
  onOversized(handler: (publish: OversizedPublish) => void): Release;
}

/** A feature of the MQTT bridge (availability, state, attempts, commands, Home Assistant). */
export interface MqttFeature {
  readonly name: string;
  start(): Promise<void>;
  /** Releases everything the feature registered; safe to call twice. */
  stop(): Promise<void>;
}

interface Subscription {
  filters: string[];
  handler: (message: InboundMessage) => void;
}

/** MQTT topic filter matching with `+` (one level) and `#` (the rest). */
export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i += 1) {
    if (f[i] === '#') return true;
    if (i >= t.length) return false;
    if (f[i] !== '+' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}

/** Routes one connection's messages to the features that subscribed; implements the connection's hooks. */
export class Hub implements MqttLink {
  connection!: ManagedConnection;
  private readonly subscriptions = new Set<Subscription>();
  private readonly connectHooks: (() => Promise<void> | void)[] = [];
  private readonly oversizedHandlers = new Set<(publish: OversizedPublish) => void>();
  /**
   * Set when the whole bridge shuts down: features still drop their handlers, but nothing is unsubscribed on
   * the wire, so a persistent session (clean: false) keeps its subscriptions for the next start, as before.
   */
  shuttingDown = false;

  constructor(private readonly log: Logger) {}

  connected(): boolean {
    return this.connection.connected();
  }

  protocolVersion(): 4 | 5 {
    return this.connection.protocolVersion();
  }

  publish(topic: string, payload: string | Buffer, options: IClientPublishOptions): Promise<void> {
    return this.connection.publish(topic, payload, options);
  }

  async subscribe(filters: string[], handler: (message: InboundMessage) => void): Promise<Release> {
    const subscription: Subscription = { filters, handler };
    this.subscriptions.add(subscription);
    if (this.connected()) await this.connection.subscribe(filters, 1);
    return async () => {
      if (!this.subscriptions.delete(subscription) || this.shuttingDown) return;
      const stillWanted = new Set([...this.subscriptions].flatMap((s) => s.filters));
      await this.connection.unsubscribe(filters.filter((f) => !stillWanted.has(f))).catch((error: Error) =>
        this.log.debug({ reason: error.message }, 'mqtt: unsubscribe failed (the connection is going anyway)'));
    };
  }

  onConnect(hook: () => Promise<void> | void): Release {
    this.connectHooks.push(hook);
    return async () => {
      const at = this.connectHooks.indexOf(hook);
      if (at >= 0) this.connectHooks.splice(at, 1);
    };
  }

  onOversized(handler: (publish: OversizedPublish) => void): Release {
    this.oversizedHandlers.add(handler);
    return async () => void this.oversizedHandlers.delete(handler);
  }

  /** After every (re)connect: one SUBSCRIBE for every feature's filters, then the features' connect hooks. */
  private async restore(): Promise<void> {
    const filters = [...new Set([...this.subscriptions].flatMap((s) => s.filters))];
    if (filters.length) await this.connection.subscribe(filters, 1);
    for (const hook of [...this.connectHooks]) await hook();
  }

  private dispatch(topic: string, payload: Buffer, retained: boolean): void {
    for (const subscription of [...this.subscriptions]) {
      if (!subscription.filters.some((filter) => topicMatches(filter, topic))) continue;
      try {
        subscription.handler({ topic, payload, retained });
      } catch (error) {
        this.log.error({ err: error, topic }, 'mqtt: message handler failed; message dropped');
      }
    }
  }

  private oversized(publish: OversizedPublish): void {
    this.log.warn({ topic: publish.topic.slice(0, 200), bytes: publish.bytes, retained: publish.retain },
      'mqtt: oversized message skipped without reading it');
    for (const handler of [...this.oversizedHandlers]) handler(publish);
  }

  /** The hooks object the ManagedConnection calls. */
  hooks(): ConnectionHooks {
    return {
      onConnect: () => this.restore(),
      onMessage: (topic, payload, retained) => this.dispatch(topic, payload, retained),
      onOversized: (publish) => this.oversized(publish),
    };
  }
}
