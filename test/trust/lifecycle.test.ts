import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { Lifecycle, STOP_SIGNALS, type ProcessHooks } from '../../src/process/lifecycle.js';
import { SimulatedOutput } from '../../src/gpio/simulated.js';
import { memoryLogger } from '../audit/helpers.js';

// issue 10 item 6: one owner of the process lifecycle, one shutdown list, one hard-exit timer.

function fakeProcess(): ProcessHooks & EventEmitter & { exits: number[] } {
  const emitter = new EventEmitter() as EventEmitter & { exits: number[]; exit(code: number): void };
  emitter.exits = [];
  emitter.exit = (code: number) => void emitter.exits.push(code);
  return emitter as ProcessHooks & EventEmitter & { exits: number[] };
}

test('install() listens to every stop signal, SIGHUP, SIGUSR1, crashes and exit; uninstall() removes them all', () => {
  const proc = fakeProcess();
  const life = new Lifecycle({ log: memoryLogger().log, proc }).install();
  for (const event of [...STOP_SIGNALS, 'SIGHUP', 'SIGUSR1', 'uncaughtException', 'unhandledRejection', 'exit']) {
    assert.equal(proc.listenerCount(event), 1, event);
  }
  life.uninstall();
  assert.deepEqual(proc.eventNames(), []);
});

test('the shutdown list runs last-registered first; a failing step forces the relay off and makes the exit code 1', async () => {
  const { log } = memoryLogger();
  const relay = new SimulatedOutput('relay', log);
  const proc = fakeProcess();
  const life = new Lifecycle({ relay, log, proc, hardExitMs: 60_000 }).install();
  const order: string[] = [];
  life.onShutdown('daemon', async () => { order.push('daemon'); });
  life.onShutdown('systemd', async () => { order.push('systemd'); relay.set(true); throw new Error('notify failed'); });
  life.requestStop('key q');
  assert.equal(await life.stopRequested, 'key q');
  const code = await life.shutdown();
  assert.deepEqual(order, ['systemd', 'daemon']);
  assert.equal(relay.isOn(), false);
  assert.equal(code, 1);
  life.uninstall();
});

test('SIGUSR1 is a press only once a press handler is registered and never while stopping; SIGHUP never exits', async () => {
  const { log, lines } = memoryLogger();
  const proc = fakeProcess();
  const life = new Lifecycle({ log, proc, hardExitMs: 60_000 }).install();
  proc.emit('SIGUSR1');
  assert.ok(lines.some((l) => String(l.msg).startsWith('SIGUSR1 ignored')));
  let presses = 0;
  const stop = life.onPress(() => presses++);
  proc.emit('SIGUSR1');
  assert.equal(presses, 1);
  proc.emit('SIGHUP');
  assert.ok(lines.some((l) => String(l.msg).includes('nothing to reload yet')));
  let reloads = 0;
  life.onReload(() => { reloads++; });
  proc.emit('SIGHUP');
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(reloads, 1);
  assert.deepEqual(proc.exits, []);
  life.onShutdown('daemon', () => undefined);
  proc.emit('SIGUSR2');
  proc.emit('SIGUSR1');
  assert.equal(presses, 1, 'no press once stopping');
  stop();
  life.uninstall();
});
