import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { test } from 'node:test';
import { captureKeys } from '../../src/collect/keys.js';

/** Just enough of a TTY stdin for listenForKeys. */
class FakeTerminal extends EventEmitter {
  readonly isTTY = true;
  rawModes: boolean[] = [];
  setRawMode(mode: boolean) {
    this.rawModes.push(mode);
    return this;
  }
  setEncoding() {
    return this;
  }
  resume() {
    return this;
  }
  pause() {
    return this;
  }
}

test('captureKeys: one capture at a time, unknown keys ignored, quit waits for the capture in flight', async () => {
  const terminal = new FakeTerminal();
  const started: string[] = [];
  let finishCapture = () => {};
  let busy = 0;
  const action = (name: string) => () => {
    started.push(name);
    return new Promise<void>((resolve) => {
      finishCapture = resolve;
    });
  };
  const done = captureKeys(terminal as unknown as NodeJS.ReadStream, { a: action('a'), p: action('p') }, () => busy++);
  let quit = false;
  void done.then(() => (quit = true));
  terminal.emit('data', 'A'); // upper case counts as the key
  terminal.emit('data', 'p'); // while a is being written
  terminal.emit('data', 'x');
  assert.deepEqual(started, ['a']);
  assert.equal(busy, 1);
  terminal.emit('data', '\u0003'); // Ctrl-C
  await new Promise((r) => setImmediate(r));
  assert.equal(quit, false, 'quit waits for the capture still being written');
  finishCapture();
  await done;
  assert.deepEqual(terminal.rawModes, [true, false], 'the terminal is restored');
});

test('captureKeys: after a capture finishes the next key starts another', async () => {
  const terminal = new FakeTerminal();
  const started: string[] = [];
  const done = captureKeys(terminal as unknown as NodeJS.ReadStream, { s: async () => void started.push('s') }, () => assert.fail('not busy'));
  terminal.emit('data', 's');
  await new Promise((r) => setImmediate(r));
  terminal.emit('data', 's');
  await new Promise((r) => setImmediate(r));
  terminal.emit('data', 'q');
  await done;
  assert.deepEqual(started, ['s', 's']);
});
