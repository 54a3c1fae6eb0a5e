import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadConfig } from '../src/config/index.js';
import { brokerCheck } from '../src/doctor/broker.js';
import { gpioAccessCheck, gpioPinsCheck } from '../src/doctor/gpio.js';
import { galleryCheck, modelCheck } from '../src/doctor/model.js';
import type { CheckResult } from '../src/doctor/types.js';
import { fakeSysfs, PI5 } from './fixtures/fake-sysfs/tree.js';
import { repoRoot } from './helpers/datasets.js';

const FAKE = resolve(repoRoot, 'test/fixtures/fake-rpicam-vid');

function doctor(args: string[], env: Record<string, string>): Promise<{ code: number; report: { ok: boolean; checks: CheckResult[] }; stderr: string }> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('FACEGATE_')));
  return new Promise((resolvePromise, reject) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', resolve(repoRoot, 'src/cli.ts'), 'doctor', '--json', ...args],
      { cwd: repoRoot, env: { ...clean, ...env }, timeout: 60_000 },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number') return reject(error);
        try {
          resolvePromise({ code: typeof error?.code === 'number' ? error.code : 0, report: JSON.parse(stdout), stderr });
        } catch {
          reject(new Error(`doctor printed no JSON: ${stdout}\n${stderr}`));
        }
      },
    );
  });
}

const byName = (checks: CheckResult[], name: string) => checks.find((c) => c.name === name)!;

function settings(overrides: Record<string, unknown>) {
  return loadConfig({ env: {}, overrides }).getProperties();
}

test('doctor --json with rpicam on the fake streamer: camera passes with fps > 0, exit code follows the failures', async (t) => {
  const broker = createServer((socket) => socket.destroy());
  await new Promise<void>((r) => broker.listen(0, '127.0.0.1', r));
  t.after(() => broker.close());
  const port = (broker.address() as AddressInfo).port;
  const { code, report } = await doctor([], {
    FACEGATE_CAMERA: 'rpicam',
    FACEGATE_CAMERA_COMMAND: FAKE,
    FACEGATE_CAMERA_WIDTH: '320',
    FACEGATE_CAMERA_HEIGHT: '240',
    FACEGATE_MQTT_URL: `mqtt://127.0.0.1:${port}`,
    FACEGATE_MODEL_DIR: '/nonexistent/model',
  });
  assert.equal(byName(report.checks, 'camera-command').status, 'pass');
  const frames = byName(report.checks, 'camera-frames');
  assert.equal(frames.status, 'pass', frames.detail);
  assert.ok((frames.data?.fps as number) > 0, `fps ${String(frames.data?.fps)}`);
  assert.equal(byName(report.checks, 'broker').status, 'pass');
  const model = byName(report.checks, 'model');
  assert.equal(model.status, 'fail');
  assert.match(model.fix ?? '', /model\.dir/);
  assert.equal(report.ok, false);
  assert.equal(code, 1);
});

test('doctor with camera.command pointing at a missing program fails the camera check with a hint', async () => {
  const { code, report } = await doctor(['--only', 'camera'], { FACEGATE_CAMERA: 'rpicam', FACEGATE_CAMERA_COMMAND: '/nonexistent/rpicam-vid' });
  const command = byName(report.checks, 'camera-command');
  assert.equal(command.status, 'fail');
  assert.match(command.detail, /\/nonexistent\/rpicam-vid not found/);
  assert.match(command.fix ?? '', /camera\.command/);
  assert.equal(byName(report.checks, 'camera-frames').status, 'fail');
  assert.deepEqual(report.checks.map((c) => c.name), ['camera-command', 'camera-frames']);
  assert.equal(code, 1);
});

test('gpio checks print the sysfs numbers of a Pi 5 and explain a missing sysfs', (t) => {
  const root = fakeSysfs(PI5);
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const gpio = settings({ 'gpio.driver': 'onoff', 'gpio.sysfsRoot': root, 'gpio.leds.busy': null }).gpio;
  assert.equal(gpioAccessCheck(gpio).status, 'pass');
  const pins = gpioPinsCheck(gpio);
  assert.equal(pins.status, 'pass');
  assert.match(pins.detail, /pinctrl-rp1 base 571: button BCM17->gpio588, relay BCM27->gpio598, green BCM22->gpio593, red BCM23->gpio594, busy not wired/);
  const missing = { ...gpio, sysfsRoot: join(root, 'absent') };
  assert.match(gpioAccessCheck(missing).fix ?? '', /CONFIG_GPIO_SYSFS/);
  assert.equal(gpioPinsCheck(missing).status, 'fail');
  assert.equal(gpioAccessCheck(settings({}).gpio).status, 'skip');
});

test('broker check: a closed remote port fails, a closed local port passes when the embedded broker will take it', async () => {
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const port = (probe.address() as AddressInfo).port;
  await new Promise<void>((r) => probe.close(() => r()));
  const never = await brokerCheck(settings({ 'mqtt.url': `mqtt://127.0.0.1:${port}`, 'mqtt.embedded': 'never' }).mqtt, 1000);
  assert.equal(never.status, 'fail');
  assert.match(never.detail, /ECONNREFUSED/);
  const auto = await brokerCheck(settings({ 'mqtt.url': `mqtt://127.0.0.1:${port}`, 'mqtt.embedded': 'auto' }).mqtt, 1000);
  assert.equal(auto.status, 'pass');
  assert.match(auto.detail, /embedded broker/);
  assert.equal((await brokerCheck(settings({ 'mqtt.enabled': false }).mqtt)).status, 'skip');
});

test('gallery check counts enrolled people and fails on an empty gallery', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'facegate-doctor-gallery-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  assert.equal((await galleryCheck(settings({ 'gallery.dir': dir }))).status, 'fail');
  mkdirSync(join(dir, 'ada'));
  writeFileSync(join(dir, 'ada', '1.jpg'), 'not checked here');
  const result = await galleryCheck(settings({ 'gallery.dir': dir }));
  assert.equal(result.status, 'pass');
  assert.deepEqual(result.data, { people: 1, images: 1 });
});

const shippedModel = resolve(repoRoot, 'models/default');
test('model check loads the shipped model and names its backend', { skip: existsSync(join(shippedModel, 'model.json')) ? false : 'models/default not built yet' }, async () => {
  const result = await modelCheck(settings({ 'model.dir': shippedModel }));
  assert.equal(result.status, 'pass', result.detail);
  assert.match(result.detail, / px -> \d+-d on (tensorflow|wasm|cpu)$/);
  assert.ok(typeof result.data?.backend === 'string');
});

test('model check: a BlazeFace model without @vladmandic/human fails with the install command', async () => {
  const blazefaceModel = settings({ 'model.dir': resolve(repoRoot, 'models/blazeface') });
  const absent = (id: string): string => {
    throw Object.assign(new Error(`Cannot find module '${id}'`), { code: 'MODULE_NOT_FOUND' });
  };
  const result = await modelCheck(blazefaceModel, absent);
  assert.equal(result.status, 'fail');
  assert.match(result.detail, /optional package @vladmandic\/human, which is not installed/);
  assert.match(result.fix ?? '', /^npm install --omit=dev --save-prod @vladmandic\/human /);
  // Installed (a devDependency here): the same model passes.
  assert.equal((await modelCheck(blazefaceModel)).status, 'pass');
  // The default model never asks for the package.
  assert.equal((await modelCheck(settings({ 'model.dir': shippedModel }), absent)).status, 'pass');
});
