import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startMqttBridge, type BridgeOptions, type MqttBridge } from '../../src/mqtt/bridge.js';
import { maybeStartEmbeddedBroker } from '../../src/mqtt/broker.js';
import { loadSchemas, signCommand, signUnlock } from '../../src/mqtt/commands.js';
import { topicsFor, type Topics } from '../../src/mqtt/topics.js';
import type { CommandName } from '../../src/core/commands.js';
import {
  clearRetained, eventually, fakePort, freePort, makeAttempt, needMosquitto, observe, quietLog, startAedes, testSettings, useMosquitto,
  type Observer, type TestBroker,
} from '../helpers/broker.js';

const SECRET = 'hardening secret, long enough';
const schemas = loadSchemas();
const json = (p: Buffer) => JSON.parse(p.toString()) as Record<string, unknown>;

interface Rig {
  bridge: MqttBridge;
  topics: Topics;
  observer: Observer;
  deviceId: string;
  port: ReturnType<typeof fakePort>;
  signed(name: CommandName, id: string, extra?: Record<string, unknown>): Promise<unknown>;
  unsigned(name: CommandName, id: string): Promise<unknown>;
  result(name: CommandName, id: string): Promise<Record<string, unknown>>;
  /** clearRetained = false for the locked embedded broker: only the daemon may publish on its topics. */
  close(clearRetained?: boolean): Promise<void>;
}

async function rig(url: string, overrides: Record<string, unknown> = {}, options: BridgeOptions = {}): Promise<Rig> {
  const t = testSettings(url, { 'mqtt.unlock.enabled': true, 'mqtt.unlock.secret': SECRET, 'mqtt.homeAssistant.enabled': false, ...overrides });
  const topics = topicsFor(t.settings);
  const deviceId = t.settings.deviceId;
  const port = fakePort({
    verify: async (id) => makeAttempt({ trigger: 'mqtt', commandId: id, decision: 'granted', identity: 'alice' }),
    unlock: async () => ({ ok: true }),
    reload: async () => ({ ok: true }),
    lockoutClear: async () => ({ ok: true }),
  });
  const observer = await observe(url, [`${topics.root}/cmd/#`, topics.availability, topics.snapshot]);
  const bridge = await startMqttBridge(t.settings, quietLog(), port, options);
  await observer.next(topics.availability, (p) => p.toString() === 'online');
  const send = (name: CommandName, body: unknown, retain = false) =>
    observer.client.publishAsync(topics.command(name), JSON.stringify(body), { qos: 1, retain });
  return {
    bridge, topics, observer, deviceId, port,
    signed: (name, id, extra = {}) => {
      const ts = Date.now();
      return send(name, { id, ts, hmac: signCommand(SECRET, name, deviceId, id, ts) }, extra.retain === true);
    },
    unsigned: (name, id) => send(name, { id, ts: Date.now() }),
    async result(name, id) {
      const result = json(await observer.next(topics.result(name), (p) => json(p).id === id));
      assert.ok(schemas.get(`cmd-${name}-result`)!(result), JSON.stringify(schemas.get(`cmd-${name}-result`)!.errors));
      return result;
    },
    async close(clear = true) {
      await bridge.close();
      await observer.close();
      if (clear) await clearRetained(url, [topics.availability, topics.state, topics.command('unlock'), topics.snapshot]);
      t.cleanup();
    },
  };
}

describe('commands that steer the door are authenticated, or cannot hurt', { timeout: 60_000 }, () => {
  test('a flood of unsigned commands is rate limited and cannot crowd out a signed unlock', async () => {
    const broker = await startAedes();
    // A small replay cache makes the old failure quick to reach: 20 accepted unsigned ids used to fill it.
    const r = await rig(broker.url, { 'mqtt.replayCacheSize': 20, 'mqtt.unsignedPerMinute': 5 });
    try {
      for (let i = 0; i < 40; i += 1) void r.unsigned('verify', `flood-${String(i).padStart(4, '0')}`);
      await r.result('verify', 'flood-0039');
      const verifyResults = r.observer.messages.filter((m) => m.topic === r.topics.result('verify')).map((m) => json(m.payload));
      await eventually(() => r.observer.messages.filter((m) => m.topic === r.topics.result('verify')).length >= 40);
      const reasons = r.observer.messages.filter((m) => m.topic === r.topics.result('verify')).map((m) => String(json(m.payload).reason ?? 'ok').split(':')[0]);
      assert.equal(reasons.filter((x) => x === 'ok').length, 5, JSON.stringify(reasons));
      assert.equal(reasons.filter((x) => x === 'rate limited').length, 35);
      assert.ok(verifyResults.length > 0);
      await r.signed('unlock', 'signed-after-flood');
      assert.equal((await r.result('unlock', 'signed-after-flood')).ok, true);
      assert.deepEqual(r.port.commands.filter((c) => c.name === 'unlock').map((c) => [c.id, c.authenticated]), [['signed-after-flood', true]]);
    } finally {
      await r.close();
      await broker.close();
    }
  });

  test('an unsigned verify learns the decision, not who stood there, and its face stays off MQTT; a signed one gets both', async () => {
    const broker = await startAedes();
    const r = await rig(broker.url, { 'mqtt.snapshots': true });
    try {
      await r.unsigned('verify', 'who-is-there-1');
      const anonymous = await r.result('verify', 'who-is-there-1');
      assert.equal(anonymous.decision, 'granted');
      assert.equal('identity' in anonymous, false);
      // The door publishes the attempt with its snapshot; for the unsigned requester's attempt, no face.
      const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xd9]);
      await r.bridge.attempt(makeAttempt({ trigger: 'mqtt', commandId: 'who-is-there-1' }), jpeg);
      await r.signed('verify', 'who-is-there-2');
      assert.equal((await r.result('verify', 'who-is-there-2')).identity, 'alice');
      await r.bridge.attempt(makeAttempt({ trigger: 'mqtt', commandId: 'who-is-there-2' }), jpeg);
      await r.observer.next(r.topics.snapshot, (p) => p.length > 0);
      assert.equal(r.observer.messages.filter((m) => m.topic === r.topics.snapshot && m.payload.length > 0).length, 1);
      assert.equal(r.port.commands.find((c) => c.id === 'who-is-there-1')!.authenticated, false);
    } finally {
      await r.close();
      await broker.close();
    }
  });

  test('mqtt.requireSignatures refuses every unsigned command and the buttons; signed ones run', async () => {
    const broker = await startAedes();
    const r = await rig(broker.url, { 'mqtt.requireSignatures': true });
    try {
      await r.unsigned('verify', 'unsigned-verify-1');
      assert.match(String((await r.result('verify', 'unsigned-verify-1')).reason), /^unsigned: verify needs an hmac/);
      await r.unsigned('reload', 'unsigned-reload-1');
      assert.match(String((await r.result('reload', 'unsigned-reload-1')).reason), /^unsigned:/);
      await r.observer.client.publishAsync(r.topics.verifyPress, 'PRESS', { qos: 1 });
      await eventually(() => r.observer.messages.some((m) => m.topic === r.topics.result('verify') && String(json(m.payload).id).startsWith('press-')));
      assert.match(String(r.observer.messages.map((m) => m.topic === r.topics.result('verify') ? json(m.payload) : {}).find((x) => String(x.id).startsWith('press-'))!.reason), /^unsigned:/);
      await r.signed('reload', 'signed-reload-1');
      assert.equal((await r.result('reload', 'signed-reload-1')).ok, true);
      // A signature made for one command does not pass for another.
      const ts = Date.now();
      await r.observer.client.publishAsync(r.topics.command('verify'), JSON.stringify({ id: 'swapped-sig-1', ts, hmac: signUnlock(SECRET, r.deviceId, 'swapped-sig-1', ts) }), { qos: 1 });
      assert.match(String((await r.result('verify', 'swapped-sig-1')).reason), /^bad signature/);
      assert.deepEqual(r.port.commands.map((c) => c.id), ['signed-reload-1']);
    } finally {
      await r.close();
      await broker.close();
    }
  });

  test('cmd/lockout/clear is signed-only and reaches the door as an authenticated command', async () => {
    const broker = await startAedes();
    const r = await rig(broker.url);
    try {
      await r.unsigned('lockout-clear', 'unsigned-clear-1');
      assert.match(String((await r.result('lockout-clear', 'unsigned-clear-1')).reason), /^invalid payload: .*'hmac'/);
      await r.signed('lockout-clear', 'signed-clear-1');
      assert.equal((await r.result('lockout-clear', 'signed-clear-1')).ok, true);
      assert.deepEqual(r.port.commands.map((c) => [c.name, c.id, c.authenticated]), [['lockout-clear', 'signed-clear-1', true]]);
    } finally {
      await r.close();
      await broker.close();
    }
  });
});

/** Publishes a signed unlock retained while the bridge is connected, then checks it never ran and is gone. */
async function retainedUnlockNeverRuns(r: Rig, url: string, credentials: { username?: string; password?: string } = {}) {
  await r.signed('unlock', 'retained-live-1', { retain: true });
  // Either refused as retained (MQTT 5: retain-as-published) or emptied by the broker before anyone saw it.
  await eventually(() => r.observer.messages.some((m) => m.topic === r.topics.command('unlock') && m.payload.length === 0));
  await r.signed('unlock', 'live-after-1');
  assert.equal((await r.result('unlock', 'live-after-1')).ok, true);
  assert.deepEqual(r.port.commands.map((c) => c.id), ['live-after-1'], 'the retained unlock never ran');
  // Nothing retained is left on the broker for the next reconnect.
  const late = await observe(url, [r.topics.command('unlock')], credentials);
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.deepEqual(late.messages.filter((m) => m.payload.length > 0), []);
  await late.close();
}

const noMosquitto = await needMosquitto();

describe('a retained command is never executed', { timeout: 60_000 }, () => {
  test('on Mosquitto over MQTT 5 (retain-as-published), and it is cleared', { skip: noMosquitto }, async () => {
    const broker: TestBroker = await useMosquitto();
    const r = await rig(broker.url, { 'mqtt.protocolVersion': 5 });
    try {
      await retainedUnlockNeverRuns(r, broker.url);
      const refused = r.observer.messages.filter((m) => m.topic === r.topics.result('unlock')).map((m) => json(m.payload));
      assert.ok(refused.some((x) => x.id === 'retained-live-1' && /^retained:/.test(String(x.reason))), JSON.stringify(refused));
    } finally {
      await r.close();
    }
  });

  test('on the embedded broker the daemon starts, which empties it before anyone sees it', async () => {
    const port = await freePort();
    const url = `mqtt://127.0.0.1:${port}`;
    const settings = testSettings(url, { 'mqtt.embedded': 'always', deviceId: `t-retained-${process.pid}` });
    settings.cleanup();
    const embedded = await maybeStartEmbeddedBroker(settings.settings, quietLog());
    assert.ok(embedded);
    const r = await rig(url, { deviceId: settings.settings.deviceId }, { connection: embedded.connection });
    try {
      await retainedUnlockNeverRuns(r, url);
    } finally {
      await r.close(false);
      await embedded.broker.close();
    }
  });

  test('a retained Home Assistant press is refused and cleared', async () => {
    const broker = await startAedes();
    const r = await rig(broker.url);
    try {
      // Left on the broker while the bridge is away: it comes back flagged retained when the bridge subscribes.
      await r.bridge.close();
      await r.observer.client.publishAsync(r.topics.verifyPress, 'PRESS', { qos: 1, retain: true });
      const t = testSettings(broker.url, { deviceId: r.deviceId, 'mqtt.homeAssistant.enabled': false });
      const again = await startMqttBridge(t.settings, quietLog(), r.port);
      await eventually(() => r.observer.messages.some((m) => m.topic === r.topics.verifyPress && m.payload.length === 0));
      const refused = json(await r.observer.next(r.topics.result('verify')));
      assert.equal(refused.reason, 'retained: press ignored');
      t.cleanup();
      await again.close();
      assert.deepEqual(r.port.commands, []);
      const late = await observe(broker.url, [r.topics.verifyPress]);
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.deepEqual(late.messages, []);
      await late.close();
    } finally {
      await r.close();
      await broker.close();
    }
  });
});

describe('what remains over MQTT 3.1.1 (documented in docs/mqtt.md)', { timeout: 60_000 }, () => {
  test('on Mosquitto over MQTT 3.1.1: one left on the broker is refused; one sent live runs once, as documented, and is cleared', { skip: noMosquitto }, async () => {
    const broker = await useMosquitto();
    const deviceId = `t-retained311-${process.pid}-${Date.now()}`;
    const naming = testSettings(broker.url, { deviceId });
    naming.cleanup();
    const topic = topicsFor(naming.settings).command('unlock');
    const ts = Date.now();
    const early = await observe(broker.url, []);
    await early.client.publishAsync(topic, JSON.stringify({ id: 'left-behind-1', ts, hmac: signUnlock(SECRET, deviceId, 'left-behind-1', ts) }), { qos: 1, retain: true });
    await early.close();
    const r = await rig(broker.url, { deviceId, 'mqtt.protocolVersion': 4 });
    try {
      assert.match(String((await r.result('unlock', 'left-behind-1')).reason), /^retained:/);
      // Live over 3.1.1 the broker strips the flag: indistinguishable from a live command (docs/mqtt.md).
      await r.signed('unlock', 'live-retained-1', { retain: true });
      assert.equal((await r.result('unlock', 'live-retained-1')).ok, true);
      await eventually(() => r.observer.messages.filter((m) => m.topic === topic && m.payload.length === 0).length >= 2);
      const late = await observe(broker.url, [topic]);
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.deepEqual(late.messages.filter((m) => m.payload.length > 0), [], 'nothing retained is left for the next reconnect');
      await late.close();
      assert.deepEqual(r.port.commands.map((c) => c.id), ['live-retained-1']);
    } finally {
      await r.close();
    }
  });
});
