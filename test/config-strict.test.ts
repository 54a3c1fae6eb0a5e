import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig, loadGpioSettings, MAX_TIMER_MS } from '../src/config/index.js';
import { EXIT_CODES, FacegateError } from '../src/core/errors.js';

// issue 11 item 5: no setting is read as its opposite; issue 11 item 12: paths.state follows paths.data.

function problemsOf(fn: () => unknown): Array<{ key: string; reason: string }> {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error.problems;
  }
  assert.fail('expected a ConfigError');
}

for (const [variable, key] of [['FACEGATE_RELAY_ACTIVE_LOW', 'gpio.relay.activeLow'], ['FACEGATE_MQTT_UNLOCK_ENABLED', 'mqtt.unlock.enabled']] as const) {
  for (const given of ['0', '1', 'yes', 'no', 'TRUE', '']) {
    test(`${variable}=${JSON.stringify(given)} is refused, naming the key and what was given (convict read it as true)`, () => {
      const problems = problemsOf(() => loadConfig({ env: { [variable]: given } }));
      const problem = problems.find((p) => p.key === key);
      assert.ok(problem, JSON.stringify(problems));
      assert.match(problem.reason, /must be true or false/);
      assert.ok(problem.reason.includes(JSON.stringify(given)), problem.reason);
    });
  }
}

test('booleans from env, file and flags accept exactly true and false', () => {
  const dir = mkdtempSync(join(tmpdir(), 'facegate-strict-'));
  try {
    assert.equal(loadConfig({ env: { FACEGATE_RELAY_ACTIVE_LOW: 'false' } }).get('gpio.relay.activeLow'), false);
    assert.equal(loadConfig({ env: { FACEGATE_RELAY_ACTIVE_LOW: 'true' } }).get('gpio.relay.activeLow'), true);
    const file = join(dir, 'c.json');
    writeFileSync(file, JSON.stringify({ gpio: { relay: { activeLow: 0 } }, mqtt: { unlock: { enabled: 'yes' } } }));
    const fromFile = problemsOf(() => loadConfig({ file, env: {} }));
    assert.deepEqual(fromFile.map((p) => p.key).sort(), ['gpio.relay.activeLow', 'mqtt.unlock.enabled']);
    assert.match(fromFile.find((p) => p.key === 'gpio.relay.activeLow')!.reason, /got 0/);
    writeFileSync(file, JSON.stringify({ audit: { enabled: false } }));
    assert.equal(loadConfig({ file, env: {} }).get('audit.enabled'), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a timer above 2^31-1 ms is refused, not wrapped to 1 ms by setTimeout', () => {
  const problems = problemsOf(() => loadConfig({ env: { FACEGATE_LOCKOUT_MS: String(MAX_TIMER_MS + 1) } }));
  assert.equal(problems[0]!.key, 'security.lockoutMs');
  assert.match(problems[0]!.reason, /2147483647/);
  assert.equal(loadConfig({ env: { FACEGATE_LOCKOUT_MS: String(MAX_TIMER_MS) } }).get('security.lockoutMs'), MAX_TIMER_MS);
  const maxUnlock = problemsOf(() => loadConfig({ env: { FACEGATE_MAX_UNLOCK_MS: '3000000000' } }));
  assert.ok(maxUnlock.some((p) => p.key === 'door.maxUnlockMs'));
});

test('paths.state follows paths.data unless set, so tests that move their data never write into the checkout', () => {
  assert.equal(loadConfig({ env: {}, overrides: { 'paths.data': '/tmp/elsewhere' } }).get('paths.state'), join('/tmp/elsewhere', 'state'));
  assert.equal(loadConfig({ env: { FACEGATE_DATA_DIR: '/srv/door' } }).get('paths.state'), join('/srv/door', 'state'));
  assert.equal(loadConfig({ env: { FACEGATE_DATA_DIR: '/srv/door', FACEGATE_STATE_DIR: '/var/lib/x' } }).get('paths.state'), '/var/lib/x');
  assert.equal(loadConfig({ env: {} }).get('paths.state'), join('data', 'state'));
});

test('ConfigError is a FacegateError with code "config", the exit code from the one table, and its cause', () => {
  const dir = mkdtempSync(join(tmpdir(), 'facegate-strict-'));
  try {
    const file = join(dir, 'bad.json');
    writeFileSync(file, '{ not json');
    try {
      loadConfig({ file, env: {} });
      assert.fail('expected a ConfigError');
    } catch (error) {
      assert.ok(error instanceof FacegateError);
      assert.equal(error.code, 'config');
      assert.equal(error.exitCode, EXIT_CODES.config);
      assert.equal(EXIT_CODES.config, 78);
      assert.ok(error.cause instanceof Error, 'the parser error is kept as the cause');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('loadGpioSettings reads only the GPIO part: unrelated bad keys and unknown keys do not stop it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'facegate-strict-'));
  try {
    const file = join(dir, 'c.json');
    writeFileSync(file, JSON.stringify({
      frobnicate: 1, door: { unlockMs: -5 }, mqtt: { unlock: { enabled: 'yes' } }, model: { detectionThreshold: 7 },
      gpio: { driver: 'onoff', relay: { pin: 5, activeLow: false } },
    }));
    assert.throws(() => loadConfig({ file, env: {} }), ConfigError, 'the full config is invalid');
    const gpio = loadGpioSettings({ file, env: {} });
    assert.equal(gpio.driver, 'onoff');
    assert.equal(gpio.relay.pin, 5);
    assert.equal(gpio.relay.activeLow, false);
    // Env wins over the file, as in the full loader; a bad GPIO value is still an error.
    assert.equal(loadGpioSettings({ file, env: { FACEGATE_RELAY_ACTIVE_LOW: 'true' } }).relay.activeLow, true);
    assert.throws(() => loadGpioSettings({ file, env: { FACEGATE_RELAY_ACTIVE_LOW: '0' } }), ConfigError);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
