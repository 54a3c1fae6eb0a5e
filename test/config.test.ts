import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, settingsMarkdown } from '../src/config/index.js';
import { configFromArgv } from '../src/commands/args.js';
import { repoRoot } from './helpers/datasets.js';

const tmp = mkdtempSync(join(tmpdir(), 'facegate-config-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

function writeJson(name: string, value: unknown): string {
  const path = join(tmp, name);
  writeFileSync(path, JSON.stringify(value));
  return path;
}

function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
  return spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
    cwd: repoRoot, encoding: 'utf8', env: { PATH: process.env.PATH, ...env }, timeout: 60_000,
  });
}

test('precedence: defaults < file < environment < flags', () => {
  const file = writeJson('layers.json', { log: { level: 'warn' }, door: { unlockMs: 4000 } });
  assert.equal(loadConfig({ env: {} }).get('log.level'), 'info');
  assert.equal(loadConfig({ env: {}, file }).get('log.level'), 'warn');
  assert.equal(loadConfig({ env: { FACEGATE_LOG_LEVEL: 'error' }, file }).get('log.level'), 'error');
  const all = configFromArgv(['--config', file, '--log-level', 'debug'], { FACEGATE_LOG_LEVEL: 'error', FACEGATE_UNLOCK_MS: '5000' });
  assert.equal(all.get('log.level'), 'debug');
  assert.equal(all.get('door.unlockMs'), 5000);
  assert.equal(loadConfig({ env: { FACEGATE_CONFIG: file } }).get('door.unlockMs'), 4000, 'FACEGATE_CONFIG names the file');
});

test('a bad config file stops `facegate run` with exit 78, naming every bad key', () => {
  const bad = writeJson('bad.json', { door: { unlockMss: 100, cooldownMs: -1 }, camera: { driver: 'webcam' } });
  const result = cli(['run', '--config', bad]);
  assert.equal(result.status, 78, result.stderr);
  assert.match(result.stderr, /door\.unlockMss/);
  assert.match(result.stderr, /door\.cooldownMs/);
  assert.match(result.stderr, /camera\.driver/);
});

test('an unknown flag or a missing config file is a config error too, not silently ignored', () => {
  assert.throws(() => configFromArgv(['--log-levle', 'debug'], {}), /--log-levle: unknown option/);
  assert.throws(() => configFromArgv(['--config', join(tmp, 'nope.json')], {}), /file not found/);
  assert.throws(() => configFromArgv(['--config'], {}), /needs a value/);
});

test('`facegate config print` masks every secret', () => {
  const env = {
    FACEGATE_MQTT_PASSWORD: 'mqtt-pass-3141592653',
    FACEGATE_MQTT_UNLOCK_SECRET: 'unlock-secret-2718281828',
    FACEGATE_CAMERA_PASSWORD: 'camera-pass-1414213562',
  };
  const result = cli(['config', 'print'], env);
  assert.equal(result.status, 0, result.stderr);
  const printed = JSON.parse(result.stdout) as { mqtt: { password: string; unlock: { secret: string } } };
  assert.equal(printed.mqtt.password, '[Sensitive]');
  assert.equal(printed.mqtt.unlock.secret, '[Sensitive]');
  for (const secret of Object.values(env)) assert.ok(!result.stdout.includes(secret), `${secret} leaked`);
});

test('`facegate config docs` prints the reference table', () => {
  const result = cli(['config', 'docs']);
  assert.equal(result.status, 0, result.stderr);
  assert.equal(result.stdout.trim(), settingsMarkdown());
});

test('the README configuration table matches the schema (run `facegate config docs` to refresh it)', () => {
  const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
  const match = /<!-- config-table:start -->\n([\s\S]*?)\n?<!-- config-table:end -->/.exec(readme);
  assert.ok(match, 'README.md lacks the config-table markers');
  assert.equal(match[1]!.trim(), settingsMarkdown(), 'README.md configuration table is stale');
});

test('the shipped configs load: the embedded default on simulated parts, the Pi on the real ones', () => {
  const laptop = loadConfig({ env: {}, file: join(repoRoot, 'config/default.json') }).getProperties();
  assert.equal(laptop.camera.driver, 'files');
  assert.equal(laptop.gpio.driver, 'simulated');
  const pi = loadConfig({ env: {}, file: join(repoRoot, 'config/raspberry-pi.json') }).getProperties();
  assert.equal(pi.camera.driver, 'rpicam');
  assert.equal(pi.gpio.driver, 'onoff');
  assert.equal(pi.keyboard.enabled, false);
});
