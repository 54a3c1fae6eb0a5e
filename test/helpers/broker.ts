import { createServer, type AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { connectAsync, type MqttClient, type IClientOptions } from 'mqtt';
import { loadConfig, type Settings } from '../../src/config/index.js';
import type { AttemptEvent, StatusEvent } from '../../src/core/events.js';
import type { Command, CommandPort, CommandReply } from '../../src/core/commands.js';
import { createLogger, type Logger } from '../../src/log.js';
import { isPortAnswering, startEmbeddedBroker, type EmbeddedBroker } from '../../src/mqtt/broker.js';
import { discoveryMessages } from '../../src/mqtt/discovery.js';
import { topicsFor } from '../../src/mqtt/topics.js';

/** A broker for a test: the real Mosquitto at 127.0.0.1:1883 when it answers, or an in-process aedes. */
export interface TestBroker {
  kind: 'mosquitto' | 'aedes';
  url: string;
  /** Only aedes can be stopped and started by a test. */
  embedded: EmbeddedBroker | null;
  close(): Promise<void>;
}

const MOSQUITTO = { host: '127.0.0.1', port: 1883 };
let mosquittoAnswer: Promise<boolean> | null = null;

export function mosquittoAvailable(): Promise<boolean> {
  mosquittoAnswer ??= isPortAnswering(MOSQUITTO.host, MOSQUITTO.port, 500);
  return mosquittoAnswer;
}

/** For `{ skip }`: false when Mosquitto answers, else why the test is skipped. */
export async function needMosquitto(): Promise<string | false> {
  return (await mosquittoAvailable()) ? false : 'no MQTT broker answers at 127.0.0.1:1883';
}

export const quietLog = (): Logger => createLogger({ level: process.env.FACEGATE_TEST_LOG ?? 'silent', destination: process.stderr });

/** An embedded aedes on a random free port (always available). */
export async function startAedes(): Promise<TestBroker> {
  const embedded = await startEmbeddedBroker({ host: '127.0.0.1', port: 0 }, quietLog());
  return { kind: 'aedes', url: embedded.url, embedded, close: () => embedded.close() };
}

export async function useMosquitto(): Promise<TestBroker> {
  return { kind: 'mosquitto', url: `mqtt://${MOSQUITTO.host}:${MOSQUITTO.port}`, embedded: null, close: async () => undefined };
}

/** Mosquitto when it answers, else aedes. */
export async function startTestBroker(): Promise<TestBroker> {
  return (await mosquittoAvailable()) ? useMosquitto() : startAedes();
}

/** A device id no other test (or earlier run) uses, so retained messages never leak between tests. */
export const uniqueDeviceId = (label: string) => `t-${label}-${randomBytes(4).toString('hex')}`;

export interface TestSettings {
  settings: Settings;
  stateDir: string;
  cleanup(): void;
}

/** Settings for a bridge under test: its own state dir, its own base topic and HA prefix. */
export function testSettings(url: string, overrides: Record<string, unknown> = {}): TestSettings {
  const stateDir = mkdtempSync(join(tmpdir(), 'facegate-mqtt-'));
  const deviceId = (overrides.deviceId as string | undefined) ?? uniqueDeviceId('door');
  const config = loadConfig({
    env: {},
    overrides: {
      deviceId,
      'paths.state': stateDir,
      'mqtt.url': url,
      'mqtt.embedded': 'never',
      'mqtt.baseTopic': 'facegate-test',
      'mqtt.homeAssistant.prefix': 'facegate-test-ha',
      'mqtt.reconnectMinMs': 50,
      'mqtt.reconnectMaxMs': 400,
      ...overrides,
    },
  });
  return { settings: config.getProperties(), stateDir, cleanup: () => rmSync(stateDir, { recursive: true, force: true }) };
}

/** A plain subscriber/publisher for the test side, recording every message. */
export interface Observer {
  client: MqttClient;
  messages: { topic: string; payload: Buffer; retain: boolean }[];
  /** Resolves with the first message (already received or future) on topic that matches. */
  next(topic: string, match?: (payload: Buffer) => boolean): Promise<Buffer>;
  /** Resolves once `count` messages arrived on topic. */
  count(topic: string, count: number): Promise<Buffer[]>;
  close(): Promise<void>;
}

export async function observe(url: string, filters: string[], options: IClientOptions = {}): Promise<Observer> {
  const client = await connectAsync(url, { reconnectPeriod: 100, ...options });
  const messages: Observer['messages'] = [];
  const waiters = new Set<() => void>();
  client.on('message', (topic, payload, packet) => {
    messages.push({ topic, payload, retain: packet.retain });
    for (const w of [...waiters]) w();
  });
  if (filters.length) await client.subscribeAsync(filters, { qos: 1 });
  const waitFor = <T>(probe: () => T | undefined): Promise<T> =>
    new Promise((resolve) => {
      const check = () => {
        const found = probe();
        if (found === undefined) return;
        waiters.delete(check);
        resolve(found);
      };
      waiters.add(check);
      check();
    });
  return {
    client,
    messages,
    next: (topic, match = () => true) => waitFor(() => messages.find((m) => m.topic === topic && match(m.payload))?.payload),
    count: (topic, count) =>
      waitFor(() => {
        const found = messages.filter((m) => m.topic === topic).map((m) => m.payload);
        return found.length >= count ? found : undefined;
      }),
    close: () => client.endAsync(),
  };
}

/** Deletes retained messages under the given topics (publishing an empty retained payload). */
export async function clearRetained(url: string, topics: string[]): Promise<void> {
  const client = await connectAsync(url, { reconnectPeriod: 0 });
  for (const topic of topics) await client.publishAsync(topic, '', { retain: true, qos: 1 });
  await client.endAsync();
}

type Outcome = CommandReply | AttemptEvent | { ok: true } | { refused: string };
/** Test handlers per command, in the shape the tests find easiest; fakePort turns them into a CommandPort. */
export interface FakeHandlers {
  verify?(commandId: string, command: Command): Promise<Outcome>;
  unlock?(commandId: string, command: Command): Promise<Outcome>;
  reload?(commandId: string, command: Command): Promise<Outcome>;
  lockoutClear?(commandId: string, command: Command): Promise<Outcome>;
}

/**
 * A CommandPort for bridge tests: an AttemptEvent means "ran, here is the attempt", `{ refused }` a refusal;
 * an unlock that returns `{ ok: true }` gets a remote attempt like the daemon's. Unset commands are refused.
 */
export function fakePort(handlers: FakeHandlers): CommandPort & { commands: Command[] } {
  const commands: Command[] = [];
  return {
    commands,
    async execute(command) {
      commands.push(command);
      const handler = { verify: handlers.verify, unlock: handlers.unlock, reload: handlers.reload, 'lockout-clear': handlers.lockoutClear }[command.name];
      if (!handler) return { ok: false, reason: 'not in this test' };
      const outcome = await handler(command.id, command);
      if ('refused' in outcome) return { ok: false, reason: outcome.refused };
      if ('decision' in outcome) return { ok: true, attempt: outcome };
      if (outcome.ok && command.name === 'unlock' && !('attempt' in outcome)) {
        return { ok: true, attempt: makeAttempt({ trigger: 'remote', commandId: command.id, decision: 'granted', identity: null, face: null }) };
      }
      return outcome;
    },
  };
}

let attemptCounter = 0;
/** A plausible AttemptEvent, as the door would publish it. */
export function makeAttempt(overrides: Partial<AttemptEvent> = {}): AttemptEvent {
  attemptCounter += 1;
  return {
    id: `att-${process.pid}-${attemptCounter}-${randomBytes(3).toString('hex')}`,
    ts: new Date().toISOString(),
    trigger: 'button',
    decision: 'denied',
    identity: 'alice',
    fraction: 0.25,
    meanScore: 0.41,
    thresholds: { detection: 0.5, verification: 0.5 },
    timings: { capture: 3, decode: 4, detect: 20, embed: 30, compare: 1, total: 58 },
    face: { x: 10, y: 12, width: 80, height: 90, score: 0.97 },
    ...overrides,
  };
}

export function makeStatus(overrides: Partial<StatusEvent> = {}): StatusEvent {
  return {
    ts: new Date().toISOString(),
    mode: 'idle',
    relay: false,
    camera: { driver: 'files', healthy: true, fps: 0, lastFrameAgeMs: null },
    gallery: { identities: 2, images: 10 },
    model: 'default',
    backend: 'wasm',
    lastAttempt: null,
    attemptsToday: 0,
    lockedOutUntil: null,
    liveness: { mode: 'off', warning: 'liveness is OFF: the folder camera gives one still image' },
    ...overrides,
  };
}

/** Every retained topic a bridge for these settings may leave behind (availability, state, discovery). */
export function retainedTopicsOf(settings: Settings): string[] {
  const topics = topicsFor(settings);
  return [topics.availability, topics.state, ...discoveryMessages(settings, topics).map((m) => m.topic)];
}

/** A TCP port that nothing listened on a moment ago. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Polls (no timing assertion: the test's own timeout is the only limit) until probe() is true. */
export async function eventually(probe: () => boolean, intervalMs = 20): Promise<void> {
  while (!probe()) await new Promise((resolve) => setTimeout(resolve, intervalMs));
}
