import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Outbox } from '../../src/mqtt/outbox.js';
import { backoffDelay, redactUrl } from '../../src/mqtt/client.js';
import { startMqttBridge } from '../../src/mqtt/bridge.js';
import { createLogger } from '../../src/log.js';
import { eventually, freePort, quietLog, startAedes, testSettings, fakePort } from '../helpers/broker.js';

const entry = (n: number) => ({ topic: 'facegate/x/attempt', payload: JSON.stringify({ id: `a${n}` }) });

test('the outbox keeps order across a restart, drops the oldest when full and counts the drops', () => {
  const dir = mkdtempSync(join(tmpdir(), 'facegate-outbox-'));
  const file = join(dir, 'mqtt', 'outbox.jsonl');
  try {
    const outbox = new Outbox(file, 3, quietLog());
    for (let n = 1; n <= 5; n += 1) outbox.push(entry(n));
    assert.equal(outbox.size, 3);
    assert.equal(outbox.dropped, 2);
    outbox.shift();
    appendFileSync(file, '{"topic":"facegate/x/attempt","payl'); // power cut mid-write
    const reopened = new Outbox(file, 3, quietLog());
    assert.equal(reopened.dropped, 2);
    const drained: string[] = [];
    for (let head = reopened.peek(); head; head = reopened.peek()) {
      drained.push(head.payload);
      reopened.shift();
    }
    assert.deepEqual(drained, [entry(4).payload, entry(5).payload]);
    assert.equal(new Outbox(file, 3, quietLog()).size, 0);
    assert.equal(readFileSync(file, 'utf8'), '{"dropped":2}\n', 'an emptied outbox is compacted to its header');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('delivered messages are marked with appended acks, so a restart mid-drain resumes at the right one', () => {
  const dir = mkdtempSync(join(tmpdir(), 'facegate-outbox-'));
  const file = join(dir, 'outbox.jsonl');
  try {
    const outbox = new Outbox(file, 1000, quietLog());
    for (let n = 1; n <= 500; n += 1) outbox.push(entry(n));
    for (let n = 1; n <= 450; n += 1) outbox.shift();
    outbox.push(entry(501));
    // 450 acks: compacted at least once along the way, so the file never holds them all.
    assert.ok(readFileSync(file, 'utf8').split('\n').filter((l) => l === '{"ack":1}').length <= 200);
    appendFileSync(file, '{"ack"'); // torn ack: that message is simply sent again
    const reopened = new Outbox(file, 1000, quietLog());
    assert.equal(reopened.size, 51);
    assert.equal(reopened.peek()!.payload, entry(451).payload);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('reconnect delays grow exponentially with jitter, between half and all of the capped delay', () => {
  const delays = [0, 1, 2, 3, 10, 50].map((failures) => [backoffDelay(failures, 1000, 30_000, () => 0), backoffDelay(failures, 1000, 30_000, () => 1)]);
  assert.deepEqual(delays, [[500, 1000], [1000, 2000], [2000, 4000], [4000, 8000], [15_000, 30_000], [15_000, 30_000]]);
  const random = backoffDelay(2, 1000, 30_000);
  assert.ok(random >= 2000 && random <= 4000);
});

test('broker credentials never reach the log', { timeout: 30_000 }, async () => {
  const lines: string[] = [];
  const destination = new Writable({ write(chunk, _enc, done) { lines.push(String(chunk)); done(); } });
  const log = createLogger({ level: 'debug', destination });
  const password = 'hunter2-very-secret';
  const broker = await startAedes();
  const down = `mqtt://doorbell:${password}@127.0.0.1:${await freePort()}`;
  assert.equal(redactUrl(down).includes(password), false);
  const t = testSettings(broker.url, { 'mqtt.username': 'doorbell', 'mqtt.password': password });
  const t2 = testSettings(down, { 'mqtt.username': 'doorbell', 'mqtt.password': password });
  const handlers = { verify: async () => ({ refused: 'n/a' }), unlock: async () => ({ refused: 'n/a' }), reload: async () => ({ refused: 'n/a' }) };
  const up = await startMqttBridge(t.settings, log, fakePort(handlers));
  const failing = await startMqttBridge(t2.settings, log, fakePort(handlers));
  try {
    await eventually(() => up.connected());
    await eventually(() => lines.some((l) => l.includes('connection error')));
  } finally {
    await up.close();
    await failing.close();
    await broker.close();
    t.cleanup();
    t2.cleanup();
  }
  assert.ok(lines.length > 2);
  assert.equal(lines.filter((l) => l.includes(password)).length, 0);
});
