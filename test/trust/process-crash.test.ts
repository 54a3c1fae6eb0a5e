import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { EXIT_FATAL } from '../../src/process/lifecycle.js';
import { repoRoot } from '../helpers/datasets.js';
import { DaemonProcess, DEVICE, doorConfig, freePort, watchDoor } from './daemon-process.js';

test('an exception thrown inside an adapter while the relay is energised: relay off, fatal log, non-zero exit', async () => {
  const port = await freePort();
  const config = doorConfig(port);
  const daemon = new DaemonProcess(config.file, [join(repoRoot, 'test/trust/adapter-fault.ts')]);
  let door: Awaited<ReturnType<typeof watchDoor>> | null = null;
  try {
    await daemon.waitFor((l) => /facegate is running/.test(l.msg ?? ''), 'it ran');
    door = await watchDoor(port);
    await door.waitFor((m) => m.topic === `facegate/${DEVICE}/availability` && m.payload === 'online');
    await door.unlock();

    const { code, signal } = await daemon.exited;
    assert.equal(signal, null);
    assert.equal(code, EXIT_FATAL, 'non-zero, so systemd (Restart=on-failure) restarts it');
    const on = daemon.lines.findIndex((l) => l.msg === 'relay on (simulated)');
    const off = daemon.lines.findIndex((l, i) => i > on && l.msg === 'relay off (simulated)');
    const fatal = daemon.lines.findIndex((l) => l.level === 60);
    assert.ok(on >= 0, 'the relay was energised');
    assert.ok(off > on, 'and switched off before the process ended');
    assert.ok(fatal > on, 'a fatal line says why');
    assert.match(String((daemon.lines[fatal]!.err as { message?: string } | undefined)?.message), /simulated adapter fault/);
  } finally {
    await door?.close();
    await daemon.kill();
    config.remove();
  }
});
