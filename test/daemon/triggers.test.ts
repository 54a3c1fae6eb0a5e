import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { onSignalPress, startKeyboard, type KeyInput } from '../../src/daemon/triggers.js';
import { captureLog } from './fakes.js';

class FakeTerminal extends EventEmitter implements KeyInput {
  rawModes: boolean[] = [];
  paused = true;
  constructor(readonly isTTY: boolean) {
    super();
  }
  setRawMode(mode: boolean) {
    this.rawModes.push(mode);
  }
  setEncoding() {}
  resume() {
    this.paused = false;
  }
  pause() {
    this.paused = true;
  }
}

test('key v presses, q and Ctrl-C quit, other keys do nothing; stop restores the terminal', () => {
  const terminal = new FakeTerminal(true);
  const seen: string[] = [];
  const stop = startKeyboard(terminal, { verify: () => seen.push('verify'), quit: () => seen.push('quit') }, captureLog().log);
  assert.ok(stop);
  assert.deepEqual(terminal.rawModes, [true]);
  terminal.emit('data', 'xvV');
  terminal.emit('data', Buffer.from('q'));
  terminal.emit('data', '\u0003');
  assert.deepEqual(seen, ['verify', 'verify', 'quit', 'quit']);
  stop();
  stop();
  terminal.emit('data', 'v');
  assert.equal(seen.length, 4);
  assert.deepEqual(terminal.rawModes, [true, false]);
  assert.equal(terminal.paused, true);
  assert.equal(terminal.listenerCount('data'), 0);
});

test('without a terminal (systemd, pipes) the keyboard is not started and stdin is left alone', () => {
  const pipe = new FakeTerminal(false);
  const stop = startKeyboard(pipe, { verify: () => assert.fail(), quit: () => assert.fail() }, captureLog().log);
  assert.equal(stop, null);
  assert.deepEqual(pipe.rawModes, []);
  assert.equal(pipe.listenerCount('data'), 0);
});

test('each SIGUSR1 is one press, until stopped', () => {
  const source = new EventEmitter();
  let presses = 0;
  const stop = onSignalPress('SIGUSR1', () => presses++, source as unknown as NodeJS.Process);
  source.emit('SIGUSR1');
  source.emit('SIGUSR1');
  stop();
  source.emit('SIGUSR1');
  assert.equal(presses, 2);
});
