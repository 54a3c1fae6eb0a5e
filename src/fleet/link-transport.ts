import type { FleetTransport } from './transport.js';

/**
 * The daemon's one shared MQTT connection as seen by a feature (mqtt/hub.ts `MqttLink`), described here by
 * its shape so that fleet/ does not import mqtt/: the hub restores subscriptions after every reconnect and
 * runs connect hooks once they are back; each registration hands back its release.
 */
export interface SharedLink {
  connected(): boolean;
  publish(topic: string, payload: string | Buffer, options: { qos: 0 | 1; retain: boolean }): Promise<void>;
  subscribe(filters: string[], handler: (message: { topic: string; payload: Buffer; retained: boolean }) => void): Promise<() => Promise<void>>;
  onConnect(hook: () => Promise<void> | void): () => Promise<void>;
}

/**
 * A FleetTransport on the shared connection. A filter is registered with the hub once (the hub re-subscribes
 * it at every reconnect, and the broker then re-sends the retained entries); close() releases what the fleet
 * registered and leaves the connection to its owner.
 */
export function linkTransport(link: SharedLink): FleetTransport {
  const listeners = new Set<(topic: string, payload: Buffer, retained: boolean) => void>();
  const subscriptions = new Map<string, () => Promise<void>>();
  const hooks = new Set<() => Promise<void>>();
  const dispatch = (message: { topic: string; payload: Buffer; retained: boolean }) => {
    for (const listener of [...listeners]) listener(message.topic, message.payload, message.retained);
  };
  return {
    publish: (topic, payload, options) => link.publish(topic, payload, options),
    async subscribe(filters) {
      for (const filter of filters) {
        if (!subscriptions.has(filter)) subscriptions.set(filter, await link.subscribe([filter], dispatch));
      }
    },
    async unsubscribe(filters) {
      for (const filter of filters) {
        const release = subscriptions.get(filter);
        subscriptions.delete(filter);
        await release?.();
      }
    },
    onMessage(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    onConnect(listener) {
      const release = link.onConnect(listener);
      hooks.add(release);
      if (link.connected()) listener();
      return () => {
        hooks.delete(release);
        void release();
      };
    },
    connected: () => link.connected(),
    async close() {
      listeners.clear();
      for (const release of [...hooks]) await release();
      hooks.clear();
      for (const release of [...subscriptions.values()]) await release();
      subscriptions.clear();
    },
  };
}
