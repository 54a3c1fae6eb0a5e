import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PI5, fakeSysfs } from '../fixtures/fake-sysfs/tree.js';
import { cli } from '../helpers/cli.js';
import { repoRoot } from '../helpers/datasets.js';

// issue 11 item 1: a process that dies does not hold the door open.

/** A config that is wrong everywhere except its GPIO part. */
function brokenConfig(dir: string, gpio: Record<string, unknown>): string {
  const file = join(dir, 'config.json');
  writeFileSync(file, JSON.stringify({
    frobnicate: true,
    door: { unlockMs: -5 },
    mqtt: { unlock: { enabled: 'yes' } },
    model: { detectionThreshold: 7 },
    gpio: { driver: 'onoff', ...gpio },
  }));
  return file;
}

for (const activeLow of [true, false]) {
  test(`facegate relay-off drives an energised ${activeLow ? 'active-low' : 'active-high'} relay OFF whatever the other keys say (Pi 5 numbering)`, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'facegate-relayoff-'));
    const root = fakeSysfs(PI5);
    t.after(() => { rmSync(dir, { recursive: true, force: true }); rmSync(root, { recursive: true, force: true }); });
    // BCM 27 on the Pi 5's pinctrl-rp1 (base 571) is gpio598, left energised by a killed daemon.
    const pin = join(root, 'gpio598');
    mkdirSync(pin);
    writeFileSync(join(pin, 'active_low'), activeLow ? '1' : '0');
    writeFileSync(join(pin, 'direction'), 'out');
    writeFileSync(join(pin, 'value'), '1');
    const file = brokenConfig(dir, { sysfsRoot: root, relay: { pin: 27, activeLow } });

    const result = await cli(dir, ['relay-off', '--config', file]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(readFileSync(join(pin, 'value'), 'utf8').trim(), '0', 'logical OFF through the kernel\'s active_low');
    assert.equal(readFileSync(join(pin, 'direction'), 'utf8').trim(), activeLow ? 'high' : 'low', 'raw OFF level as the direction');
    assert.match(result.stdout, /BCM 27 \(sysfs gpio598\) is OFF/);
  });
}

test('facegate relay-off exports a pin nobody holds, sets its polarity and drives it OFF; a bad GPIO key is a config error (78)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'facegate-relayoff-'));
  const root = fakeSysfs(PI5);
  // The fake sysfs watcher plays the kernel's part for export (unexport must be a FIFO for it).
  rmSync(join(root, 'unexport'));
  execFileSync('mkfifo', [join(root, 'unexport')]);
  const watcher = spawn(process.execPath, [join(repoRoot, 'test/fixtures/fake-sysfs/watcher.mjs'), root], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => { watcher.kill(); rmSync(dir, { recursive: true, force: true }); rmSync(root, { recursive: true, force: true }); });
  await new Promise<void>((ready) => watcher.stdout!.once('data', () => ready()));
  const file = brokenConfig(dir, { sysfsRoot: root, relay: { pin: 27, activeLow: true } });
  const result = await cli(dir, ['relay-off', '--config', file]);
  assert.equal(result.code, 0, result.stderr);
  const pin = join(root, 'gpio598');
  assert.deepEqual(['active_low', 'direction', 'value'].map((f) => readFileSync(join(pin, f), 'utf8').trim()), ['1', 'high', '0']);
  assert.match(result.stdout, /exported to drive it/);

  writeFileSync(file, JSON.stringify({ gpio: { driver: 'onoff', sysfsRoot: root, relay: { pin: 99 } } }));
  const bad = await cli(dir, ['relay-off', '--config', file]);
  assert.equal(bad.code, 78);
  assert.match(bad.stderr, /gpio\.relay\.pin/);
});

function needMountNamespace(): string | false {
  const probe = spawnSync('unshare', ['-m', '--propagation', 'private', 'mount', '-t', 'tmpfs', 'facegate-probe', '/sys/class'], { encoding: 'utf8' });
  if (probe.error) return `unshare not available: ${probe.error.message}`;
  if (probe.status !== 0) return `cannot mount a private tmpfs over /sys/class (needs root / CAP_SYS_ADMIN): ${probe.stderr.trim()}`;
  return false;
}

test('in a private mount namespace at /sys/class/gpio: the unit\'s relay-off, and `run` with an invalid config, both leave the energised pin OFF', { skip: needMountNamespace() }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'facegate-relayoff-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  // No sysfsRoot: the production default /sys/class/gpio, which the namespace replaces with a tmpfs.
  const file = brokenConfig(dir, { relay: { pin: 27, activeLow: true } });
  const driver = resolve(repoRoot, 'test/fixtures/fake-sysfs/relay-off-driver.ts');
  const seen = await new Promise<Record<string, any>>((resolvePromise, reject) => {
    execFile('unshare', ['-m', '--propagation', 'private', process.execPath, '--import', 'tsx', driver],
      { cwd: repoRoot, env: { ...process.env, CONFIG_FILE: file }, timeout: 120_000 }, (error, stdout, stderr) => {
        try {
          resolvePromise(JSON.parse(stdout.trim().split('\n').pop() ?? ''));
        } catch {
          reject(new Error(`driver failed: ${error?.message ?? ''}\n${stdout}\n${stderr}`));
        }
      });
  });
  assert.deepEqual(seen.before, { value: '1', direction: 'out' }, 'the pin starts energised');
  assert.equal(seen.relayOff.status, 0, seen.relayOff.stderr);
  assert.deepEqual(seen.relayOff.pin, { value: '0', direction: 'high' });
  assert.equal(seen.run.status, 78, `an invalid config still exits 78: ${seen.run.stderr}`);
  assert.match(seen.run.stderr, /door\.unlockMs/);
  assert.deepEqual(seen.run.pin, { value: '0', direction: 'high' }, 'but the relay was forced OFF before the config was read');
});
