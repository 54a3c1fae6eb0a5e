import { join } from 'node:path';
import type { Settings } from '../config/index.js';
import type { CommandPort } from '../core/commands.js';
import type { EventSink } from '../core/events.js';
import type { Logger } from '../log.js';
import { AttemptsFeature } from './attempts.js';
import { AvailabilityFeature } from './availability.js';
import { ManagedConnection, redactUrl, type LastWill } from './client.js';
import { CommandGate } from './commands.js';
import { Hub, type MqttFeature, type MqttLink } from './hub.js';
import { Outbox } from './outbox.js';
import { RemoteCommandsFeature } from './remote-commands.js';
import { ReplayCache } from './replay-cache.js';
import { StateFeature } from './state.js';
import { topicsFor } from './topics.js';

export interface MqttBridge extends EventSink {
  /** Stops every feature (availability last: `offline`, retained) and disconnects. */
  close(): Promise<void>;
  connected(): boolean;
  url: string;
}

/** The slices of the settings the bridge reads. */
export type BridgeSettings = Pick<Settings, 'deviceId' | 'deviceName' | 'mqtt' | 'paths'>;

export interface BridgeOptions {
  /**
   * MQTT clean session (default true): commands sent while the door was offline are dropped by the broker,
   * not replayed at reconnect. false is also safe (the age check and replay cache refuse replays), just noisier.
   */
  clean?: boolean;
  /** Minimum time between two Home Assistant button presses that are honoured (default 3000 ms). */
  pressMinIntervalMs?: number;
  now?: () => number;
  connectTimeoutMs?: number;
  /**
   * Connection settings that replace the configured ones: the daemon passes the embedded broker's own
   * credentials and dialect (3.1.1) when it started one.
   */
  connection?: Partial<Pick<Settings['mqtt'], 'url' | 'username' | 'password' | 'protocolVersion'>>;
  /** Features from outside mqtt/ (the fleet's site gallery) on the same connection, started after the built-in ones. */
  features?: Array<(link: MqttLink) => MqttFeature>;
}

/**
 * One MQTT connection and the features on it, each with start()/stop() (zigbee2mqtt's extension lifecycle):
 * availability, state, attempts (outbox and snapshots), commands (into the daemon's CommandPort) and, only
 * when enabled, Home Assistant discovery (imported lazily). A feature registers its subscriptions and
 * connect hooks with the hub and releases them when stopped.
 */
export async function startMqttBridge(settings: BridgeSettings, log: Logger, port: CommandPort, opts: BridgeOptions = {}): Promise<MqttBridge> {
  const mqttLog = log.child({ component: 'mqtt' });
  const mqtt = { ...settings.mqtt, ...opts.connection };
  const topics = topicsFor(settings);
  const now = opts.now ?? Date.now;
  const stateDir = join(settings.paths.state, 'mqtt');
  const replay = (file: string) => new ReplayCache(join(stateDir, file), mqtt.replayCacheSize, mqtt.commandMaxAgeMs, mqttLog);
  const gate = new CommandGate({
    deviceId: settings.deviceId,
    maxAgeMs: mqtt.commandMaxAgeMs,
    unlockEnabled: mqtt.unlock.enabled,
    secret: mqtt.unlock.secret,
    requireSignatures: mqtt.requireSignatures,
    unsignedPerMinute: mqtt.unsignedPerMinute,
    replay: replay('replay-cache.jsonl'),
    unsignedReplay: replay('replay-cache-unsigned.jsonl'),
    now,
  });

  const hub = new Hub(mqttLog);
  const will: LastWill = { topic: topics.availability, payload: 'offline', retain: true, qos: 1 };
  const connection = new ManagedConnection({ mqtt }, mqtt.clientId || `facegate-${settings.deviceId}`, will, hub.hooks(), mqttLog,
    { clean: opts.clean ?? true, connectTimeoutMs: opts.connectTimeoutMs });
  hub.connection = connection;

  const commands = new RemoteCommandsFeature(hub, topics, gate, port,
    { pressMinIntervalMs: opts.pressMinIntervalMs ?? 3000, revealToUnsigned: mqtt.revealToUnsigned, now }, mqttLog);
  const state = new StateFeature(hub, topics.state, mqttLog);
  const attempts = new AttemptsFeature(hub, new Outbox(join(stateDir, 'outbox.jsonl'), mqtt.outboxMax, mqttLog), {
    attemptTopic: topics.attempt,
    snapshotTopic: topics.snapshot,
    snapshots: mqtt.snapshots,
    mayShowFace: (event) => mqtt.revealToUnsigned || !commands.startedUnsigned(event.commandId),
  }, mqttLog);
  // Order matters on every connect: online first, then what the features publish.
  const features: MqttFeature[] = [new AvailabilityFeature(hub, topics.availability), state, attempts, commands];
  if (mqtt.homeAssistant.enabled) {
    const { HomeAssistantFeature } = await import('./homeassistant.js');
    features.push(new HomeAssistantFeature(hub, { ...settings, mqtt }, topics, mqttLog, now));
  }
  for (const make of opts.features ?? []) features.push(make(hub));
  for (const feature of features) await feature.start();
  connection.start();

  let closing: Promise<void> | null = null;
  return {
    url: redactUrl(connection.url),
    connected: () => connection.connected(),
    attempt: (event, snapshot) => attempts.attempt(event, snapshot),
    status: (event) => state.status(event),
    close: () => (closing ??= (async () => {
      hub.shuttingDown = true;
      for (const feature of [...features].reverse()) {
        await feature.stop().catch((error: unknown) => mqttLog.warn({ err: error, feature: feature.name }, 'mqtt: feature did not stop cleanly'));
      }
      await connection.close();
    })()),
  };
}
