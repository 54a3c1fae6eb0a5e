import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { connect, connectAsync, type IClientOptions } from 'mqtt';
import { ConfigError, loadConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/log.js';
import { startMqttBridge } from '../../src/mqtt/bridge.js';
import { maybeStartEmbeddedBroker } from '../../src/mqtt/broker.js';
import { topicsFor } from '../../src/mqtt/topics.js';
import { eventually, fakePort, freePort, observe, quietLog, testSettings, uniqueDeviceId } from '../helpers/broker.js';

const USER = 'household';
const PASSWORD = 'a long household broker password';

/** The embedded broker as the daemon starts it (credentials configured), and the daemon's own bridge on it. */
async function lockedDoor() {
  const port = await freePort();
  const url = `mqtt://127.0.0.1:${port}`;
  const t = testSettings(url, { 'mqtt.embedded': 'always', 'mqtt.username': USER, 'mqtt.password': PASSWORD, deviceId: uniqueDeviceId('lock') });
  const embedded = await maybeStartEmbeddedBroker(t.settings, quietLog());
  assert.ok(embedded);
  const bridge = await startMqttBridge(t.settings, quietLog(), fakePort({}), { connection: embedded.connection });
  await eventually(() => bridge.connected());
  return {
    url, settings: t.settings, topics: topicsFor(t.settings), bridge,
    async close() {
      await bridge.close();
      await embedded.broker.close();
      t.cleanup();
    },
  };
}

/** 'connected', the broker's refusal, or 'closed' when it hung up without a CONNACK; the client is ended. */
function tryConnect(url: string, options: IClientOptions): Promise<string> {
  return new Promise((resolve) => {
    const client = connect(url, { reconnectPeriod: 0, connectTimeout: 3000, ...options });
    const done = (answer: string) => {
      client.end(true);
      resolve(answer);
    };
    client.once('connect', () => done('connected'));
    client.once('error', (error) => done(error.message));
    client.once('close', () => done('closed'));
  });
}

test('the embedded broker asks for the configured credentials: anonymous and wrong ones are refused', async () => {
  const door = await lockedDoor();
  try {
    assert.match(await tryConnect(door.url, {}), /Bad username or password|Not authorized/i);
    assert.match(await tryConnect(door.url, { username: USER, password: 'guess' }), /Bad username or password|Not authorized/i);
    const resident = await connectAsync(door.url, { reconnectPeriod: 0, username: USER, password: PASSWORD });
    await resident.endAsync();
    // The household's credentials are not the daemon's: its client id stays its own.
    assert.notEqual(await tryConnect(door.url, { clientId: `facegate-${door.settings.deviceId}`, username: USER, password: PASSWORD }), 'connected');
    assert.equal(door.bridge.connected(), true);
  } finally {
    await door.close();
  }
});

test('nobody takes over a connected client id, and the daemon stays connected', async () => {
  const door = await lockedDoor();
  const watcher = await observe(door.url, [door.topics.availability], { username: USER, password: PASSWORD });
  try {
    const first = await connectAsync(door.url, { reconnectPeriod: 0, clientId: 'kitchen-panel', username: USER, password: PASSWORD });
    assert.notEqual(await tryConnect(door.url, { clientId: 'kitchen-panel', username: USER, password: PASSWORD }), 'connected');
    assert.equal(first.connected, true, 'the first kitchen-panel connection survives');
    await first.endAsync();
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(door.bridge.connected(), true);
    assert.deepEqual(watcher.messages.map((m) => m.payload.toString()), ['online'], 'the daemon was never knocked off');
  } finally {
    await watcher.close();
    await door.close();
  }
});

test('only the daemon publishes on its own topics', async () => {
  const door = await lockedDoor();
  const watcher = await observe(door.url, [door.topics.state, door.topics.attempt], { username: USER, password: PASSWORD });
  try {
    const forger = await connectAsync(door.url, { reconnectPeriod: 0, username: USER, password: PASSWORD });
    forger.on('error', () => undefined);
    forger.publish(door.topics.attempt, '{"decision":"granted","identity":"alice"}', { qos: 0 });
    forger.publish(door.topics.state, '{"mode":"idle","relay":true}', { qos: 0, retain: true });
    await eventually(() => !forger.connected);
    forger.end(true);
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.deepEqual(watcher.messages.filter((m) => m.payload.toString().includes('alice') || m.payload.toString().includes('"relay":true')), []);
  } finally {
    await watcher.close();
    await door.close();
  }
});

test('an embedded broker beyond loopback without credentials is refused, at load and at start', async () => {
  const port = await freePort();
  assert.throws(
    () => loadConfig({ env: {}, overrides: { 'mqtt.embedded': 'always', 'mqtt.url': `mqtt://0.0.0.0:${port}` } }),
    (error: unknown) => error instanceof ConfigError && /mqtt\.embedded/.test(error.message) && /password/.test(error.message),
  );
  // Loaded anyway (e.g. settings built in code): the broker still refuses to listen there.
  const t = testSettings(`mqtt://127.0.0.1:${port}`, { 'mqtt.embedded': 'always' });
  t.cleanup();
  const lines: string[] = [];
  const log = createLogger({ level: 'error', destination: new Writable({ write(chunk, _e, done) { lines.push(String(chunk)); done(); } }) });
  const open = { ...t.settings, mqtt: { ...t.settings.mqtt, url: `mqtt://0.0.0.0:${port}` } };
  assert.equal(await maybeStartEmbeddedBroker(open, log), null);
  assert.ok(lines.some((l) => l.includes('NOT started')), lines.join('\n'));
});
