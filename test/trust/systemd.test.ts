import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { SystemdNotifier, superviseDaemon } from '../../src/process/systemd.js';
import { SimulatedOutput } from '../../src/gpio/simulated.js';
import { memoryLogger } from '../audit/helpers.js';
import { fakeSystemdNotify } from './fake-notify.js';

test('READY, WATCHDOG and STOPPING reach systemd-notify with the socket systemd gave us', async () => {
  const fake = fakeSystemdNotify();
  try {
    const notifier = new SystemdNotifier({ mode: 'auto', log: memoryLogger().log, env: fake.env(), pid: 4242 });
    assert.equal(notifier.enabled, true);
    assert.equal(await notifier.notifyReady('camera, model and MQTT up'), true);
    assert.equal(await notifier.notifyWatchdog(), true);
    assert.equal(await notifier.notifyStopping(), true);
    assert.deepEqual(fake.calls(), [
      '/run/fake/notify|--ready --pid=4242 --status=camera, model and MQTT up',
      '/run/fake/notify|WATCHDOG=1',
      '/run/fake/notify|STOPPING=1 STATUS=stopping',
    ]);
  } finally {
    fake.remove();
  }
});

test('"auto" stays silent without NOTIFY_SOCKET; "never" stays silent with it', async () => {
  const fake = fakeSystemdNotify();
  try {
    const noSocket = fake.env();
    delete noSocket.NOTIFY_SOCKET;
    const auto = new SystemdNotifier({ mode: 'auto', log: memoryLogger().log, env: noSocket });
    const never = new SystemdNotifier({ mode: 'never', log: memoryLogger().log, env: fake.env({ WATCHDOG_USEC: '20000000' }) });
    assert.equal(auto.enabled, false);
    assert.equal(never.enabled, false);
    assert.equal(await auto.notifyReady(), false);
    assert.equal(await never.notifyWatchdog(), false);
    assert.equal(never.watchdogIntervalMs(), null);
    assert.deepEqual(fake.calls(), []);
  } finally {
    fake.remove();
  }
});

test('"always" notifies even without NOTIFY_SOCKET, with a warning', async () => {
  const fake = fakeSystemdNotify();
  const { log, lines } = memoryLogger();
  try {
    const env = fake.env();
    delete env.NOTIFY_SOCKET;
    const notifier = new SystemdNotifier({ mode: 'always', log, env, pid: 7 });
    await notifier.notifyReady();
    assert.deepEqual(fake.calls(), ['|--ready --pid=7 --status=ready']);
    assert.ok(lines.some((l) => l.level === 40 && String(l.msg).includes('NOTIFY_SOCKET is not set')));
  } finally {
    fake.remove();
  }
});

test('the watchdog interval is half of WATCHDOG_USEC, and only for the process systemd named', () => {
  const fake = fakeSystemdNotify();
  try {
    const log = memoryLogger().log;
    assert.equal(new SystemdNotifier({ mode: 'auto', log, env: fake.env({ WATCHDOG_USEC: '20000000' }), pid: 5 }).watchdogIntervalMs(), 10_000);
    assert.equal(new SystemdNotifier({ mode: 'auto', log, env: fake.env({ WATCHDOG_USEC: '20000000', WATCHDOG_PID: '5' }), pid: 5 }).watchdogIntervalMs(), 10_000);
    assert.equal(new SystemdNotifier({ mode: 'auto', log, env: fake.env({ WATCHDOG_USEC: '20000000', WATCHDOG_PID: '6' }), pid: 5 }).watchdogIntervalMs(), null);
    assert.equal(new SystemdNotifier({ mode: 'auto', log, env: fake.env(), pid: 5 }).watchdogIntervalMs(), null);
  } finally {
    fake.remove();
  }
});

test('a failing or missing systemd-notify is logged, never thrown', async () => {
  const failing = fakeSystemdNotify(1);
  const { log, lines } = memoryLogger();
  try {
    const notifier = new SystemdNotifier({ mode: 'auto', log, env: failing.env() });
    assert.equal(await notifier.notifyWatchdog(), false);
    assert.ok(lines.some((l) => String(l.msg).includes('systemd-notify: exited 1')));
    const missing = new SystemdNotifier({ mode: 'auto', log, env: failing.env(), command: 'facegate-no-such-notify' });
    assert.equal(await missing.notifyReady(), false);
    assert.equal(await missing.notifyReady(), false);
    assert.equal(lines.filter((l) => String(l.msg).includes('not found on PATH')).length, 1, 'warned once');
  } finally {
    failing.remove();
  }
});

test('superviseDaemon: READY once, WATCHDOG while healthy, relay off and no ping while not, STOPPING at the end', async () => {
  const fake = fakeSystemdNotify();
  const { log } = memoryLogger();
  const relay = new SimulatedOutput('relay', log);
  let healthy = true;
  const supervision = await superviseDaemon({ systemd: { notify: 'auto' } }, log, { relay, healthy: () => healthy },
    fake.env({ WATCHDOG_USEC: '100000' }));
  try {
    assert.equal(supervision.watchdog !== null, true);
    assert.match(fake.calls()[0]!, /--ready --pid=\d+ --status=door ready$/);
    while (!fake.calls().includes('/run/fake/notify|WATCHDOG=1')) await sleep(10);

    healthy = false;
    relay.set(true);
    while (relay.isOn()) await sleep(10);
    const pingsWhenSick = supervision.watchdog!.pings;
    const missedBefore = supervision.watchdog!.missed;
    while (supervision.watchdog!.missed < missedBefore + 2) await sleep(10);
    assert.equal(supervision.watchdog!.pings, pingsWhenSick, 'no WATCHDOG=1 while unhealthy');

    await supervision.stopping();
    assert.equal(fake.calls().at(-1), '/run/fake/notify|STOPPING=1 STATUS=stopping');
  } finally {
    supervision.watchdog?.stop();
    supervision.lifecycle.uninstall();
    fake.remove();
  }
});

test('READY waits until the daemon is healthy (first camera frames), and goes out degraded after the wait', async () => {
  const fake = fakeSystemdNotify();
  const { log, lines } = memoryLogger();
  const relay = new SimulatedOutput('relay', log);
  try {
    let healthy = false;
    const pending = superviseDaemon({ systemd: { notify: 'auto' } }, log, { relay, healthy: () => healthy }, fake.env(), 10_000);
    await sleep(300);
    assert.deepEqual(fake.calls(), [], 'no READY while the camera has no frame yet');
    healthy = true;
    const ready = await pending;
    ready.lifecycle.uninstall();
    assert.match(fake.calls()[0]!, /--ready .*--status=door ready$/);

    const degraded = await superviseDaemon({ systemd: { notify: 'auto' } }, log, { relay, healthy: () => false }, fake.env(), 200);
    degraded.lifecycle.uninstall();
    assert.match(fake.calls()[1]!, /--ready .*--status=door started, camera or model not healthy yet$/);
    assert.ok(lines.some((l) => String(l.msg).startsWith('not healthy yet')));
  } finally {
    fake.remove();
  }
});
