import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { isLoopbackHost, isPortAnswering, maybeStartEmbeddedBroker } from '../../src/mqtt/broker.js';
import { createLogger } from '../../src/log.js';
import { freePort, quietLog, startAedes, testSettings } from '../helpers/broker.js';

const mqttSettings = (url: string, embedded: 'auto' | 'always' | 'never') => {
  const t = testSettings(url, { 'mqtt.embedded': embedded });
  t.cleanup();
  return t.settings;
};

test('only loopback hosts count as local', () => {
  assert.deepEqual(['localhost', '127.0.0.1', '127.0.1.1', '::1', 'broker.lan', '192.168.1.2', '0.0.0.0'].map(isLoopbackHost),
    [true, true, true, true, false, false, false]);
});

test('embedded "never", and "auto" for a remote host, start nothing', async () => {
  const port = await freePort();
  assert.equal(await maybeStartEmbeddedBroker(mqttSettings(`mqtt://127.0.0.1:${port}`, 'never'), quietLog()), null);
  assert.equal(await maybeStartEmbeddedBroker(mqttSettings(`mqtt://broker.invalid:${port}`, 'auto'), quietLog()), null);
  assert.equal(await isPortAnswering('127.0.0.1', port), false);
});

test('embedded "auto" leaves a broker that already answers alone; "always" starts one on a free port', async () => {
  const existing = await startAedes();
  try {
    assert.equal(await maybeStartEmbeddedBroker(mqttSettings(existing.url, 'auto'), quietLog()), null);
  } finally {
    await existing.close();
  }
  const port = await freePort();
  const started = await maybeStartEmbeddedBroker(mqttSettings(`mqtt://localhost:${port}`, 'always'), quietLog());
  assert.ok(started);
  try {
    assert.equal(started.broker.port, port);
    assert.equal(started.connection.protocolVersion, 4);
    assert.equal(await isPortAnswering('127.0.0.1', port), true);
  } finally {
    await started.broker.close();
  }
  assert.equal(await isPortAnswering('127.0.0.1', port), false);
});

test('embedded "always" on a port that is taken logs the problem instead of throwing', async () => {
  const existing = await startAedes();
  const lines: string[] = [];
  const log = createLogger({ level: 'error', destination: new Writable({ write(chunk, _e, done) { lines.push(String(chunk)); done(); } }) });
  try {
    assert.equal(await maybeStartEmbeddedBroker(mqttSettings(existing.url, 'always'), log), null);
    assert.ok(lines.some((l) => l.includes('embedded MQTT broker could not start')));
  } finally {
    await existing.close();
  }
});
