import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Door, type DoorOptions } from '../../src/daemon/door.js';
import { FileLockoutStore } from '../../src/daemon/lockout-store.js';
import { GuardedRelay } from '../../src/process/relay-guard.js';
import { cli } from '../helpers/cli.js';
import { FakeCamera, FakeOutput, FakeVerifier, ManualClock, RecordingSink, captureLog, flush, result } from './fakes.js';

const door = { unlockMs: 3000, maxUnlockMs: 10000, cooldownMs: 0, resultMs: 3000, captureTimeoutMs: 1000, verifyTimeoutMs: 5000 };
const security = { maxFailures: 3, windowMs: 60000, lockoutMs: 300000 };

function rig(clock: ManualClock, extra: Partial<DoorOptions> = {}) {
  const raw = new FakeOutput('relay');
  const logs = captureLog();
  const relay = new GuardedRelay(raw, { maxOnMs: door.maxUnlockMs, log: logs.log, clock });
  const verifier = new FakeVerifier();
  const sink = new RecordingSink();
  let n = 0;
  const d = new Door({
    settings: { door, security }, camera: new FakeCamera(), verifier, relay,
    leds: { green: null, red: null, busy: null }, sink, clock, log: logs.log, newId: () => `a${++n}`, ...extra,
  });
  d.start();
  return { d, raw, verifier, sink, logs };
}

test('issue 11 item 3: twelve remote unlocks 2.5 s apart keep the relay on for door.maxUnlockMs in all, not 30 s', async () => {
  const clock = new ManualClock();
  const { d, raw } = rig(clock);
  const start = clock.now();
  let offAt: number | null = null;
  for (let i = 0; i < 12; i++) {
    d.unlock(`signed unlock ${i}`);
    await clock.advance(2500);
    if (offAt === null && !raw.isOn()) offAt = clock.now();
  }
  await clock.advance(5000);
  assert.equal(raw.isOn(), false);
  assert.ok(offAt !== null && offAt - start <= door.maxUnlockMs, `relay stayed on ${offAt === null ? 'throughout' : offAt - start} ms`);
});

test('issue 11 item 9: a lockout survives a restart (the state file), and clearLockout lifts it for good', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'facegate-lockout-'));
  try {
    const store = new FileLockoutStore(join(dir, 'lockout.json'));
    const clock = new ManualClock();
    const first = rig(clock, { lockoutStore: store });
    first.verifier.verifyImpl = async () => result('denied');
    for (let i = 0; i < 3; i++) await first.d.trigger('button');
    assert.equal(first.d.mode(), 'locked_out');
    await first.d.stop();

    // A crash or a power cut: a new daemon on the same state dir is still locked out.
    const second = rig(clock, { lockoutStore: store });
    assert.equal(second.d.mode(), 'locked_out');
    assert.equal((await second.d.trigger('button')).accepted, false);
    assert.ok(second.logs.lines().some((l) => String(l.msg).includes('still locked out from before the restart')));

    // Two denials before a restart still count towards the next lockout after it.
    assert.equal(second.d.clearLockout('test'), true);
    second.verifier.verifyImpl = async () => result('denied');
    for (let i = 0; i < 2; i++) await second.d.trigger('button');
    const third = rig(clock, { lockoutStore: store });
    third.verifier.verifyImpl = async () => result('denied');
    await third.d.trigger('button');
    assert.equal(third.d.mode(), 'locked_out', 'a restart does not restore the attacker budget');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('issue 11 item 9: `facegate lockout clear` clears the persisted lockout (no daemon running)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'facegate-lockout-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const store = new FileLockoutStore(join(dir, 'state', 'lockout.json'));
  store.save({ until: Date.now() + 300_000, denials: [] });
  const cleared = await cli(dir, ['lockout', 'clear']);
  assert.equal(cleared.code, 0, cleared.stderr);
  assert.match(cleared.stdout, /lockout cleared \(it ran until/);
  assert.deepEqual(JSON.parse(readFileSync(join(dir, 'state', 'lockout.json'), 'utf8')), { until: null, denials: [] });
  assert.equal((await cli(dir, ['lockout'])).code, 64);
});

test('issue 11 item 8: with audit.required, a granted attempt that cannot be recorded does not open the door', async () => {
  const clock = new ManualClock();
  let recordOk = false;
  const recorded: string[] = [];
  const { d, raw, verifier } = rig(clock, { recordFirst: async (event) => { recorded.push(event.decision); return recordOk; } });
  verifier.verifyImpl = async () => result('granted', 'alice');
  const outcome = await d.trigger('button');
  assert.ok(outcome.accepted);
  assert.equal(outcome.event.decision, 'error');
  assert.match(outcome.event.reason ?? '', /could not be recorded/);
  assert.ok(!raw.writes.includes(true), 'the relay was never energised');
  assert.equal(d.mode(), 'idle', 'an error does not count towards lockout');

  recordOk = true;
  verifier.verifyImpl = async () => result('granted', 'alice');
  const second = await d.trigger('button');
  assert.ok(second.accepted && second.event.decision === 'granted');
  assert.equal(raw.isOn(), true, 'recorded first, then opened');
  assert.deepEqual(recorded, ['granted', 'granted']);
  await flush();
});
