import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/index.js';
import { gpioDriverCheck } from '../../src/doctor/gpio.js';
import { explainOnoffLoadError } from '../../src/gpio/onoff.js';
import { repoRoot } from '../helpers/datasets.js';

/**
 * onoff's native addon must not vanish silently: doctor really loads it when gpio.driver is onoff, and
 * `facegate run` stops with exit 78 (systemd does not restart a configuration error) and "npm rebuild".
 */
const onoffSettings = () => ({ ...loadConfig({ env: {} }).getProperties().gpio, driver: 'onoff' as const });
const STALE = join(repoRoot, 'test/fixtures/stale-addon/epoll-built-for-old-node.mjs');

function cli(args: string[], preload: string[] = [], node = process.execPath) {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('FACEGATE_')));
  const r = spawnSync(node, [...preload.flatMap((p) => ['--import', p]), '--import', 'tsx', 'src/cli.ts', ...args], {
    cwd: repoRoot, encoding: 'utf8', timeout: 60_000, env: { ...clean, FACEGATE_MQTT_URL: 'mqtt://127.0.0.1:1', FACEGATE_MQTT_EMBEDDED: 'never' },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('doctor loads the real onoff and its epoll addon when the driver is onoff, and skips it otherwise', () => {
  const result = gpioDriverCheck(onoffSettings());
  assert.equal(result.status, 'pass', result.detail);
  assert.match(result.detail, new RegExp(`module version ${process.versions.modules}`));
  assert.equal(gpioDriverCheck({ ...onoffSettings(), driver: 'simulated' }).status, 'skip');
});

test('an addon built for another Node, or never built, is named with the command that repairs it', () => {
  const stale = explainOnoffLoadError(new Error('The module \'/opt/facegate/node_modules/epoll/build/Release/epoll.node\'\nwas compiled against a different Node.js version using\nNODE_MODULE_VERSION 115. This version of Node.js requires\nNODE_MODULE_VERSION 127. Please try re-compiling'));
  assert.equal(stale.kind, 'node-upgrade');
  assert.match(stale.fix, /npm rebuild/);
  assert.equal(stale.exitCode, 78);
  const missing = explainOnoffLoadError(new Error('Could not locate the bindings file. Tried:\n → /opt/facegate/node_modules/epoll/build/epoll.node'));
  assert.equal(missing.kind, 'not-built');
  assert.match(missing.fix, /npm rebuild epoll/);
});

test('after a Node upgrade doctor fails gpio-driver with "npm rebuild" and run exits 78 instead of looping', () => {
  const doctor = cli(['doctor', '--json', '--only', 'gpio', '--gpio', 'onoff'], [STALE]);
  const check = (JSON.parse(doctor.stdout) as { checks: Array<{ name: string; status: string; fix?: string; detail: string }> }).checks.find((c) => c.name === 'gpio-driver')!;
  assert.equal(check.status, 'fail');
  assert.match(check.detail, /built for another Node/);
  assert.match(check.fix!, /npm rebuild/);

  const run = cli(['run', '--gpio', 'onoff'], [STALE]);
  assert.equal(run.code, 78, run.stderr);
  assert.match(run.stderr, /onoff cannot load: epoll was built for another Node.*npm rebuild/s);
});

/** A second Node of another major (CI sets FACEGATE_OTHER_NODE): the addon built here really is stale there. */
const otherNode = process.env.FACEGATE_OTHER_NODE;
const otherModules = otherNode && existsSync(otherNode) ? execFileSync(otherNode, ['-p', 'process.versions.modules'], { encoding: 'utf8' }).trim() : null;
const noOther = !otherModules ? 'no second Node of another major (set FACEGATE_OTHER_NODE)' : otherModules === process.versions.modules ? 'FACEGATE_OTHER_NODE has the same module version' : false;

test('the real thing: under another Node major the addon built for this one fails doctor with "npm rebuild"', { skip: noOther }, () => {
  const doctor = cli(['doctor', '--json', '--only', 'gpio', '--gpio', 'onoff'], [], otherNode);
  const check = (JSON.parse(doctor.stdout) as { checks: Array<{ name: string; status: string; fix?: string; detail: string }> }).checks.find((c) => c.name === 'gpio-driver')!;
  assert.equal(check.status, 'fail', check.detail);
  assert.match(check.detail, new RegExp(`module version ${process.versions.modules}; Node .* needs ${otherModules}`));
  assert.match(check.fix!, /npm rebuild/);
});
