import type { Settings } from '../config/index.js';
import type { CommandPort } from '../core/commands.js';
import type { EventSink } from '../core/events.js';
import type { Logger } from '../log.js';
import type { MqttFeature, MqttLink } from '../mqtt/hub.js';

/** An event sink that also owns a connection (the MQTT bridge: close() publishes "offline"). */
export interface ClosableSink extends EventSink {
  close(): Promise<void>;
}

/** What else rides on the bridge's one connection: features from outside mqtt/ (the fleet). */
export interface MqttExtras {
  features?: Array<(link: MqttLink) => MqttFeature>;
}

/**
 * MQTT: the composition root decides whether a broker runs in this process (mqtt.embedded), then connects the
 * bridge, with the embedded broker's own credentials when it started one. The bridge only ever connects.
 */
export async function startMqttTransport(settings: Settings, log: Logger, port: CommandPort, extras: MqttExtras = {}): Promise<ClosableSink> {
  const { maybeStartEmbeddedBroker } = await import('../mqtt/broker.js');
  const { startMqttBridge } = await import('../mqtt/bridge.js');
  const embedded = await maybeStartEmbeddedBroker(settings, log.child({ component: 'mqtt-broker' }));
  try {
    const bridge = await startMqttBridge(settings, log, port, { connection: embedded?.connection, ...(extras.features ? { features: extras.features } : {}) });
    return {
      attempt: (event, snapshot) => bridge.attempt(event, snapshot),
      status: (event) => bridge.status(event),
      close: async () => {
        await bridge.close();
        await embedded?.broker.close();
      },
    };
  } catch (error) {
    await embedded?.broker.close();
    throw error;
  }
}
