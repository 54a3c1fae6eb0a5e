import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IClientPublishOptions } from 'mqtt';
import { discoveryMessages, facegateVersion } from '../../src/mqtt/discovery.js';
import { HomeAssistantFeature } from '../../src/mqtt/homeassistant.js';
import { topicMatches, type InboundMessage, type MqttLink, type Release } from '../../src/mqtt/hub.js';
import { startMqttBridge } from '../../src/mqtt/bridge.js';
import { topicsFor } from '../../src/mqtt/topics.js';
import { loadSchemas } from '../../src/mqtt/commands.js';
import { eventually, fakePort, makeStatus, observe, quietLog, startAedes, testSettings } from '../helpers/broker.js';

/** A link without a broker: records publishes and lets the test deliver messages to subscribers. */
class FakeLink implements MqttLink {
  published: { topic: string; payload: string; options: IClientPublishOptions }[] = [];
  handlers = new Map<string, (m: InboundMessage) => void>();
  hooks: (() => Promise<void> | void)[] = [];
  connected = () => true;
  protocolVersion = () => 5 as const;
  async publish(topic: string, payload: string | Buffer, options: IClientPublishOptions) {
    this.published.push({ topic, payload: payload.toString(), options });
  }
  async subscribe(filters: string[], handler: (m: InboundMessage) => void): Promise<Release> {
    for (const f of filters) this.handlers.set(f, handler);
    return async () => filters.forEach((f) => this.handlers.delete(f));
  }
  onConnect(hook: () => Promise<void> | void): Release {
    this.hooks.push(hook);
    return async () => void this.hooks.splice(this.hooks.indexOf(hook), 1);
  }
  onOversized(): Release {
    return async () => undefined;
  }
  deliver(topic: string, payload: string) {
    for (const [filter, handler] of this.handlers) if (topicMatches(filter, topic)) handler({ topic, payload: Buffer.from(payload), retained: false });
  }
}

const settingsFor = (overrides: Record<string, unknown> = {}) => {
  const t = testSettings('mqtt://127.0.0.1:1', overrides);
  t.cleanup();
  return t.settings;
};

test('topic filters match like a broker does', () => {
  assert.equal(topicMatches('a/+/c', 'a/b/c'), true);
  assert.equal(topicMatches('a/+', 'a/b/c'), false);
  assert.equal(topicMatches('a/#', 'a/b/c'), true);
  assert.equal(topicMatches('a/b', 'a/b/c'), false);
});

test('discovery: qos 1 on at-least-once topics, an origin and sw_version, the relay kept with remote unlock, last score from the retained state', () => {
  const settings = settingsFor({ 'mqtt.unlock.enabled': true, 'mqtt.unlock.secret': 'sixteen characters!', deviceName: 'Front door' });
  const topics = topicsFor(settings);
  const configs = new Map(discoveryMessages(settings, topics).map((m) => [m.topic.split('/').slice(1, 4).filter((_, i) => i !== 1).join('/'), m.payload ? JSON.parse(m.payload) as Record<string, unknown> : null]));
  const validate = loadSchemas().get('discovery')!;
  for (const [key, config] of configs) {
    if (!config) continue;
    assert.ok(validate(config), `${key}: ${JSON.stringify(validate.errors)}`);
    assert.deepEqual(config.origin, { name: 'facegate', sw_version: facegateVersion() });
    assert.equal((config.device as { sw_version: string }).sw_version, facegateVersion());
    assert.equal((config.device as { name: string }).name, 'facegate Front door');
    if (key !== 'image/snapshot') assert.equal(config.qos, 1, key);
  }
  assert.ok(configs.get('binary_sensor/relay'), "the README card's relay entity survives enabling remote unlock");
  assert.ok(configs.get('lock/door'));
  assert.equal(configs.get('sensor/last_score')!.state_topic, topics.state);
  assert.equal(configs.get('button/reload')!.command_topic, topics.reloadPress);
  assert.equal(configs.get('button/lockout_clear')!.command_topic, topics.lockoutClearRequest);
  assert.equal(configs.get('sensor/enrolled')!.state_topic, topics.state);
  // Signatures required: the buttons, which cannot sign, are removed.
  const strict = settingsFor({ 'mqtt.requireSignatures': true, 'mqtt.unlock.secret': 'sixteen characters!' });
  const removed = discoveryMessages(strict, topicsFor(strict)).filter((m) => m.payload === '').map((m) => m.topic.split('/')[3]);
  assert.ok(removed.includes('verify') && removed.includes('reload'), removed.join());
});

test('Home Assistant status floods are rate limited: one republish now, one at the end of the interval', async () => {
  const settings = settingsFor();
  const topics = topicsFor(settings);
  const link = new FakeLink();
  let now = 1_000_000;
  const feature = new HomeAssistantFeature(link, settings, topics, quietLog(), () => now, 200);
  await feature.start();
  const perPublish = discoveryMessages(settings, topics).length;
  for (let i = 0; i < 50; i += 1) link.deliver(topics.homeAssistantStatus, 'online');
  await eventually(() => link.published.length === perPublish);
  now += 200;
  await eventually(() => link.published.length === 2 * perPublish);
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal(link.published.length, 2 * perPublish, '50 status messages, 2 republishes');
  await feature.stop();
  assert.equal(link.handlers.size, 0, 'stop released the subscription');
  assert.equal(link.hooks.length, 0, 'stop released the connect hook');
});

test('Home Assistant off: the feature does not exist, so no discovery, not even on homeassistant/status; the state still goes out', async () => {
  const broker = await startAedes();
  const t = testSettings(broker.url, { 'mqtt.homeAssistant.enabled': false });
  const topics = topicsFor(t.settings);
  const watcher = await observe(broker.url, [topics.state, 'facegate-test-ha/#']);
  const bridge = await startMqttBridge(t.settings, quietLog(), fakePort({}));
  try {
    await eventually(() => bridge.connected());
    await bridge.status(makeStatus());
    await watcher.next(topics.state);
    await watcher.client.publishAsync(topics.homeAssistantStatus, 'online', { qos: 1 });
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.deepEqual(watcher.messages.filter((m) => m.topic.startsWith('facegate-test-ha/') && m.topic !== topics.homeAssistantStatus), []);
  } finally {
    await bridge.close();
    await watcher.close();
    await broker.close();
    t.cleanup();
  }
});

test('the hub restores every feature\'s subscriptions on connect and unsubscribes what a stopped feature alone used', async () => {
  const calls: string[] = [];
  const connection = {
    connected: () => true,
    subscribe: async (filters: string[]) => void calls.push(`sub ${filters.join(' ')}`),
    unsubscribe: async (filters: string[]) => void calls.push(`unsub ${filters.join(' ')}`),
  };
  const { Hub } = await import('../../src/mqtt/hub.js');
  const hub = new Hub(quietLog());
  hub.connection = connection as unknown as typeof hub.connection;
  const seen: string[] = [];
  const releaseA = await hub.subscribe(['door/cmd/+', 'shared/topic'], (m) => seen.push(`a ${m.topic}`));
  await hub.subscribe(['shared/topic'], (m) => seen.push(`b ${m.topic}`));
  await hub.hooks().onConnect();
  assert.deepEqual(calls, ['sub door/cmd/+ shared/topic', 'sub shared/topic', 'sub door/cmd/+ shared/topic']);
  hub.hooks().onMessage('door/cmd/verify', Buffer.from('x'), false);
  hub.hooks().onMessage('shared/topic', Buffer.from('x'), false);
  await releaseA();
  assert.equal(calls.at(-1), 'unsub door/cmd/+', 'only the filter nobody else uses');
  hub.hooks().onMessage('door/cmd/verify', Buffer.from('x'), false);
  hub.hooks().onMessage('shared/topic', Buffer.from('x'), false);
  assert.deepEqual(seen, ['a door/cmd/verify', 'a shared/topic', 'b shared/topic', 'b shared/topic']);
});
