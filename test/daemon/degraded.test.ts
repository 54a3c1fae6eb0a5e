import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, symlink, writeFile, mkdir, utimes } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { FolderCamera } from '../../src/camera/files.js';
import { loadConfig } from '../../src/config/index.js';
import { startDaemon } from '../../src/daemon/daemon.js';
import { readStatusFile } from '../../src/daemon/status-file.js';
import { cli } from '../helpers/cli.js';
import { FakeVerifier, captureLog } from './fakes.js';

// issue 11 item 11: one bad file does not stop the door, and the folder camera stays inside its folder.

test('the folder camera never follows a symlink out of its folder, even when it is the newest entry', async () => {
  const root = await mkdtemp(join(tmpdir(), 'facegate-camera-'));
  const folder = join(root, 'camera');
  const camera = new FolderCamera(folder, captureLog().log);
  try {
    await mkdir(folder);
    const secret = join(root, 'secret.jpg');
    await writeFile(secret, 'root:$6$not-an-image:19000:0:99999:7:::\n');
    const real = join(folder, 'face.jpg');
    await writeFile(real, await sharp({ create: { width: 8, height: 8, channels: 3, background: '#fff' } }).jpeg().toBuffer());
    await utimes(real, new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
    await symlink(secret, join(folder, 'zz-newest.jpg'));
    await camera.start();
    const frame = await camera.grab();
    assert.equal(frame.source, real, 'the regular image, not the symlink');
    assert.ok(!frame.data.includes(Buffer.from('root:')), 'not a byte of the link target');

    await rm(real);
    await assert.rejects(camera.grab(), /no frame/);
  } finally {
    await camera.stop();
    await rm(root, { recursive: true, force: true });
  }
});

test('the folder camera skips FIFOs and devices that carry an image name', async () => {
  const root = await mkdtemp(join(tmpdir(), 'facegate-camera-'));
  const folder = join(root, 'camera');
  const camera = new FolderCamera(folder, captureLog().log);
  try {
    await mkdir(folder);
    execFileSync('mkfifo', [join(folder, 'pipe.jpg')]);
    await camera.start();
    // A FIFO would block the read forever; it is not a regular file, so it is no frame.
    await assert.rejects(camera.grab(), /no frame/);
  } finally {
    await camera.stop();
    await rm(root, { recursive: true, force: true });
  }
});

test('a state dir that cannot be written: the daemon runs degraded, says what is off, and the door still opens', async () => {
  const root = await mkdtemp(join(tmpdir(), 'facegate-degraded-'));
  // A path below a regular file can never be created (ENOTDIR), whoever runs the test (root ignores modes).
  const blocker = join(root, 'not-a-dir');
  await writeFile(blocker, '');
  const settings = loadConfig({ env: {}, overrides: { 'paths.data': root, 'paths.state': join(blocker, 'state'), 'mqtt.enabled': false, 'door.cooldownMs': 0, 'keyboard.enabled': false } }).getProperties();
  const logs = captureLog();
  const verifier = new FakeVerifier();
  await mkdir(join(root, 'camera'));
  await writeFile(join(root, 'camera', 'f.jpg'), await sharp({ create: { width: 8, height: 8, channels: 3, background: '#fff' } }).jpeg().toBuffer());
  const daemon = await startDaemon(settings, logs.log, { createVerifier: async () => verifier });
  try {
    const status = daemon.door.status();
    assert.ok(status.degraded?.some((d) => d.includes('not writable') && d.includes('ENOTDIR')), JSON.stringify(status.degraded));
    assert.ok(status.degraded?.some((d) => d.includes('audit')), 'says the audit is not durable');
    assert.ok(logs.lines().some((l) => l.msg === 'state dir not writable: running degraded'));
    const outcome = await daemon.door.trigger('button');
    assert.ok(outcome.accepted && outcome.event.decision === 'granted', JSON.stringify(outcome));
    assert.equal(daemon.relay.isOn(), true, 'residents still get in');
  } finally {
    await daemon.stop('test over');
    await rm(root, { recursive: true, force: true });
  }
});

test('status.json is written by the daemon and read by `facegate status`; no status file reads as not running (69)', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'facegate-status-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  const settings = loadConfig({ env: {}, overrides: { 'paths.data': join(root, 'data'), 'paths.state': join(root, 'state'), 'mqtt.enabled': false, 'keyboard.enabled': false } }).getProperties();
  const daemon = await startDaemon(settings, captureLog().log, { createVerifier: async () => new FakeVerifier() });
  try {
    const file = readStatusFile(settings.paths.state);
    assert.ok(file, 'written at start');
    assert.equal(file.pid, process.pid);
    assert.equal(file.status.mode, 'idle');
    assert.equal(file.status.audit, 'ok');
    const shown = await cli(root, ['status']);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /facegate is running \(pid \d+/);
    assert.match(shown.stdout, /relay off/);
    const json = JSON.parse((await cli(root, ['status', '--json'])).stdout) as { running: boolean; status: { mode: string } };
    assert.equal(json.running, true);
    await daemon.door.clearLockout('test');
  } finally {
    await daemon.stop('test over');
  }
  assert.ok(existsSync(join(settings.paths.state, 'status.json')));
  const none = await cli(await mkdtemp(join(tmpdir(), 'facegate-status-none-')), ['status']);
  assert.equal(none.code, 69);
  assert.match(none.stdout, /not running/);
});
