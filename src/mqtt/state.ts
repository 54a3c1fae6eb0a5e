import type { StatusEvent } from '../core/events.js';
import type { Logger } from '../log.js';
import type { MqttFeature, MqttLink, Release } from './hub.js';

/** `state`: the newest StatusEvent, retained; not queued (only the newest matters), sent again on reconnect. */
export class StateFeature implements MqttFeature {
  readonly name = 'state';
  private last: StatusEvent | null = null;
  private release: Release | null = null;

  constructor(
    private readonly link: MqttLink,
    private readonly topic: string,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    this.release = this.link.onConnect(() => (this.last ? this.publish(this.last) : undefined));
  }

  async stop(): Promise<void> {
    await this.release?.();
    this.release = null;
  }

  /** Not awaited past the hand-over: a half-open connection must not hold up the door (or its stop). */
  async status(event: StatusEvent): Promise<void> {
    this.last = event;
    if (this.link.connected()) void this.publish(event);
  }

  private async publish(event: StatusEvent): Promise<void> {
    await this.link
      .publish(this.topic, JSON.stringify(event), { qos: 1, retain: true })
      .catch((error: Error) => this.log.debug({ reason: error.message }, 'mqtt: state not published; sent again on reconnect'));
  }
}
