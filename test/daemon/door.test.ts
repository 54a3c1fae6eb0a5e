import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Door, type DoorOptions } from '../../src/daemon/door.js';
import type { Frame } from '../../src/camera/camera.js';
import { FakeCamera, FakeOutput, FakeVerifier, ManualClock, RecordingSink, captureLog, flush, result } from './fakes.js';

const door = { unlockMs: 3000, maxUnlockMs: 10000, cooldownMs: 2000, resultMs: 3000, captureTimeoutMs: 1000, verifyTimeoutMs: 5000 };
const security = { maxFailures: 3, windowMs: 60000, lockoutMs: 300000 };

function rig(overrides: { door?: Partial<typeof door>; security?: Partial<typeof security> } = {}) {
  const clock = new ManualClock();
  const camera = new FakeCamera();
  const verifier = new FakeVerifier();
  const relay = new FakeOutput('relay', clock);
  const leds = { green: new FakeOutput('green'), red: new FakeOutput('red'), busy: new FakeOutput('busy') };
  const sink = new RecordingSink();
  const logs = captureLog();
  let n = 0;
  const options: DoorOptions = {
    settings: { door: { ...door, ...overrides.door }, security: { ...security, ...overrides.security } },
    camera, verifier, relay, leds, sink, clock, log: logs.log, newId: () => `a${++n}`,
  };
  const d = new Door(options);
  d.start();
  return { d, clock, camera, verifier, relay, leds, sink, logs };
}

/** A promise the test settles by hand. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** Never settles unless aborted, like a stuck camera that at least honours its signal. */
const hangUntilAborted = <T>(signal?: AbortSignal) =>
  new Promise<T>((_, reject) => signal?.addEventListener('abort', () => reject(new Error('aborted')), { once: true }));

test('a granted attempt pulses the relay for unlockMs, lights green and walks idle -> busy -> cooldown -> idle', async () => {
  const { d, clock, relay, leds, sink } = rig();
  assert.equal(relay.isOn(), false);
  const outcome = await d.trigger('button');
  assert.ok(outcome.accepted);
  assert.equal(outcome.event.decision, 'granted');
  assert.equal(outcome.event.identity, 'alice');
  assert.equal(outcome.event.trigger, 'button');
  assert.equal(relay.isOn(), true);
  assert.equal(leds.green.lastPattern(), 'on');
  assert.ok(leds.busy.patterns.includes('on') && leds.busy.lastPattern() === 'off');
  assert.equal(d.getPhase(), 'cooldown');
  await clock.advance(2999);
  assert.equal(relay.isOn(), true);
  await clock.advance(1);
  assert.equal(relay.isOn(), false);
  assert.equal(d.getPhase(), 'idle');
  await clock.advance(5000);
  assert.equal(leds.green.lastPattern(), 'off');
  const modes = sink.modes().filter((m, i, all) => i === 0 || m !== all[i - 1]);
  assert.deepEqual(modes, ['idle', 'busy', 'cooldown', 'idle']);
  assert.equal(sink.attempts.length, 1);
  assert.equal(sink.statuses.at(-1)?.attemptsToday, 1);
  assert.equal(sink.statuses.at(-1)?.lastAttempt?.decision, 'granted');
});

test('the off timer is armed before the relay is energised', async () => {
  const { d, relay } = rig();
  await d.trigger('button');
  assert.equal(relay.armedWhenOn.length, 1);
  assert.ok(relay.armedWhenOn[0]!.includes(3000), `armed: ${relay.armedWhenOn[0]}`);
});

test('a camera that gives no frame in time ends the attempt as error, aborting the grab', async () => {
  const { d, clock, camera, verifier, relay, leds } = rig();
  camera.grabImpl = hangUntilAborted<Frame>;
  const pending = d.trigger('signal');
  await flush();
  assert.equal(d.getPhase(), 'capturing');
  await clock.advance(1000);
  const outcome = await pending;
  assert.ok(outcome.accepted);
  assert.equal(outcome.event.decision, 'error');
  assert.match(outcome.event.reason ?? '', /capture timed out after 1000 ms/);
  assert.equal(camera.lastSignal?.aborted, true);
  assert.equal(verifier.calls, 0);
  assert.equal(leds.red.lastPattern(), 'blink-fast');
  assert.ok(!relay.writes.includes(true));
});

test('a verifier that ignores its signal still cannot hold the door past verifyTimeoutMs', async () => {
  const { d, clock, verifier, relay } = rig();
  verifier.verifyImpl = () => new Promise(() => undefined);
  const pending = d.trigger('mqtt', 'cmd-1');
  await flush();
  assert.equal(d.getPhase(), 'verifying');
  await clock.advance(4999);
  assert.equal(d.getPhase(), 'verifying');
  await clock.advance(1);
  const outcome = await pending;
  assert.ok(outcome.accepted);
  assert.equal(outcome.event.decision, 'error');
  assert.equal(outcome.event.commandId, 'cmd-1');
  assert.match(outcome.event.reason ?? '', /verify timed out/);
  assert.equal(verifier.lastSignal?.aborted, true);
  assert.ok(!relay.writes.includes(true));
});

test('a storm of 10,000 presses during an attempt makes exactly one attempt', async () => {
  const { d, clock, verifier, camera, sink } = rig();
  const gate = deferred<ReturnType<typeof result>>();
  verifier.verifyImpl = () => gate.promise;
  const first = d.trigger('button');
  await flush();
  const refusals = [];
  for (let i = 0; i < 10_000; i++) refusals.push(d.trigger('button'));
  const outcomes = await Promise.all(refusals);
  assert.ok(outcomes.every((o) => !o.accepted && o.reason === 'busy'));
  gate.resolve(result('denied', 'bob'));
  assert.equal((await first).accepted, true);
  const duringCooldown = await d.trigger('button');
  assert.deepEqual(duringCooldown, { accepted: false, reason: 'cooldown', lockedOutUntil: null });
  assert.equal(camera.grabs, 1);
  assert.equal(verifier.calls, 1);
  assert.equal(sink.attempts.length, 1);
  assert.equal(d.ignoredPresses, 10_001);
  await clock.advance(2000);
  assert.equal((await d.trigger('button')).accepted, true);
});

test('too many denials lock the door out; the lockout expires by itself', async () => {
  const { d, clock, verifier, sink } = rig();
  verifier.verifyImpl = async () => result('denied', 'mallory');
  for (let i = 0; i < 3; i++) {
    const outcome = await d.trigger('button');
    assert.ok(outcome.accepted);
    await clock.advance(2000);
  }
  assert.equal(d.mode(), 'locked_out');
  const refused = await d.trigger('button');
  assert.equal(refused.accepted, false);
  assert.ok(!refused.accepted && refused.reason === 'locked_out' && refused.lockedOutUntil !== null);
  assert.equal(sink.statuses.at(-1)?.mode, 'locked_out');
  assert.ok(sink.statuses.at(-1)?.lockedOutUntil);
  assert.equal(verifier.calls, 3);
  await clock.advance(300000 - 2000 - 1);
  assert.equal((await d.trigger('button')).accepted, false);
  await clock.advance(1);
  assert.equal(d.mode(), 'idle');
  assert.equal(sink.statuses.at(-1)?.mode, 'idle', 'a status is published when the lockout ends');
  verifier.verifyImpl = async () => result('granted', 'alice');
  assert.equal((await d.trigger('button')).accepted, true);
});

test('a granted attempt clears the denials counted so far; no_face does not count', async () => {
  const { d, clock, verifier } = rig();
  const decide = async (decision: 'granted' | 'denied' | 'no_face') => {
    verifier.verifyImpl = async () => result(decision);
    assert.ok((await d.trigger('button')).accepted);
    await clock.advance(2000);
  };
  await decide('denied');
  await decide('denied');
  await decide('granted');
  await decide('denied');
  await decide('no_face');
  await decide('no_face');
  await decide('denied');
  assert.equal(d.mode(), 'idle');
  await decide('denied');
  assert.equal(d.mode(), 'locked_out');
});

test('an error de-energises a relay still on from the previous grant', async () => {
  const { d, clock, verifier, relay } = rig({ door: { cooldownMs: 500, unlockMs: 3000 } });
  await d.trigger('button');
  assert.equal(relay.isOn(), true);
  await clock.advance(500);
  verifier.verifyImpl = async () => {
    throw new Error('model exploded');
  };
  const outcome = await d.trigger('button');
  assert.ok(outcome.accepted && outcome.event.decision === 'error');
  assert.match(outcome.event.reason ?? '', /verify failed: model exploded/);
  assert.equal(relay.isOn(), false);
  await clock.advance(10000);
  assert.equal(relay.writes.filter(Boolean).length, 1, 'the relay was energised once, by the grant only');
});

test('every pulse is capped by maxUnlockMs, remote unlock included', async () => {
  const { d, clock, relay } = rig({ door: { unlockMs: 20000, maxUnlockMs: 5000 } });
  await d.trigger('button');
  await clock.advance(4999);
  assert.equal(relay.isOn(), true);
  await clock.advance(1);
  assert.equal(relay.isOn(), false);
  assert.equal(d.unlock('mqtt-cmd-7').ms, 5000);
  assert.equal(relay.isOn(), true);
  await clock.advance(5000);
  assert.equal(relay.isOn(), false);
});

test('stop aborts the running attempt, leaves the relay off and refuses later presses', async () => {
  const { d, verifier, relay, sink } = rig();
  d.unlock('test');
  verifier.verifyImpl = hangUntilAborted;
  const pending = d.trigger('keyboard');
  await flush();
  await d.stop();
  const outcome = await pending;
  assert.ok(outcome.accepted && outcome.event.decision === 'error');
  assert.match(outcome.event.reason ?? '', /stopped/);
  assert.equal(relay.isOn(), false);
  // The remote unlock is an attempt of its own (trigger remote); the aborted one is the other.
  assert.deepEqual(sink.attempts.map((a) => a.trigger), ['remote', 'keyboard']);
  assert.deepEqual(await d.trigger('button'), { accepted: false, reason: 'stopped', lockedOutUntil: null });
  assert.throws(() => d.unlock('late'), /stopped/);
});

test('a failing sink is logged and does not disturb the door', async () => {
  const { d, sink, logs } = rig();
  sink.attempt = async () => {
    throw new Error('broker on fire');
  };
  const outcome = await d.trigger('button');
  assert.ok(outcome.accepted && outcome.event.decision === 'granted');
  await flush();
  assert.ok(logs.lines().some((l) => l.msg === 'event sink failed'));
});

test('every attempt logs under a child logger carrying its id', async () => {
  const { d, logs } = rig();
  const outcome = await d.trigger('button');
  assert.ok(outcome.accepted);
  const mine = logs.lines().filter((l) => l.attempt === outcome.event.id);
  assert.ok(mine.some((l) => l.msg === 'attempt started'));
  assert.ok(mine.some((l) => l.msg === 'attempt granted' && l.decision === 'granted'));
});

test('a later denied or faceless attempt never cuts short the pulse a grant started', async () => {
  const { d, clock, verifier, relay } = rig({ door: { cooldownMs: 500, unlockMs: 3000 } });
  await d.trigger('button');
  await clock.advance(500);
  for (const decision of ['denied', 'no_face'] as const) {
    verifier.verifyImpl = async () => result(decision);
    const outcome = await d.trigger('mqtt', `cmd-${decision}`);
    assert.ok(outcome.accepted && outcome.event.decision === decision);
    assert.equal(relay.isOn(), true, `a ${decision} after the grant leaves the pulse running`);
    await clock.advance(500);
  }
  await clock.advance(1499);
  assert.equal(relay.isOn(), true);
  await clock.advance(1);
  assert.equal(relay.isOn(), false, 'the pulse ends when its own timer says so: 3000 ms after the grant');
});

test('a remote unlock is an attempt: trigger remote, the command id, no face; a failed pulse says error', async () => {
  const { d, relay, sink } = rig();
  const { ms, event } = d.unlock('unlock-cmd-0001');
  assert.equal(ms, 3000);
  assert.equal(relay.isOn(), true);
  assert.deepEqual(sink.attempts.at(-1), event);
  assert.equal(event.trigger, 'remote');
  assert.equal(event.commandId, 'unlock-cmd-0001');
  assert.equal(event.decision, 'granted');
  assert.equal(event.identity, null);
  assert.equal(event.face, null);
  assert.equal(sink.statuses.at(-1)?.lastAttempt?.id, event.id);
  assert.equal(sink.statuses.at(-1)?.attemptsToday, 1);
  relay.set = () => {
    throw new Error('relay board unplugged');
  };
  const failed = d.unlock('unlock-cmd-0002');
  assert.equal(failed.ms, 0);
  assert.equal(failed.event.decision, 'error');
  assert.match(failed.event.reason ?? '', /pulse failed/);
  assert.equal(sink.attempts.length, 2);
});

test('denials from unauthenticated remote requests lock out only those requests, never the button', async () => {
  const { d, clock, verifier } = rig({ door: { cooldownMs: 0 } });
  verifier.verifyImpl = async () => result('denied');
  for (let i = 0; i < 3; i += 1) assert.ok((await d.trigger('mqtt', `anon-${i}`, { unauthenticated: true })).accepted);
  const refused = await d.trigger('mqtt', 'anon-3', { unauthenticated: true });
  assert.equal(refused.accepted, false);
  assert.ok(!refused.accepted && refused.reason === 'locked_out');
  assert.equal(d.mode(), 'idle', 'the household is not locked out');
  verifier.verifyImpl = async () => result('granted', 'alice');
  const resident = await d.trigger('button');
  assert.ok(resident.accepted && resident.event.decision === 'granted');
  await clock.advance(10);
  // The resident's grant clears the remote count too.
  assert.ok((await d.trigger('mqtt', 'anon-4', { unauthenticated: true })).accepted);
});

test('clearLockout lifts the unauthenticated requests\' lockout too', async () => {
  const { d, verifier } = rig({ door: { cooldownMs: 0 } });
  verifier.verifyImpl = async () => result('denied');
  for (let i = 0; i < 3; i += 1) await d.trigger('mqtt', `anon-${i}`, { unauthenticated: true });
  assert.equal((await d.trigger('mqtt', 'anon-3', { unauthenticated: true })).accepted, false);
  d.clearLockout('test operator');
  assert.ok((await d.trigger('mqtt', 'anon-4', { unauthenticated: true })).accepted);
});
