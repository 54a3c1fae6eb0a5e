import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLivenessChecks, LIVENESS_KEYS, runLiveness, type LivenessCheck, type LivenessProbe } from '../../src/face/liveness/stage.js';

const image = { data: new Uint8Array(3), width: 1, height: 1 };
const probe: LivenessProbe = { face: image, box: { x: 0, y: 0, width: 1, height: 1, score: 1 }, landmarks: null, frame: image };

test('"off" is registered and configures no check at all', async () => {
  assert.ok(LIVENESS_KEYS.includes('off'));
  assert.deepEqual(await createLivenessChecks('off'), []);
  await assert.rejects(createLivenessChecks('off,nope'), /unknown liveness check "nope"/);
});

test('checks run in order, stop at the first failure and keep the scores of those that ran', async () => {
  const ran: string[] = [];
  const check = (name: string, passed: boolean, score: number): LivenessCheck => ({
    name,
    check: async () => {
      ran.push(name);
      return { passed, scores: { s: score }, ...(passed ? {} : { reason: `${name} saw a photo` }) };
    },
  });
  const outcome = await runLiveness([check('a', true, 0.9), check('b', false, 0.1), check('c', true, 1)], probe);
  assert.deepEqual(ran, ['a', 'b']);
  assert.deepEqual(outcome, { passed: false, scores: { 'a.s': 0.9, 'b.s': 0.1 }, reason: 'b saw a photo' });
  assert.deepEqual(await runLiveness([], probe), { passed: true, scores: {} });
});

test('a check that requires a burst fails a single frame instead of passing it (fails secure)', async () => {
  const motion: LivenessCheck = { name: 'motion', burst: 'required', check: async (p) => ({ passed: (p.burst?.length ?? 0) >= 2, scores: {} }) };
  const single = await runLiveness([motion], probe);
  assert.equal(single.passed, false);
  assert.match(single.reason!, /needs a burst/);
  assert.equal((await runLiveness([motion], { ...probe, burst: [image, image] })).passed, true);
});
