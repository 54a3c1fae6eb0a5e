import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXIT_CONFIG } from '../../src/config/index.js';
import { HARD_EXIT_MS } from '../../src/process/lifecycle.js';
import { repoRoot } from '../helpers/datasets.js';

const unitPath = join(repoRoot, 'systemd', 'facegate.service');
const unitText = readFileSync(unitPath, 'utf8');

/** Key -> every value it is given in [Service] (keys may repeat, like DeviceAllow). */
function section(name: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let current = '';
  for (const raw of unitText.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) { current = header[1]!; continue; }
    if (current !== name) continue;
    const eq = line.indexOf('=');
    const key = line.slice(0, eq);
    out.set(key, [...(out.get(key) ?? []), line.slice(eq + 1)]);
  }
  return out;
}
const service = section('Service');
const one = (key: string) => service.get(key)?.at(-1);

function hasSystemdAnalyze(): string | false {
  const probe = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' });
  return probe.status === 0 ? false : 'systemd-analyze is not installed on this machine';
}

test('the unit is Type=notify with a watchdog and restarts on failure, but not on a configuration error', () => {
  assert.equal(one('Type'), 'notify');
  assert.equal(one('NotifyAccess'), 'all', 'READY comes from a systemd-notify child, not from node itself');
  assert.ok(Number(one('WatchdogSec')) > 0);
  assert.equal(one('Restart'), 'on-failure');
  assert.ok(Number(one('RestartSec')) > 0);
  assert.ok(one('RestartPreventExitStatus')?.split(/\s+/).includes(String(EXIT_CONFIG)));
  assert.equal(one('KillSignal'), 'SIGTERM');
  assert.ok(Number(one('TimeoutStopSec')) * 1000 > HARD_EXIT_MS, 'our hard exit must come before systemd\'s SIGKILL');
  assert.equal(one('StateDirectory'), 'facegate');
  assert.equal(one('User'), 'facegate');
  // Settings belong in /etc/facegate/config.json: a FACEGATE_* variable here would silently override it.
  assert.deepEqual((service.get('Environment') ?? []).filter((e) => e.startsWith('FACEGATE_')), []);
});

test('hardening is on, without the settings that break sysfs GPIO, the camera or the V8 JIT', () => {
  assert.equal(one('ProtectSystem'), 'strict');
  assert.ok(service.get('ReadWritePaths')?.some((v) => v.split(/\s+/).includes('/var/lib/facegate')));
  assert.equal(one('ProtectHome'), 'true');
  assert.equal(one('PrivateTmp'), 'true');
  assert.equal(one('NoNewPrivileges'), 'true');
  assert.deepEqual(one('SupplementaryGroups')?.split(/\s+/).sort(), ['gpio', 'video']);
  for (const banned of ['ProtectKernelTunables', 'MemoryDenyWriteExecute', 'PrivateDevices']) {
    assert.ok(!service.has(banned) || service.get(banned)!.every((v) => v === 'false'), `${banned} must not be set`);
  }
});

test('DeviceAllow covers the camera stack with syntax systemd accepts (no globs in paths)', () => {
  const entries = service.get('DeviceAllow') ?? [];
  const specifiers = entries.map((e) => e.split(/\s+/)[0]!);
  for (const spec of specifiers) {
    // A path is taken literally: "/dev/video*" would silently allow nothing.
    if (spec.startsWith('/dev/')) assert.doesNotMatch(spec, /[*?[]/, `${spec}: globs only work in char-<group> names`);
    else assert.match(spec, /^(char|block)-[\w*?/.-]+$/, `${spec}: not a device path or char-/block- group`);
  }
  for (const group of ['char-video4linux', 'char-media', 'char-dma_heap']) assert.ok(specifiers.includes(group), `${group} missing`);
  for (const entry of entries) assert.match(entry, /\s(r|rw|rwm|w|m)$/);
});

test('systemd-analyze verify accepts the unit as the installer writes it', { skip: hasSystemdAnalyze() }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'facegate-unit-'));
  try {
    // install.sh points the launcher at the node this machine has, and puts it in /opt/facegate; do the same
    // (the checkout's bin/ standing in for /opt/facegate/bin) so verify can find every command.
    const installed = unitText
      .replace(/^Environment=NODE_BINARY=\/usr\/bin\/node$/m, `Environment=NODE_BINARY=${process.execPath}`)
      .replaceAll('/opt/facegate/bin/facegate', join(repoRoot, 'bin', 'facegate'));
    const file = join(dir, 'facegate.service');
    writeFileSync(file, installed);
    const result = spawnSync('systemd-analyze', ['verify', file], { encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
    // verify exits 0 on unknown keys and only warns; any line naming our file is a mistake in it.
    const complaints = result.stderr.split('\n').filter((l) => l.includes('facegate.service'));
    assert.deepEqual(complaints, []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('install.sh parses, and its dry run shows every step without touching the system', () => {
  const script = join(repoRoot, 'systemd', 'install.sh');
  const syntax = spawnSync('sh', ['-n', script], { encoding: 'utf8' });
  assert.equal(syntax.status, 0, syntax.stderr);
  const dry = spawnSync('sh', [script, '--dry-run', '--no-start'], { encoding: 'utf8', env: { ...process.env, SUDO_USER: '' } });
  assert.equal(dry.status, 0, dry.stderr);
  for (const step of ['npm ci', 'mkdir -p /opt/facegate', '/etc/facegate/config.json', 'chmod 0640 /etc/facegate/config.json', 'systemctl daemon-reload', 'systemctl enable facegate.service']) {
    assert.ok(dry.stdout.includes(step), `dry run lacks "${step}"\n${dry.stdout}`);
  }
  const bad = spawnSync('sh', [script, '--frobnicate'], { encoding: 'utf8' });
  assert.equal(bad.status, 64);
});
