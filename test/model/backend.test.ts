import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { backendName, initBackend } from '../../src/model/backend.js';
import { tf } from '../../src/model/tf.js';
import { repoRoot } from '../helpers/datasets.js';

const run = promisify(execFile);
const tfjsNodeInstalled = (() => {
  try {
    createRequire(import.meta.url).resolve('@tensorflow/tfjs-node');
    return true;
  } catch {
    return false;
  }
})();

/** initBackend is once per process, so each preference is tried in a fresh Node. */
async function chooseInChild(pref: string): Promise<{ name: string; reason: string; sum: number } | { error: string }> {
  const script = `
    const { initBackend, backendName } = await import(${JSON.stringify(`${repoRoot}/src/model/backend.ts`)});
    const { tf } = await import(${JSON.stringify(`${repoRoot}/src/model/tf.ts`)});
    try {
      const c = await initBackend(${JSON.stringify(pref)});
      const sum = tf.tidy(() => tf.add(tf.scalar(2), tf.scalar(3)).dataSync()[0]);
      console.log(JSON.stringify({ ...c, running: backendName(), sum }));
    } catch (e) { console.log(JSON.stringify({ error: String(e) })); }`;
  const { stdout } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: repoRoot, timeout: 30_000 });
  return JSON.parse(stdout.trim().split('\n').pop()!);
}

test('cpu when asked for explicitly, and it computes', async () => {
  const r = await chooseInChild('cpu');
  assert.ok('name' in r, JSON.stringify(r));
  assert.equal(r.name, 'cpu');
  assert.equal(r.sum, 5);
});

test('tensorflow without tfjs-node fails with a clear error (no silent fallback)', { skip: tfjsNodeInstalled && 'tfjs-node is installed here' }, async () => {
  const r = await chooseInChild('tensorflow');
  assert.ok('error' in r, JSON.stringify(r));
  assert.match(r.error, /BackendError: .*@tensorflow\/tfjs-node is not installed/);
});

test('auto falls back to wasm, says why, reports SIMD/threads, and is idempotent', { skip: tfjsNodeInstalled && 'tfjs-node is installed here' }, async () => {
  const first = await initBackend('auto');
  assert.equal(first.name, 'wasm');
  assert.equal(backendName(), 'wasm');
  assert.match(first.reason, /tfjs-node is not installed/);
  assert.match(first.reason, /simd (on|off), threads (on|off)/);
  // Same engine face-api uses: the wasm backend registered through CommonJS is the one running here.
  assert.equal(tf.tidy(() => tf.mul(tf.scalar(6), tf.scalar(7)).dataSync()[0]), 42);
  const second = await initBackend('cpu');
  assert.deepEqual(second, first);
  assert.equal(backendName(), 'wasm');
});
