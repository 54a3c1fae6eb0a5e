import type { Logger } from '../log.js';
import { discoveryMessages, type DiscoverySettings } from './discovery.js';
import type { InboundMessage, MqttFeature, MqttLink, Release } from './hub.js';
import type { Topics } from './topics.js';

/** Home Assistant restarts take ~30 s and may say `online` more than once; anyone can publish on that topic. */
export const REPUBLISH_MIN_INTERVAL_MS = 30_000;

/**
 * Home Assistant discovery: retained entity configs at every connect, again when Home Assistant says it is
 * back (`<prefix>/status` = `online`), at most once per REPUBLISH_MIN_INTERVAL_MS: a burst of status
 * messages costs one republish now and one at the end of the interval, not one each (anyone who may publish
 * there could otherwise keep the door republishing a dozen retained configs in a loop). This module is imported
 * only when mqtt.homeAssistant.enabled is on: the feature does not exist otherwise.
 */
export class HomeAssistantFeature implements MqttFeature {
  readonly name = 'homeassistant';
  private readonly releases: Release[] = [];
  private lastPublishedAt = -Infinity;
  private deferred: NodeJS.Timeout | null = null;

  constructor(
    private readonly link: MqttLink,
    private readonly settings: DiscoverySettings,
    private readonly topics: Topics,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
    private readonly minIntervalMs = REPUBLISH_MIN_INTERVAL_MS,
  ) {}

  async start(): Promise<void> {
    this.releases.push(await this.link.subscribe([this.topics.homeAssistantStatus], (m) => this.onStatus(m)));
    this.releases.push(this.link.onConnect(() => this.publish()));
  }

  async stop(): Promise<void> {
    if (this.deferred) clearTimeout(this.deferred);
    this.deferred = null;
    for (const release of this.releases.splice(0)) await release();
  }

  private onStatus({ payload, retained }: InboundMessage): void {
    if (payload.toString() !== 'online' || retained) return;
    const wait = this.lastPublishedAt + this.minIntervalMs - this.now();
    if (wait <= 0) {
      this.log.info('Home Assistant restarted: republishing discovery');
      this.lastPublishedAt = this.now();
      this.publish().catch(() => undefined);
    } else if (!this.deferred) {
      this.log.debug({ waitMs: wait }, 'Home Assistant status again: discovery republished once the interval is over');
      this.deferred = setTimeout(() => {
        this.deferred = null;
        this.lastPublishedAt = this.now();
        this.publish().catch(() => undefined);
      }, wait);
      this.deferred.unref();
    }
  }

  private async publish(): Promise<void> {
    for (const message of discoveryMessages(this.settings, this.topics)) {
      await this.link.publish(message.topic, message.payload, { qos: 1, retain: true });
    }
  }
}
