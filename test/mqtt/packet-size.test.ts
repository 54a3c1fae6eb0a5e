import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PacketSizeGuard, type OversizedPublish } from '../../src/mqtt/packet-guard.js';
import { startMqttBridge } from '../../src/mqtt/bridge.js';
import { signUnlock } from '../../src/mqtt/commands.js';
import { topicsFor } from '../../src/mqtt/topics.js';
import { fakePort, needMosquitto, observe, quietLog, startAedes, testSettings, useMosquitto, type TestBroker } from '../helpers/broker.js';
import { floodPublish, peakRssGrowthMb, remainingLength } from '../helpers/flood.js';

const publishPacket = (topic: string, payload: Buffer, qos = 1, packetId = 7) => {
  const t = Buffer.from(topic);
  const head = Buffer.concat([Buffer.from([t.length >> 8, t.length & 0xff]), t, qos ? Buffer.from([packetId >> 8, packetId & 0xff]) : Buffer.alloc(0)]);
  return Buffer.concat([Buffer.from([0x30 | (qos << 1)]), remainingLength(head.length + payload.length), head, payload]);
};

/** Feeds `bytes` to a guard in pieces of `size`, returning what it let through. */
function feedInPieces(guard: PacketSizeGuard, bytes: Buffer, size: number): Buffer {
  const out: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += size) out.push(...guard.feed(bytes.subarray(at, at + size)));
  return Buffer.concat(out);
}

test('the size guard passes small packets byte for byte and skips an oversized PUBLISH, whatever the chunking', () => {
  const small = publishPacket('door/cmd/verify', Buffer.from('{"id":"x"}'));
  const ping = Buffer.from([0xd0, 0x00]);
  const big = publishPacket('door/cmd/unlock', Buffer.alloc(300_000, 0x61), 1, 0x1234);
  const stream = Buffer.concat([small, big, ping, small]);
  for (const size of [1, 3, 7, 1000, stream.length]) {
    const skipped: OversizedPublish[] = [];
    const guard = new PacketSizeGuard(16_384, (p) => skipped.push(p), (reason) => assert.fail(reason));
    const passed = feedInPieces(guard, stream, size);
    assert.deepEqual(passed, Buffer.concat([small, ping, small]), `chunk size ${size}`);
    assert.deepEqual(skipped, [{ topic: 'door/cmd/unlock', qos: 1, retain: false, packetId: 0x1234, bytes: 300_000 + 2 + 15 + 2 }]);
  }
});

test('the size guard ends the connection on an oversized non-PUBLISH packet or a malformed length', () => {
  const reasons: string[] = [];
  const subscribe = Buffer.concat([Buffer.from([0x82]), remainingLength(100_000)]);
  new PacketSizeGuard(1024, () => assert.fail('not a publish'), (r) => reasons.push(r)).feed(subscribe);
  new PacketSizeGuard(1024, () => assert.fail('not a publish'), (r) => reasons.push(r)).feed(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01]));
  assert.equal(reasons.length, 2);
  assert.match(reasons[0]!, /type 8 announces 100000 bytes/);
  assert.match(reasons[1]!, /malformed/);
});

const FLOOD_BYTES = 50 * 1024 * 1024;
const SECRET = 'flood test secret, long enough';

/**
 * Issue 12's "done when": a 50 MB publish to a command topic leaves the bridge's memory within 50 MB and a
 * signed command is still answered. Before the guard mqtt.js (and aedes, in-process) buffered the whole
 * message: RSS grew by about twice its size (+98 MB on aedes, +101 MB through Mosquitto over 3.1.1, measured on
 * the old main) and kept it. The bound is on memory only; the time is reported, not asserted.
 */
async function floodThenUnlock(t0: { diagnostic(message: string): void }, broker: TestBroker, overrides: Record<string, unknown>) {
  const t = testSettings(broker.url, { 'mqtt.unlock.enabled': true, 'mqtt.unlock.secret': SECRET, 'mqtt.homeAssistant.enabled': false, ...overrides });
  const topics = topicsFor(t.settings);
  const port = fakePort({ unlock: async () => ({ ok: true }) });
  const bridge = await startMqttBridge(t.settings, quietLog(), port);
  const watcher = await observe(broker.url, [`${topics.root}/cmd/+/result`, topics.availability]);
  try {
    await watcher.next(topics.availability, (p) => p.toString() === 'online');
    let flood = { written: 0, closedEarly: false };
    let answeredMs = 0;
    let result = { ok: false };
    const grewMb = await peakRssGrowthMb(async () => {
      flood = await floodPublish(broker.url, topics.command('unlock'), FLOOD_BYTES);
      const ts = Date.now();
      const sentAt = performance.now();
      await watcher.client.publishAsync(topics.command('unlock'), JSON.stringify({ id: 'after-flood-1', ts, hmac: signUnlock(SECRET, t.settings.deviceId, 'after-flood-1', ts) }), { qos: 1 });
      result = JSON.parse((await watcher.next(topics.result('unlock'), (p) => p.includes('after-flood-1'))).toString()) as { ok: boolean };
      answeredMs = performance.now() - sentAt;
    });
    t0.diagnostic(`${broker.kind}, mqtt.protocolVersion ${String(overrides['mqtt.protocolVersion'] ?? 5)}: flood wrote ${(flood.written / 1e6).toFixed(1)} MB` +
      `${flood.closedEarly ? ' (cut off by the broker)' : ''}; RSS at most +${grewMb.toFixed(1)} MB; signed unlock answered in ${answeredMs.toFixed(0)} ms`);
    assert.equal(result.ok, true);
    assert.ok(grewMb < 50, `RSS grew by ${grewMb.toFixed(1)} MB`);
    assert.deepEqual(port.commands.map((c) => c.id), ['after-flood-1'], 'the flood never reached the door');
    return { watcher, topics };
  } finally {
    await bridge.close();
    await watcher.close();
    t.cleanup();
  }
}

const noMosquitto = await needMosquitto();

describe('a 50 MB publish to a command topic', { timeout: 120_000 }, () => {
  test('embedded aedes: the broker drops the sender after the header; memory stays flat', async (t0) => {
    const broker = await startAedes();
    try {
      await floodThenUnlock(t0, broker, {});
    } finally {
      await broker.close();
    }
  });

  test('Mosquitto, MQTT 3.1.1: the stream guard skips it unread and answers "too large"', { skip: noMosquitto }, async (t0) => {
    const broker = await useMosquitto();
    const { watcher, topics } = await floodThenUnlock(t0, broker, { 'mqtt.protocolVersion': 4 });
    const tooLarge = watcher.messages.filter((m) => m.topic === topics.result('unlock')).map((m) => JSON.parse(m.payload.toString()) as { reason?: string });
    assert.ok(tooLarge.some((r) => /^too large: 5242\d{4} bytes/.test(r.reason ?? '')), JSON.stringify(tooLarge));
  });

  test('Mosquitto, MQTT 5: maximumPacketSize makes the broker drop it; memory stays flat', { skip: noMosquitto }, async (t0) => {
    await floodThenUnlock(t0, await useMosquitto(), { 'mqtt.protocolVersion': 5 });
  });
});
