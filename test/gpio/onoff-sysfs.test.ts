import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { repoRoot } from '../helpers/datasets.js';

/**
 * onoff's own code (exports, direction, active_low, value writes, unexport) against a fake sysfs on a tmpfs
 * in a private mount namespace: the only way to run it without a Pi, because onoff hard-codes /sys/class/gpio.
 * Plain files cannot raise edge interrupts, so the button's watch() is covered by the adapter tests instead.
 */
function needMountNamespace(): string | false {
  const probe = spawnSync('unshare', ['-m', '--propagation', 'private', 'mount', '-t', 'tmpfs', 'facegate-probe', '/sys/class'], { encoding: 'utf8' });
  if (probe.error) return `unshare not available: ${probe.error.message}`;
  if (probe.status !== 0) return `cannot mount a private tmpfs over /sys/class (needs root / CAP_SYS_ADMIN): ${probe.stderr.trim()}`;
  return false;
}
const skip = needMountNamespace();

function driveInNamespace(env: Record<string, string> = {}): Promise<Record<string, unknown>> {
  const driver = resolve(repoRoot, 'test/fixtures/fake-sysfs/namespace-driver.ts');
  return new Promise((resolvePromise, reject) => {
    execFile(
      'unshare',
      ['-m', '--propagation', 'private', process.execPath, '--import', 'tsx', driver],
      { cwd: repoRoot, env: { ...process.env, ...env }, timeout: 60_000 },
      (error, stdout, stderr) => {
        const line = stdout.trim().split('\n').pop() ?? '';
        try {
          resolvePromise(JSON.parse(line));
        } catch {
          reject(new Error(`namespace driver failed: ${error?.message ?? ''}\n${stdout}\n${stderr}`));
        }
      },
    );
  });
}

test('real onoff through the adapter: active-low relay exported OFF, writes land, pins unexported', { skip }, async () => {
  const seen = await driveInNamespace();
  assert.equal(seen.error, undefined, String(seen.error));
  assert.deepEqual(seen.afterExport, {
    // direction "high" = raw high = relay off on an active-low board, from the first write
    relay: { direction: 'high', active_low: '1', value: '0' },
    green: { direction: 'low', active_low: '0', value: '0' },
  });
  // With active_low=1 the kernel inverts: logical 1 written here drives the pin low and energises the relay.
  assert.equal(seen.relayOn, '1');
  assert.equal(seen.relayOff, '0');
  assert.equal(seen.greenOn, '1');
  // Relay first in both directions, and every pin written OFF (the relay was on) before it is let go.
  assert.deepEqual(seen.requests, ['export 539', 'export 534', 'export 535', 'unexport 539 value=0', 'unexport 534 value=0', 'unexport 535 value=0']);
  assert.deepEqual(seen.remaining, ['export', 'gpiochip512', 'unexport']);
});

test('real onoff: an active-high relay board is exported with direction low', { skip }, async () => {
  const seen = await driveInNamespace({ RELAY_ACTIVE_LOW: 'false' });
  assert.equal(seen.error, undefined, String(seen.error));
  assert.deepEqual((seen.afterExport as Record<string, unknown>).relay, { direction: 'low', active_low: '0', value: '0' });
  assert.equal(seen.relayOn, '1');
});
