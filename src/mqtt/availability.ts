import type { MqttFeature, MqttLink, Release } from './hub.js';

/**
 * `availability`: `online` (retained) after every connect, `offline` (retained) when stopped; the connection's
 * Last Will says `offline` when the daemon dies without stopping.
 */
export class AvailabilityFeature implements MqttFeature {
  readonly name = 'availability';
  private release: Release | null = null;

  constructor(
    private readonly link: MqttLink,
    private readonly topic: string,
  ) {}

  async start(): Promise<void> {
    this.release = this.link.onConnect(() => this.link.publish(this.topic, 'online', { qos: 1, retain: true }));
  }

  async stop(): Promise<void> {
    await this.release?.();
    this.release = null;
    if (this.link.connected()) await withTimeout(this.link.publish(this.topic, 'offline', { qos: 1, retain: true }), 2000).catch(() => undefined);
  }
}

export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
