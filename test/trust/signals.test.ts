import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { STOP_SIGNALS } from '../../src/process/lifecycle.js';
import { repoRoot } from '../helpers/datasets.js';
import { cli } from '../helpers/cli.js';
import { DaemonProcess, doorConfig, freePort, watchDoor } from './daemon-process.js';

// issue 11 item 2: every signal that ends the process switches the relay off first; SIGHUP reloads.

type Line = Record<string, unknown>;

/** The lifecycle harness as a real process: its stdout lines, and a way to wait for one. */
function harness() {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/lifecycle-harness.ts'], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: Line[] = [];
  let buffer = '';
  let wake: () => void = () => undefined;
  child.stdout!.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    const end = buffer.lastIndexOf('\n');
    for (const text of buffer.slice(0, end + 1).split('\n').filter(Boolean)) lines.push(JSON.parse(text) as Line);
    buffer = buffer.slice(end + 1);
    wake();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => child.on('exit', (code, signal) => done({ code, signal })));
  const waitFor = async (match: (l: Line) => boolean) => {
    for (;;) {
      const index = lines.findIndex(match);
      if (index >= 0) return index;
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`harness exited: ${JSON.stringify(lines)}`);
      await new Promise<void>((resolve) => (wake = resolve));
    }
  };
  return { child, lines, exited, waitFor };
}

for (const signal of STOP_SIGNALS) {
  test(`${signal}: the relay is switched off before the shutdown list runs, and the process exits`, async () => {
    const h = harness();
    try {
      const ready = await h.waitFor((l) => l.ready === true);
      h.child.kill(signal);
      const { code, signal: killedBy } = await h.exited;
      assert.equal(killedBy, null, `${signal} must be handled, not kill the process`);
      const after = h.lines.slice(ready + 1);
      assert.deepEqual(after[0], { relay: false }, `first thing after ${signal}: relay off (${JSON.stringify(after)})`);
      assert.ok(after.some((l) => l.step === 'shutdown' && l.relayDuringShutdown === false), 'the shutdown list ran, relay already off');
      const expected = signal === 'SIGTERM' || signal === 'SIGINT' ? 0 : 128 + constants.signals[signal];
      assert.equal(code, expected, 'SIGTERM/SIGINT exit 0; any other stop signal 128+n, so systemd restarts the door');
    } finally {
      h.child.kill('SIGKILL');
    }
  });
}

test('SIGHUP reloads and never stops the process; SIGUSR1 is a press', async () => {
  const h = harness();
  try {
    const ready = await h.waitFor((l) => l.ready === true);
    h.child.kill('SIGHUP');
    await h.waitFor((l) => l.step === 'reload');
    h.child.kill('SIGUSR1');
    await h.waitFor((l) => l.step === 'press');
    assert.equal(h.child.exitCode, null, 'still running after SIGHUP');
    assert.ok(!h.lines.slice(ready).some((l) => l.relay === false), 'a reload does not touch the relay');
  } finally {
    h.child.kill('SIGKILL');
  }
});

test('facegate run: SIGHUP and `facegate reload` reload the gallery, `facegate status` shows the door, and it keeps running; SIGQUIT during a pulse switches the relay off and exits 131', async () => {
  const port = await freePort();
  const config = doorConfig(port);
  const daemon = new DaemonProcess(config.file);
  let door: Awaited<ReturnType<typeof watchDoor>> | null = null;
  try {
    await daemon.waitFor((l) => /facegate is running/.test(l.msg ?? ''), 'it ran');
    daemon.signal('SIGHUP');
    await daemon.waitFor((l) => l.msg === 'gallery reloaded' && l.origin === 'SIGHUP', 'a reload');
    assert.ok(daemon.alive, 'SIGHUP does not stop the daemon');
    // issue 12 item 7: the operator's way to the same, and to the daemon's state.
    const reloaded = await cli(config.root, ['reload']);
    assert.equal(reloaded.code, 0, reloaded.stderr + reloaded.stdout);
    assert.match(reloaded.stdout, /daemon \(pid \d+\) reloaded/);
    const status = await cli(config.root, ['status']);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /facegate is running/);
    assert.match(status.stdout, /door: +idle, relay off/);
    assert.match(status.stdout, /liveness: off +!!! liveness is OFF: the folder camera/, 'the folder camera cannot check liveness, said loudly');

    door = await watchDoor(port);
    await door.unlock();
    const on = await daemon.waitFor((l) => l.msg === 'relay on (simulated)', 'the relay was energised');
    daemon.signal('SIGQUIT');
    const { code, signal } = await daemon.exited;
    assert.equal(signal, null);
    assert.equal(code, 128 + constants.signals.SIGQUIT, daemon.stderr);
    const off = daemon.lines.findIndex((l, i) => i > on && l.msg === 'relay off (simulated)');
    assert.ok(off > on, 'relay switched off after SIGQUIT');
    assert.ok(!daemon.lines.slice(off + 1).some((l) => l.msg === 'relay on (simulated)'), 'and never on again');
  } finally {
    await door?.close();
    await daemon.kill();
    config.remove();
  }
});
