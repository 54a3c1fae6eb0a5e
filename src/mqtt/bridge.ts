import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { Settings } from '../config/index.js';
import type { AttemptEvent, EventSink, StatusEvent } from '../core/events.js';
import type { Logger } from '../log.js';
import { maybeStartEmbeddedBroker, type EmbeddedBroker } from './broker.js';
import { ManagedConnection, redactUrl, type LastWill } from './client.js';
import { CommandGate, type CommandVerdict } from './commands.js';
import { discoveryMessages } from './discovery.js';
import { Outbox } from './outbox.js';
import { ReplayCache } from './replay-cache.js';
import { commandNameOf, topicsFor, type Topics } from './topics.js';

/** What the daemon does for a command that passed every check. Handlers refuse by returning a reason. */
export interface CommandHandlers {
  verify(commandId: string): Promise<AttemptEvent | { refused: string }>;
  unlock(commandId: string): Promise<{ ok: true } | { refused: string }>;
  reload(): Promise<{ ok: true } | { refused: string }>;
}

export interface MqttBridge extends EventSink {
  /** Publishes `offline` (retained), disconnects, and stops the embedded broker if this bridge started it. */
  close(): Promise<void>;
  connected(): boolean;
  url: string;
}

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
  /** Override the embedded-broker decision (tests start their own). */
  startEmbedded?: boolean;
}

type Result = { id: string | null; command: string; ok: boolean; reason?: string; attemptId?: string; decision?: string; identity?: string | null };

export async function startMqttBridge(settings: Settings, log: Logger, handlers: CommandHandlers, opts: BridgeOptions = {}): Promise<MqttBridge> {
  const mqttLog = log.child({ component: 'mqtt' });
  const topics = topicsFor(settings);
  const now = opts.now ?? Date.now;
  const stateDir = join(settings.paths.state, 'mqtt');
  const outbox = new Outbox(join(stateDir, 'outbox.jsonl'), settings.mqtt.outboxMax, mqttLog);
  const replay = new ReplayCache(join(stateDir, 'replay-cache.jsonl'), settings.mqtt.replayCacheSize, settings.mqtt.commandMaxAgeMs, mqttLog);
  const gate = new CommandGate({
    deviceId: settings.deviceId,
    maxAgeMs: settings.mqtt.commandMaxAgeMs,
    unlockEnabled: settings.mqtt.unlock.enabled,
    unlockSecret: settings.mqtt.unlock.secret,
    replay,
    now,
  });
  const embedded: EmbeddedBroker | null =
    opts.startEmbedded === false ? null : await maybeStartEmbeddedBroker(settings.mqtt, mqttLog);

  const bridge = new Bridge(settings, mqttLog, handlers, topics, outbox, gate, now, opts.pressMinIntervalMs ?? 3000);
  const will: LastWill = { topic: topics.availability, payload: 'offline', retain: true, qos: 1 };
  const connection = new ManagedConnection(
    settings,
    settings.mqtt.clientId || `facegate-${settings.deviceId}`,
    will,
    { onConnect: () => bridge.onConnect(), onMessage: (t, p, r) => bridge.onMessage(t, p, r) },
    mqttLog,
    { clean: opts.clean ?? true, connectTimeoutMs: opts.connectTimeoutMs },
  );
  bridge.connection = connection;
  connection.start();
  return {
    url: redactUrl(connection.url),
    connected: () => connection.connected(),
    attempt: (event, snapshot) => bridge.attempt(event, snapshot),
    status: (event) => bridge.status(event),
    close: async () => {
      await connection.close([will]);
      await embedded?.close();
    },
  };
}

class Bridge {
  connection!: ManagedConnection;
  private lastStatus: StatusEvent | null = null;
  private draining: Promise<void> | null = null;
  private lastPressAt = -Infinity;

  constructor(
    private readonly settings: Settings,
    private readonly log: Logger,
    private readonly handlers: CommandHandlers,
    private readonly topics: Topics,
    private readonly outbox: Outbox,
    private readonly gate: CommandGate,
    private readonly now: () => number,
    private readonly pressMinIntervalMs: number,
  ) {}

  async onConnect(): Promise<void> {
    const filters = [this.topics.commandFilter, this.topics.verifyPress];
    if (this.settings.mqtt.homeAssistant.enabled) filters.push(this.topics.homeAssistantStatus);
    await this.connection.subscribe(filters, 1);
    await this.connection.publish(this.topics.availability, 'online', { qos: 1, retain: true });
    if (this.settings.mqtt.homeAssistant.enabled) await this.publishDiscovery();
    if (this.lastStatus) await this.publishStatus(this.lastStatus);
    this.drain();
  }

  /** Durably queued first, then sent in order: the door never waits for the broker. */
  async attempt(event: AttemptEvent, snapshot?: Buffer): Promise<void> {
    this.outbox.push({ topic: this.topics.attempt, payload: JSON.stringify(event) });
    // Snapshots are live-only (large, and a face picture should not linger in a queue or as retained).
    if (snapshot && this.settings.mqtt.snapshots && this.connection.connected()) {
      this.connection.publish(this.topics.snapshot, snapshot, { qos: 0, retain: false }).catch(() => undefined);
    }
    this.drain();
  }

  /** Not awaited past the hand-over: a half-open connection must not hold up the door (or its stop). */
  async status(event: StatusEvent): Promise<void> {
    this.lastStatus = event;
    if (this.connection.connected()) void this.publishStatus(event);
  }

  private async publishStatus(event: StatusEvent): Promise<void> {
    await this.connection
      .publish(this.topics.state, JSON.stringify(event), { qos: 1, retain: true })
      .catch((error: Error) => this.log.debug({ reason: error.message }, 'mqtt: state not published; sent again on reconnect'));
  }

  private async publishDiscovery(): Promise<void> {
    for (const message of discoveryMessages(this.settings, this.topics)) {
      await this.connection.publish(message.topic, message.payload, { qos: 1, retain: true });
    }
  }

  /** One drain loop at a time; it stops on the first failure and the next connect restarts it. */
  drain(): Promise<void> {
    if (this.draining) return this.draining;
    const run = async () => {
      // Yield first, so the loop never finishes before `this.draining` is assigned.
      await Promise.resolve();
      try {
        for (let head = this.outbox.peek(); head && this.connection.connected(); head = this.outbox.peek()) {
          await this.connection.publish(head.topic, head.payload, { qos: 1, retain: false });
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

  onMessage(topic: string, payload: Buffer, retained: boolean): void {
    if (topic === this.topics.homeAssistantStatus) {
      if (payload.toString() === 'online' && !retained) {
        this.log.info('Home Assistant restarted: republishing discovery');
        this.publishDiscovery().catch(() => undefined);
      }
      return;
    }
    if (topic === this.topics.verifyPress) {
      this.onPress(retained);
      return;
    }
    const name = commandNameOf(this.topics, topic);
    if (name === null) return;
    if (payload.length === 0) {
      // An empty payload is how a retained message is deleted (we do it ourselves below): not a command.
      this.log.debug({ command: name }, 'mqtt: empty command payload ignored (retained message cleared)');
      return;
    }
    if (retained) {
      // Left behind on the broker it would come back at every reconnect; clear it after refusing it.
      this.connection.publish(topic, '', { qos: 1, retain: true }).catch(() => undefined);
    }
    let verdict: CommandVerdict;
    try {
      verdict = this.gate.check(name, payload, retained);
    } catch (error) {
      this.log.error({ err: error, command: name }, 'mqtt: command check failed; refusing');
      verdict = { ok: false, name, id: null, reason: 'internal error while checking the command' };
    }
    if (!verdict.ok) {
      this.log.warn({ command: name, commandId: verdict.id, reason: verdict.reason }, 'mqtt: command refused');
      this.publishResult(name, { id: verdict.id, command: name, ok: false, reason: verdict.reason });
      return;
    }
    this.log.info({ command: verdict.name, commandId: verdict.id }, 'mqtt: command accepted');
    this.execute(verdict.name, verdict.id).then(
      (result) => this.publishResult(verdict.name, result),
      (error: unknown) => {
        this.log.error({ err: error, command: verdict.name, commandId: verdict.id }, 'mqtt: command failed');
        this.publishResult(verdict.name, { id: verdict.id, command: verdict.name, ok: false, reason: `failed: ${(error as Error).message ?? error}` });
      },
    );
  }

  /**
   * Home Assistant buttons send a fixed payload (no fresh id or ts to check), so cmd/verify/press can only ever
   * start a verification, exactly like the door's push button, and at most once per pressMinIntervalMs.
   */
  private onPress(retained: boolean): void {
    const id = `press-${randomUUID()}`;
    const refuse = (reason: string) => {
      this.log.warn({ commandId: id, reason }, 'mqtt: verify press refused');
      this.publishResult('verify', { id, command: 'verify', ok: false, reason });
    };
    if (retained) return refuse('retained: press ignored');
    const at = this.now();
    if (at - this.lastPressAt < this.pressMinIntervalMs) return refuse(`rate limited: one press per ${this.pressMinIntervalMs} ms`);
    this.lastPressAt = at;
    this.execute('verify', id).then(
      (result) => this.publishResult('verify', result),
      (error: unknown) => refuse(`failed: ${(error as Error).message ?? error}`),
    );
  }

  private async execute(name: 'verify' | 'unlock' | 'reload', id: string): Promise<Result> {
    if (name === 'verify') {
      const outcome = await this.handlers.verify(id);
      if ('refused' in outcome) return { id, command: name, ok: false, reason: outcome.refused };
      return { id, command: name, ok: true, attemptId: outcome.id, decision: outcome.decision, identity: outcome.identity };
    }
    const outcome = name === 'unlock' ? await this.handlers.unlock(id) : await this.handlers.reload();
    return 'refused' in outcome ? { id, command: name, ok: false, reason: outcome.refused } : { id, command: name, ok: true };
  }

  private publishResult(name: string, result: Result): void {
    const payload = JSON.stringify({ ...result, ts: new Date(this.now()).toISOString() });
    // Results are not queued: a reply that arrives minutes later would only mislead the sender.
    this.connection.publish(this.topics.result(name), payload, { qos: 1, retain: false }).catch((error: Error) => {
      this.log.warn({ command: name, commandId: result.id, reason: error.message }, 'mqtt: result not delivered');
    });
  }
}
