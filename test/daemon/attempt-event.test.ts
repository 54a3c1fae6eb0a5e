import { test } from 'node:test';
import assert from 'node:assert/strict';
import { eventFromResult } from '../../src/daemon/attempt-event.js';
import { decide } from '../../src/face/match.js';
import { loadSchemas } from '../../src/mqtt/commands.js';
import type { VerifyResult } from '../../src/core/types.js';

const thresholds = { detection: 0.5, verification: 0.5 };
const facts = { id: 'a-1', startedAt: 1_764_403_200_000, endedAt: 1_764_403_200_150, trigger: 'button' as const, commandId: undefined, captureMs: 4 };

function result(perIdentity: VerifyResult['perIdentity']): VerifyResult {
  return {
    ...decide(perIdentity, thresholds), perIdentity, thresholds, backend: 'wasm',
    face: { x: 1, y: 2, width: 50, height: 50, score: 0.9 },
    timings: { decode: 1, detect: 2, align: 0.5, liveness: 0, embed: 3, compare: 1, total: 7.5 },
  };
}

test('a denied attempt event names nobody; the closest candidate is a separate diagnostic (issue 11 item 7)', () => {
  const stranger = eventFromResult(facts, result([{ identity: 'bob', fraction: 0.2, meanScore: 0.4, detections: 1, images: 5 }]));
  assert.equal(stranger.decision, 'denied');
  assert.equal(stranger.identity, null, 'a stranger is never recorded as bob');
  assert.deepEqual(stranger.closest, { identity: 'bob', fraction: 0.2, meanScore: 0.4 });
  assert.doesNotMatch(stranger.reason ?? '', /bob/);

  const resident = eventFromResult(facts, result([{ identity: 'alice', fraction: 0.8, meanScore: 0.9, detections: 4, images: 5 }]));
  assert.equal(resident.identity, 'alice');
  assert.equal(resident.closest?.identity, 'alice');
});

test('attempt events with closest and the new stage timings match the MQTT attempt schema', () => {
  const validate = loadSchemas().get('attempt')!;
  for (const event of [
    eventFromResult(facts, result([{ identity: 'bob', fraction: 0.2, meanScore: 0.4, detections: 1, images: 5 }])),
    eventFromResult(facts, { ...result([]), liveness: { mode: 'burst', passed: true, scores: { parallax: 0.1 } } }),
    eventFromResult(facts, { ...result([]), decision: 'spoof', identity: null, reason: 'liveness (burst): near-identical frames', liveness: { mode: 'burst', passed: false, scores: { change: 0.4, score: 0.27 }, reason: 'near-identical frames' } }),
    eventFromResult(facts, { ...result([]), liveness: 'not_checked' }),
  ]) {
    const payload = JSON.parse(JSON.stringify(event)) as unknown;
    assert.ok(validate(payload), JSON.stringify(validate.errors));
  }
});
