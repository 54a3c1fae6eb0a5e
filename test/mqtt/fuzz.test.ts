import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startMqttBridge } from '../../src/mqtt/bridge.js';
import { loadSchemas, MAX_COMMAND_BYTES, signCommand, signUnlock } from '../../src/mqtt/commands.js';
import { topicsFor } from '../../src/mqtt/topics.js';
import { seededRandom } from '../../src/random.js';
import { eventually, makeAttempt, observe, quietLog, startAedes, testSettings, fakePort, type FakeHandlers } from '../helpers/broker.js';

const TOTAL = 10_000;
const SECRET = 'fuzzing secret, long enough';

function payloadGenerator(random: () => number, deviceId: string, usedId: string) {
  const pick = <T>(items: T[]): T => items[Math.floor(random() * items.length)]!;
  const int = (max: number) => Math.floor(random() * max);
  const junkString = () => Array.from({ length: int(80) }, () => String.fromCharCode(int(0x2fff))).join('');
  const junkValue = (depth = 0): unknown =>
    pick<() => unknown>([
      () => null, () => true, () => int(1e9) - 5e8, () => random(), () => junkString(), () => Number.MAX_SAFE_INTEGER + 2,
      () => (depth < 3 ? Array.from({ length: int(4) }, () => junkValue(depth + 1)) : []),
      () => (depth < 3 ? Object.fromEntries(Array.from({ length: int(4) }, () => [junkString(), junkValue(depth + 1)])) : {}),
    ])();
  const goodId = () => `fuzz${int(1e12).toString(36)}x${int(1e6)}`;
  const now = () => Date.now();
  const hex64 = () => Array.from({ length: 64 }, () => '0123456789abcdef'[int(16)]).join('');
  // Every case is invalid in at least one way; an empty payload is excluded (it is the retained-delete marker).
  const cases: (() => string | Buffer)[] = [
    () => Buffer.from(Array.from({ length: 1 + int(200) }, () => int(256))),
    () => JSON.stringify(junkValue()),
    () => JSON.stringify({ id: junkValue(), ts: junkValue() }),
    () => JSON.stringify({ id: goodId(), ts: now() - 60_000 - int(1e9) }),
    () => JSON.stringify({ id: goodId(), ts: now() + 60_000 + int(1e9) }),
    () => JSON.stringify({ id: goodId(), ts: String(now()) }),
    () => JSON.stringify({ id: goodId(), ts: now() + 0.5 }),
    () => JSON.stringify({ id: pick(['', 'short', 'has space 123', 'a/b/c/d/e/f', 'x'.repeat(65), 'ünïcödé-id']), ts: now() }),
    () => JSON.stringify({ id: goodId(), ts: now(), [junkString() || 'extra']: junkValue() }),
    () => JSON.stringify({ ts: now() }),
    () => JSON.stringify({ id: goodId() }),
    () => JSON.stringify({ id: usedId, ts: now() }),
    () => JSON.stringify({ id: goodId(), ts: now(), hmac: hex64() }),
    () => { const id = goodId(); const ts = now(); return JSON.stringify({ id, ts, hmac: signUnlock(SECRET, deviceId, id, ts - 1) }); },
    () => { const id = goodId(); const ts = now(); return JSON.stringify({ id, ts, hmac: signUnlock(SECRET, deviceId, id, ts).toUpperCase() }); },
    () => JSON.stringify({ id: goodId(), ts: now(), pad: 'p'.repeat(MAX_COMMAND_BYTES) }),
    () => `{"id":"${goodId()}","ts":${now()}`,
    // Duplicate keys: JSON.parse keeps the last one, so this is a stale command with the id "__proto__".
    () => `{"id":"${goodId()}","ts":${now()},"id":"__proto__","ts":${now() - 120_000}}`,
    () => '{"__proto__":{"id":"polluted","ts":1}}',
  ];
  return () => pick(cases)();
}

test(`${TOTAL} random and malformed payloads on every command topic: no crash, each refused with a reason`, { timeout: 120_000 }, async (t0) => {
  const broker = await startAedes();
  const t = testSettings(broker.url, { 'mqtt.unlock.enabled': true, 'mqtt.unlock.secret': SECRET, 'mqtt.homeAssistant.enabled': false });
  const topics = topicsFor(t.settings);
  const executed: string[] = [];
  const handlers: FakeHandlers = {
    verify: async (id) => (executed.push(`verify:${id}`), makeAttempt({ commandId: id })),
    unlock: async (id) => (executed.push(`unlock:${id}`), { ok: true }),
    reload: async () => (executed.push('reload'), { ok: true }),
  };
  const bridge = await startMqttBridge(t.settings, quietLog(), fakePort(handlers));
  const sender = await observe(broker.url, []);
  const validateResult = loadSchemas().get('result')!;
  const results: Record<string, unknown>[] = [];
  sender.client.on('message', (_topic, payload) => results.push(JSON.parse(payload.toString()) as Record<string, unknown>));
  await sender.client.subscribeAsync(`${topics.root}/cmd/+/result`, { qos: 1 });
  try {
    await eventually(() => bridge.connected());
    // One genuine command, so that replays of its id are part of the fuzz.
    const usedId = 'fuzz-seed-command';
    await sender.client.publishAsync(topics.command('verify'), JSON.stringify({ id: usedId, ts: Date.now() }), { qos: 1 });
    await eventually(() => results.length === 1);
    assert.equal(results[0]!.ok, true);
    results.length = 0;
    executed.length = 0;

    const random = seededRandom(Number(process.env.FACEGATE_FUZZ_SEED ?? 20261129));
    const next = payloadGenerator(random, t.settings.deviceId, usedId);
    const names = ['verify', 'unlock', 'reload', 'open', 'verify-now'];
    const sentPerTopic = new Map<string, number>();
    for (let i = 0; i < TOTAL; i += 1) {
      const name = names[i % names.length]!;
      sentPerTopic.set(name, (sentPerTopic.get(name) ?? 0) + 1);
      sender.client.publish(topics.command(name), next(), { qos: 1 });
      if (i % 500 === 499) await eventually(() => results.length >= i - 1000);
    }
    await eventually(() => results.length >= TOTAL);
    assert.equal(results.length, TOTAL);
    assert.deepEqual(executed, [], 'no fuzz payload may run a command');
    const perCommand = new Map<string, number>();
    const reasons = new Map<string, number>();
    for (const result of results) {
      assert.ok(validateResult(result), JSON.stringify(validateResult.errors));
      assert.equal(result.ok, false);
      assert.ok(typeof result.reason === 'string' && result.reason.length > 0);
      perCommand.set(String(result.command), (perCommand.get(String(result.command)) ?? 0) + 1);
      const kind = String(result.reason).split(':')[0]!.trim();
      reasons.set(kind, (reasons.get(kind) ?? 0) + 1);
    }
    assert.deepEqual(Object.fromEntries(perCommand), Object.fromEntries(sentPerTopic));
    t0.diagnostic(`refusals by reason: ${JSON.stringify(Object.fromEntries(reasons))}`);
    for (const expected of ['payload is not JSON', 'invalid payload', 'stale', 'future', 'too large', 'replayed', 'bad signature', 'unknown command']) {
      assert.ok([...reasons.keys()].some((k) => k.startsWith(expected)), `some payloads refused as "${expected}": ${JSON.stringify(Object.fromEntries(reasons))}`);
    }
    assert.equal(bridge.connected(), true);
    // Still serving real commands afterwards: a signed one, which the flood's spent unsigned budget cannot block.
    const ts = Date.now();
    const hmac = signCommand(SECRET, 'reload', t.settings.deviceId, 'after-the-fuzz', ts);
    await sender.client.publishAsync(topics.command('reload'), JSON.stringify({ id: 'after-the-fuzz', ts, hmac }), { qos: 1 });
    await eventually(() => results.some((r) => r.id === 'after-the-fuzz'));
    assert.equal(results.find((r) => r.id === 'after-the-fuzz')!.ok, true);
  } finally {
    await bridge.close();
    await sender.close();
    await broker.close();
    t.cleanup();
  }
});
