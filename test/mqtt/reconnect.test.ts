import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startMqttBridge, type MqttBridge } from '../../src/mqtt/bridge.js';
import { isPortAnswering, startEmbeddedBroker } from '../../src/mqtt/broker.js';
import { startMqttTransport } from '../../src/daemon/mqtt.js';
import { topicsFor } from '../../src/mqtt/topics.js';
import {
  eventually, freePort, makeAttempt, observe, quietLog, startAedes, testSettings, uniqueDeviceId, fakePort, type FakeHandlers,
} from '../helpers/broker.js';

/** Attempt events still queued on disk: message lines minus "delivered" marks (see src/mqtt/outbox.ts). */
function outboxLines(stateDir: string): number {
  const lines = readFileSync(join(stateDir, 'mqtt', 'outbox.jsonl'), 'utf8').split('\n').filter((l) => l.trim());
  return lines.filter((l) => l.includes('"topic"')).length - lines.filter((l) => l === '{"ack":1}').length;
}

function recordingHandlers(calls: string[], attempts?: () => MqttBridge): FakeHandlers {
  return {
    async verify(commandId) {
      calls.push(commandId);
      const event = makeAttempt({ trigger: 'mqtt', commandId });
      await attempts?.().attempt(event);
      return event;
    },
    unlock: async () => ({ refused: 'not in this test' }),
    reload: async () => ({ ok: true }),
  };
}

const payloadIds = (payloads: Buffer[]) => payloads.map((p) => (JSON.parse(p.toString()) as { id: string }).id);

test('broker restarted twice while attempts happen: a persistent subscriber gets each attempt exactly once, in order', { timeout: 45_000 }, async () => {
  const broker = await startAedes();
  const t = testSettings(broker.url);
  const topics = topicsFor(t.settings);
  // A persistent QoS 1 subscriber (clean: false, fixed client id): what arrives while it is away is queued for
  // it by the broker, across the broker's restart too (the embedded broker keeps its state, like Mosquitto
  // with persistence). It is away while the broker restarts and comes back only after the bridge delivered:
  // aedes, unlike the bridge, may interleave a reconnecting subscriber's queue with live messages (seen here:
  // 28 before 27, then 27 again), and that is the broker's doing, not something the bridge can prevent.
  const subscriberId = uniqueDeviceId('sub');
  const received: string[] = [];
  let subscriber = await observe(broker.url, [topics.attempt], { clean: false, clientId: subscriberId, reconnectPeriod: 0 });
  const collect = async () => {
    received.push(...payloadIds(subscriber.messages.filter((m) => m.topic === topics.attempt).map((m) => m.payload)));
    await subscriber.close();
  };
  // What the broker received from the bridge: the bridge's own contract is "each attempt exactly once".
  const fromBridge: string[] = [];
  broker.embedded!.onPublish((topic, payload, clientId) => {
    if (topic === topics.attempt && clientId === `facegate-${t.settings.deviceId}`) fromBridge.push(payloadIds([payload])[0]!);
  });
  const bridge = await startMqttBridge(t.settings, quietLog(), fakePort(recordingHandlers([])));
  const sent: string[] = [];
  const produce = async (n: number) => {
    for (let i = 0; i < n; i += 1) {
      const event = makeAttempt();
      sent.push(event.id);
      await bridge.attempt(event);
    }
  };
  try {
    await eventually(() => bridge.connected());
    for (let cycle = 0; cycle < 2; cycle += 1) {
      await produce(5);
      // Every PUBACK has landed on both legs before anything restarts: the outbox is empty (bridge -> broker),
      // the subscriber has everything and one QoS 1 round trip of its own completed after its PUBACKs (a
      // client's packets are handled in order). A restart cutting off a PUBACK would make QoS 1 re-send that
      // one message (at-least-once), which consumers absorb by deduping on the attempt id.
      await eventually(() => outboxLines(t.stateDir) === 0);
      await subscriber.count(topics.attempt, sent.length - received.length);
      await subscriber.client.publishAsync(`${topics.root}/test-sync`, 'sync', { qos: 1 });
      await collect();
      await broker.embedded!.stop();
      await eventually(() => !bridge.connected());
      await produce(10);
      assert.equal(outboxLines(t.stateDir), 10, 'attempts made while the broker is down wait on disk');
      await broker.embedded!.start();
      await produce(5);
      await eventually(() => bridge.connected() && outboxLines(t.stateDir) === 0);
      subscriber = await observe(broker.url, [], { clean: false, clientId: subscriberId, reconnectPeriod: 0 });
      // Let the broker flush the queue before new live messages (see above).
      await subscriber.count(topics.attempt, sent.length - received.length);
    }
    const sentinel = makeAttempt();
    sent.push(sentinel.id);
    await bridge.attempt(sentinel);
    // Delivery is in order, so once the sentinel arrived every earlier message (and any duplicate) has too.
    await subscriber.next(topics.attempt, (p) => p.toString().includes(sentinel.id));
    await collect();
    assert.equal(sent.length, 41);
    await eventually(() => fromBridge.length >= sent.length); // aedes reports a publish after forwarding it
    assert.deepEqual(fromBridge, sent, 'the broker received each attempt from the bridge once, in order');
    assert.deepEqual(received, sent, 'the persistent subscriber received each attempt once, in order');
  } finally {
    await bridge.close();
    if (subscriber.client.connected) await subscriber.close();
    await broker.close();
    t.cleanup();
  }
});

test('a reconnect or a restart never re-executes a command, even with a persistent session replaying it', { timeout: 45_000 }, async () => {
  const broker = await startAedes();
  const t = testSettings(broker.url);
  const topics = topicsFor(t.settings);
  const calls: string[] = [];
  const sender = await observe(broker.url, [topics.result('verify')], { reconnectPeriod: 50 });
  // clean: false is the risky choice (the broker queues commands for us while we are away); it must stay safe.
  let bridge = await startMqttBridge(t.settings, quietLog(), fakePort(recordingHandlers(calls)), { clean: false });
  const send = (id: string) => sender.client.publishAsync(topics.command('verify'), JSON.stringify({ id, ts: Date.now() }), { qos: 1 });
  const resultsFor = (id: string) =>
    sender.messages.filter((m) => m.topic === topics.result('verify')).map((m) => JSON.parse(m.payload.toString()) as { id: string; ok: boolean; reason?: string }).filter((r) => r.id === id);
  try {
    await eventually(() => bridge.connected());
    await send('cmd-before-restart');
    await sender.next(topics.result('verify'));
    assert.deepEqual(calls, ['cmd-before-restart']);

    await broker.embedded!.stop();
    await broker.embedded!.start();
    await eventually(() => bridge.connected() && sender.client.connected);
    await send('cmd-before-restart');
    await eventually(() => resultsFor('cmd-before-restart').length >= 2);
    assert.match(resultsFor('cmd-before-restart')[1]!.reason ?? '', /replayed/);

    // The daemon goes away; commands sent meanwhile are queued by the broker (persistent session)...
    await bridge.close();
    await send('cmd-before-restart');
    await send('cmd-while-away');
    // ...and delivered to the restarted daemon, which remembers ids on disk.
    bridge = await startMqttBridge(t.settings, quietLog(), fakePort(recordingHandlers(calls)), { clean: false });
    await eventually(() => resultsFor('cmd-before-restart').length >= 3 && resultsFor('cmd-while-away').length >= 1);
    assert.match(resultsFor('cmd-before-restart')[2]!.reason ?? '', /replayed/);
    assert.equal(resultsFor('cmd-while-away')[0]!.ok, true);
    assert.deepEqual(calls, ['cmd-before-restart', 'cmd-while-away']);
  } finally {
    await bridge.close();
    await sender.close();
    await broker.close();
    t.cleanup();
  }
});

test('with no broker the bridge starts anyway, queues on disk, and delivers in order after a daemon restart', { timeout: 45_000 }, async () => {
  const port = await freePort();
  const url = `mqtt://127.0.0.1:${port}`;
  const t = testSettings(url);
  const topics = topicsFor(t.settings);
  const first = await startMqttBridge(t.settings, quietLog(), fakePort(recordingHandlers([])));
  const events = [makeAttempt(), makeAttempt({ decision: 'no_face', identity: null }), makeAttempt({ decision: 'granted' })];
  for (const e of events) await first.attempt(e);
  assert.equal(first.connected(), false);
  await first.close();
  assert.equal(outboxLines(t.stateDir), 3);

  const broker = await startEmbeddedBroker({ host: '127.0.0.1', port }, quietLog());
  const subscriber = await observe(url, [topics.attempt]);
  const second = await startMqttBridge(t.settings, quietLog(), fakePort(recordingHandlers([])));
  try {
    const received = await subscriber.count(topics.attempt, 3);
    assert.deepEqual(payloadIds(received), events.map((e) => e.id));
    await eventually(() => outboxLines(t.stateDir) === 0);
  } finally {
    await second.close();
    await subscriber.close();
    await broker.close();
    t.cleanup();
  }
});

test('mqtt.embedded "auto": the daemon starts aedes when nothing answers on a local port, and close() stops it', { timeout: 30_000 }, async () => {
  const port = await freePort();
  const t = testSettings(`mqtt://localhost:${port}`, { 'mqtt.embedded': 'auto', deviceId: uniqueDeviceId('auto') });
  const bridge = await startMqttTransport(t.settings, quietLog(), fakePort(recordingHandlers([])));
  try {
    const watcher = await observe(`mqtt://127.0.0.1:${port}`, [topicsFor(t.settings).availability]);
    assert.equal((await watcher.next(topicsFor(t.settings).availability)).toString(), 'online');
    await watcher.close();
  } finally {
    await bridge.close();
    t.cleanup();
  }
  assert.equal(await isPortAnswering('127.0.0.1', port), false);
});
