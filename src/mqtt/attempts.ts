import type { AttemptEvent } from '../core/events.js';
import type { Logger } from '../log.js';
import type { MqttFeature, MqttLink, Release } from './hub.js';
import type { Outbox } from './outbox.js';

export interface AttemptsOptions {
  attemptTopic: string;
  snapshotTopic: string;
  /** mqtt.snapshots */
  snapshots: boolean;
  /** False for attempts an unauthenticated command started (unless mqtt.revealToUnsigned): no face for them. */
  mayShowFace: (event: AttemptEvent) => boolean;
}

/**
 * `attempt` events, durably queued first (outbox.ts) and sent in order: the door never waits for the broker.
 * `snapshot`: the face of the last attempt, live only, retained so a dashboard shows it after a restart;
 * with snapshots off the retained picture is cleared at every connect.
 */
export class AttemptsFeature implements MqttFeature {
  readonly name = 'attempts';
  private draining: Promise<void> | null = null;
  private release: Release | null = null;

  constructor(
    private readonly link: MqttLink,
    private readonly outbox: Outbox,
    private readonly options: AttemptsOptions,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    this.release = this.link.onConnect(async () => {
      if (!this.options.snapshots) await this.link.publish(this.options.snapshotTopic, '', { qos: 1, retain: true });
      void this.drain();
    });
  }

  async stop(): Promise<void> {
    await this.release?.();
    this.release = null;
  }

  async attempt(event: AttemptEvent, snapshot?: Buffer): Promise<void> {
    this.outbox.push({ topic: this.options.attemptTopic, payload: JSON.stringify(event) });
    // Snapshots are not queued: a face picture should not linger in a queue, and a late one would mislead.
    if (snapshot && this.options.snapshots && this.link.connected() && this.options.mayShowFace(event)) {
      this.link.publish(this.options.snapshotTopic, snapshot, { qos: 0, retain: true }).catch(() => undefined);
    }
    void this.drain();
  }

  /** One drain loop at a time; it stops on the first failure and the next connect restarts it. */
  drain(): Promise<void> {
    if (this.draining) return this.draining;
    const run = async () => {
      // Yield first, so the loop never finishes before `this.draining` is assigned.
      await Promise.resolve();
      try {
        for (let head = this.outbox.peek(); head && this.link.connected(); head = this.outbox.peek()) {
          await this.link.publish(head.topic, head.payload, { qos: 1, retain: false });
          this.outbox.shift();
        }
      } catch (error) {
        this.log.debug({ reason: (error as Error).message, queued: this.outbox.size }, 'mqtt: outbox drain paused');
      } finally {
        this.draining = null;
      }
    };
    this.draining = run();
    return this.draining;
  }
}
