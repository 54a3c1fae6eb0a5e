import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DaemonProcess, DEVICE, doorConfig, freePort, watchDoor } from './daemon-process.js';

test('SIGTERM during an unlock pulse: relay off, "offline" published, exit 0', async () => {
  const port = await freePort();
  const config = doorConfig(port);
  const daemon = new DaemonProcess(config.file);
  let door: Awaited<ReturnType<typeof watchDoor>> | null = null;
  try {
    await daemon.waitFor((l) => /facegate is running/.test(l.msg ?? ''), 'it ran');
    door = await watchDoor(port);
    await door.waitFor((m) => m.topic === `facegate/${DEVICE}/availability` && m.payload === 'online');
    await door.unlock();
    const on = await daemon.waitFor((l) => l.msg === 'relay on (simulated)', 'the relay was energised');

    daemon.signal('SIGTERM');
    const { code, signal } = await daemon.exited;
    assert.equal(signal, null);
    assert.equal(code, 0, daemon.stderr);
    const off = daemon.lines.findIndex((l, i) => i > on && l.msg === 'relay off (simulated)');
    assert.ok(off > on, 'relay switched off after the signal');
    assert.ok(!daemon.lines.slice(off + 1).some((l) => l.msg === 'relay on (simulated)'), 'and never on again');
    await door.waitFor((m) => m.topic === `facegate/${DEVICE}/availability` && m.payload === 'offline');
  } finally {
    await door?.close();
    await daemon.kill();
    config.remove();
  }
});
