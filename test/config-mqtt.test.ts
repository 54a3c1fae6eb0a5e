import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { ConfigError, loadConfig, settingsMarkdown } from '../src/config/index.js';
import { defaultDeviceId, readMachineId } from '../src/config/device-id.js';
import { PreviewServer } from '../src/collect/preview.js';
import type { Camera } from '../src/camera/camera.js';
import { quietLog } from './helpers/broker.js';

test('two Pis both called "raspberrypi" get different, stable default device ids; the hostname stays the name', () => {
  const a = defaultDeviceId('raspberrypi', '0123456789abcdef0123456789abcdef');
  const b = defaultDeviceId('raspberrypi', 'fedcba9876543210fedcba9876543210');
  assert.match(a, /^raspberrypi-[0-9a-f]{6}$/);
  assert.notEqual(a, b);
  assert.equal(defaultDeviceId('raspberrypi', '0123456789abcdef0123456789abcdef'), a, 'stable across restarts');
  assert.equal(a.includes('0123456789'), false, 'the machine id itself is not published');
  assert.equal(defaultDeviceId('Front Door.local', null), 'front-door-local', 'no machine id: the hostname alone');
  const settings = loadConfig({ env: {} }).getProperties();
  assert.equal(settings.deviceId, defaultDeviceId());
  assert.ok(settings.deviceName.length > 0);
  assert.match(settingsMarkdown(), /\| `deviceId` \| `"\(hostname-<6 hex from \/etc\/machine-id>\)"`/);
});

test('the machine id is read from the first file that holds one', () => {
  const dir = mkdtempSync(join(tmpdir(), 'facegate-machine-id-'));
  try {
    writeFileSync(join(dir, 'empty'), '\n');
    writeFileSync(join(dir, 'dbus'), 'ABCDEF0123456789abcdef0123456789\n');
    assert.equal(readMachineId([join(dir, 'missing'), join(dir, 'empty'), join(dir, 'dbus')]), 'abcdef0123456789abcdef0123456789');
    assert.equal(readMachineId([join(dir, 'missing')]), null);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('mqtt.requireSignatures without a secret stops startup naming the key', () => {
  assert.throws(
    () => loadConfig({ env: {}, overrides: { 'mqtt.requireSignatures': true } }),
    (error: unknown) => error instanceof ConfigError && /mqtt\.unlock\.secret/.test(error.message) && /requireSignatures/.test(error.message),
  );
});

test('the collect preview listens on loopback unless told otherwise', async () => {
  assert.equal(loadConfig({ env: {} }).getProperties().preview.host, '127.0.0.1');
  const camera = { status: () => ({ healthy: true }) } as unknown as Camera;
  const preview = new PreviewServer({ camera, port: 0, log: quietLog() });
  const url = await preview.start();
  try {
    const address = (preview as unknown as { server: { address(): AddressInfo } }).server.address();
    assert.equal(address.address, '127.0.0.1');
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/preview$/);
  } finally {
    await preview.stop();
  }
});
