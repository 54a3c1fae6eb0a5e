import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startMqttBridge, type MqttBridge, type BridgeOptions } from '../../src/mqtt/bridge.js';
import { loadSchemas, signUnlock } from '../../src/mqtt/commands.js';
import { topicsFor, type Topics } from '../../src/mqtt/topics.js';
import { haNodeId } from '../../src/mqtt/discovery.js';
import type { AttemptEvent } from '../../src/core/events.js';
import {
  clearRetained, makeAttempt, makeStatus, needMosquitto, observe, quietLog, retainedTopicsOf, startAedes, testSettings,
  useMosquitto, type Observer, type TestBroker, fakePort, type FakeHandlers,
} from '../helpers/broker.js';

const schemas = loadSchemas();
const SECRET = 'correct horse battery staple';

function assertValid(schema: string, value: unknown) {
  const validate = schemas.get(schema)!;
  assert.ok(validate(value), `${schema}: ${JSON.stringify(validate.errors)} for ${JSON.stringify(value)}`);
}

interface Harness {
  bridge: MqttBridge;
  topics: Topics;
  observer: Observer;
  calls: { verify: string[]; unlock: string[]; reload: number };
  deviceId: string;
  close(): Promise<void>;
}

/** A bridge whose handlers behave like the daemon: verify publishes the attempt through the bridge itself. */
async function harness(broker: TestBroker, overrides: Record<string, unknown> = {}, options: BridgeOptions = {}): Promise<Harness> {
  const t = testSettings(broker.url, overrides);
  const topics = topicsFor(t.settings);
  const node = haNodeId(t.settings.deviceId);
  const observer = await observe(broker.url, [`${topics.root}/#`, `${t.settings.mqtt.homeAssistant.prefix}/+/${node}/+/config`]);
  const calls: Harness['calls'] = { verify: [], unlock: [], reload: 0 };
  let bridge!: MqttBridge;
  const handlers: FakeHandlers = {
    async verify(commandId) {
      calls.verify.push(commandId);
      const event: AttemptEvent = makeAttempt({ trigger: 'mqtt', commandId, decision: 'granted', identity: 'alice', fraction: 0.8, meanScore: 0.9 });
      await bridge.attempt(event);
      return event;
    },
    async unlock(commandId) {
      calls.unlock.push(commandId);
      return { ok: true };
    },
    async reload() {
      calls.reload += 1;
      return { refused: 'gallery is being rewritten' };
    },
  };
  bridge = await startMqttBridge(t.settings, quietLog(), fakePort(handlers), options);
  await observer.next(topics.availability, (p) => p.toString() === 'online');
  return {
    bridge, topics, observer, calls, deviceId: t.settings.deviceId,
    async close() {
      await bridge.close();
      await observer.close();
      await clearRetained(broker.url, [...retainedTopicsOf(t.settings), topics.command('unlock')]);
      t.cleanup();
    },
  };
}

const json = (payload: Buffer) => JSON.parse(payload.toString()) as Record<string, unknown>;
const command = (h: Harness, name: string, body: unknown, retain = false) =>
  h.observer.client.publishAsync(h.topics.command(name), JSON.stringify(body), { qos: 1, retain });
const resultFor = async (h: Harness, name: string, id: string | null, nth = 0) => {
  const matches = (p: Buffer) => json(p).id === id;
  await h.observer.next(h.topics.result(name), matches);
  const all = h.observer.messages.filter((m) => m.topic === h.topics.result(name) && matches(m.payload));
  while (all.length <= nth) {
    await new Promise((r) => setTimeout(r, 10));
    all.splice(0, all.length, ...h.observer.messages.filter((m) => m.topic === h.topics.result(name) && matches(m.payload)));
  }
  const result = json(all[nth]!.payload);
  assertValid(`cmd-${name}-result`, result);
  return result;
};

const brokers: [string, () => Promise<TestBroker>, string | false][] = [
  ['embedded aedes', startAedes, false],
  ['Mosquitto at 127.0.0.1:1883', useMosquitto, await needMosquitto()],
];

for (const [label, start, skip] of brokers) {
  describe(`MQTT bridge on ${label}`, { skip, timeout: 30_000 }, () => {
    test('discovery configs appear with unique ids, a shared device and availability; state is retained', async () => {
      const broker = await start();
      const h = await harness(broker);
      try {
        const haTopic = (component: string, object: string) => `facegate-test-ha/${component}/${haNodeId(h.deviceId)}/${object}/config`;
        const expected = ['event/attempt', 'binary_sensor/relay', 'sensor/last_identity', 'sensor/last_score', 'sensor/attempts_today', 'sensor/mode', 'button/verify'];
        const configs = await Promise.all(expected.map((e) => h.observer.next(haTopic(e.split('/')[0]!, e.split('/')[1]!), (p) => p.length > 0).then(json)));
        for (const config of configs) {
          assertValid('discovery', config);
          assert.deepEqual(config.availability, [{ topic: h.topics.availability, payload_available: 'online', payload_not_available: 'offline' }]);
          assert.deepEqual((config.device as { identifiers: string[] }).identifiers, [`facegate_${haNodeId(h.deviceId)}`]);
        }
        assert.equal(new Set(configs.map((c) => c.unique_id)).size, configs.length);
        // Home Assistant 2026.4+ reads default_entity_id (object_id no longer works): one per entity, in its component.
        expected.forEach((e, i) => assert.ok(String(configs[i]!.default_entity_id).startsWith(`${e.split('/')[0]}.facegate_`), e));
        assert.equal(new Set(configs.map((c) => c.default_entity_id)).size, configs.length);
        // Remote unlock is off: the lock is removed (empty retained config), the image too (snapshots off).
        assert.equal((await h.observer.next(haTopic('lock', 'door'))).length, 0);
        assert.equal((await h.observer.next(haTopic('image', 'snapshot'))).length, 0);
        const event = configs[0]!;
        assert.deepEqual(event.event_types, ['granted', 'denied', 'no_face', 'spoof', 'error']);
        const press = configs[6]!;
        assert.equal(press.command_topic, h.topics.verifyPress);

        const status = makeStatus({ relay: true, attemptsToday: 3 });
        await h.bridge.status(status);
        const state = json(await h.observer.next(h.topics.state));
        assertValid('state', state);
        assert.deepEqual(state, status);
        // A late subscriber gets the retained state and availability.
        const late = await observe(broker.url, [h.topics.state, h.topics.availability]);
        const retained = await late.count(h.topics.state, 1);
        assert.deepEqual(json(retained[0]!), status);
        assertValid('availability', (await late.next(h.topics.availability)).toString());
        assert.ok(late.messages.every((m) => m.retain));
        await late.close();

        // Home Assistant restarted: discovery is published again.
        const before = h.observer.messages.filter((m) => m.topic === haTopic('button', 'verify')).length;
        await h.observer.client.publishAsync('facegate-test-ha/status', 'online', { qos: 1 });
        await h.observer.count(haTopic('button', 'verify'), before + 1);
      } finally {
        await h.close();
        await broker.close();
      }
    });

    test('cmd/verify yields an attempt event and a cmd/verify/result; a replayed command id is refused', async () => {
      const broker = await start();
      const h = await harness(broker);
      try {
        await command(h, 'verify', { id: 'verify-0001', ts: Date.now() });
        const result = await resultFor(h, 'verify', 'verify-0001');
        assert.equal(result.ok, true);
        const attempt = json(await h.observer.next(h.topics.attempt));
        assertValid('attempt', attempt);
        assert.equal(attempt.id, result.attemptId);
        assert.equal(attempt.commandId, 'verify-0001');
        assert.equal(result.decision, 'granted');

        await command(h, 'verify', { id: 'verify-0001', ts: Date.now() });
        const replay = await resultFor(h, 'verify', 'verify-0001', 1);
        assert.equal(replay.ok, false);
        assert.match(String(replay.reason), /replayed/);
        assert.deepEqual(h.calls.verify, ['verify-0001']);

        // A handler's refusal is passed on as the reason.
        await command(h, 'reload', { id: 'reload-0001', ts: Date.now() });
        const reload = await resultFor(h, 'reload', 'reload-0001');
        assert.equal(reload.ok, false);
        assert.equal(reload.reason, 'gallery is being rewritten');
        // Remote unlock is disabled by default.
        await command(h, 'unlock', { id: 'unlock-0001', ts: Date.now(), hmac: signUnlock(SECRET, h.deviceId, 'unlock-0001', Date.now()) });
        assert.match(String((await resultFor(h, 'unlock', 'unlock-0001')).reason), /disabled/);
        assert.deepEqual(h.calls.unlock, []);
      } finally {
        await h.close();
        await broker.close();
      }
    });

    test('the Home Assistant button only verifies, at most once per interval', async () => {
      const broker = await start();
      const h = await harness(broker, {}, { pressMinIntervalMs: 60_000 });
      try {
        await h.observer.client.publishAsync(h.topics.verifyPress, 'PRESS', { qos: 1 });
        await h.observer.client.publishAsync(h.topics.verifyPress, 'PRESS', { qos: 1 });
        const results = (await h.observer.count(h.topics.result('verify'), 2)).map(json);
        for (const r of results) assertValid('cmd-verify-result', r);
        assert.deepEqual(results.map((r) => r.ok).sort(), [false, true]);
        assert.match(String(results.find((r) => !r.ok)!.reason), /rate limited/);
        assert.equal(h.calls.verify.length, 1);
        assert.deepEqual(h.calls.unlock, []);
      } finally {
        await h.close();
        await broker.close();
      }
    });

    test('Home Assistant discovery can be turned off; snapshots go out live when enabled', async () => {
      const broker = await start();
      const h = await harness(broker, { 'mqtt.homeAssistant.enabled': false, 'mqtt.snapshots': true });
      try {
        const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 0xff, 0xd9]);
        await h.bridge.attempt(makeAttempt(), jpeg);
        assert.deepEqual(await h.observer.next(h.topics.snapshot), jpeg);
        await command(h, 'reload', { id: 'reload-no-ha1', ts: Date.now() });
        await resultFor(h, 'reload', 'reload-no-ha1');
        assert.deepEqual(h.observer.messages.filter((m) => m.topic.startsWith('facegate-test-ha/')).map((m) => m.topic), []);
      } finally {
        await h.close();
        await broker.close();
      }
    });

    test('remote unlock, when enabled: signed runs once; replayed, stale, retained or badly signed are refused', async () => {
      const broker = await start();
      const deviceId = `t-unlock-${process.pid}-${Date.now()}`;
      const t0 = Date.now();
      // Left retained on the broker before the bridge subscribes: it arrives flagged retained and must not run.
      const preload = await observe(broker.url, []);
      const preloadSettings = testSettings(broker.url, { deviceId });
      preloadSettings.cleanup();
      const topics = topicsFor(preloadSettings.settings);
      await preload.client.publishAsync(topics.command('unlock'), JSON.stringify({ id: 'retained-1', ts: t0, hmac: signUnlock(SECRET, deviceId, 'retained-1', t0) }), { qos: 1, retain: true });
      await preload.close();
      const h = await harness(broker, { deviceId, 'mqtt.unlock.enabled': true, 'mqtt.unlock.secret': SECRET });
      try {
        assert.match(String((await resultFor(h, 'unlock', 'retained-1')).reason), /retained/);
        const ts = Date.now();
        await command(h, 'unlock', { id: 'unlock-good', ts, hmac: signUnlock(SECRET, deviceId, 'unlock-good', ts) });
        assert.equal((await resultFor(h, 'unlock', 'unlock-good')).ok, true);
        await command(h, 'unlock', { id: 'unlock-good', ts, hmac: signUnlock(SECRET, deviceId, 'unlock-good', ts) });
        assert.match(String((await resultFor(h, 'unlock', 'unlock-good', 1)).reason), /replayed/);
        const old = Date.now() - 60_000;
        await command(h, 'unlock', { id: 'unlock-old', ts: old, hmac: signUnlock(SECRET, deviceId, 'unlock-old', old) });
        assert.match(String((await resultFor(h, 'unlock', 'unlock-old')).reason), /stale/);
        const now = Date.now();
        await command(h, 'unlock', { id: 'unlock-forged', ts: now, hmac: signUnlock('not the secret at all', deviceId, 'unlock-forged', now) });
        assert.match(String((await resultFor(h, 'unlock', 'unlock-forged')).reason), /bad signature/);
        // Signed for another door with the same secret: refused.
        await command(h, 'unlock', { id: 'unlock-other', ts: now, hmac: signUnlock(SECRET, 'another-door', 'unlock-other', now) });
        assert.match(String((await resultFor(h, 'unlock', 'unlock-other')).reason), /bad signature/);
        assert.deepEqual(h.calls.unlock, ['unlock-good']);
        const lock = json(await h.observer.next(`facegate-test-ha/lock/${haNodeId(deviceId)}/door/config`, (p) => p.length > 0));
        assertValid('discovery', lock);
        assert.equal(lock.command_topic, h.topics.unlockRequest);
      } finally {
        await h.close();
        await broker.close();
      }
    });
  });
}

describe('MQTT 5 on Mosquitto', { skip: await needMosquitto(), timeout: 30_000 }, () => {
  test('the same contract works with protocolVersion 5', async () => {
    const broker = await useMosquitto();
    const h = await harness(broker, { 'mqtt.protocolVersion': 5 });
    try {
      await command(h, 'verify', { id: 'verify-mqtt5-01', ts: Date.now() });
      assert.equal((await resultFor(h, 'verify', 'verify-mqtt5-01')).ok, true);
      assertValid('attempt', json(await h.observer.next(h.topics.attempt)));
    } finally {
      await h.close();
    }
  });
});
