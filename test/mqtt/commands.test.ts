import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync, appendFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CommandGate, loadSchemas, signUnlock, unlockMessage, type CommandVerdict } from '../../src/mqtt/commands.js';
import { ReplayCache } from '../../src/mqtt/replay-cache.js';
import { quietLog } from '../helpers/broker.js';
import { repoRoot } from '../helpers/datasets.js';

const SECRET = 'sixteen+ characters secret';
const MAX_AGE = 30_000;

function setup(options: { unlock?: boolean; capacity?: number } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'facegate-gate-'));
  const file = join(dir, 'mqtt', 'replay-cache.jsonl');
  let clock = 1_800_000_000_000;
  const makeGate = () =>
    new CommandGate({
      deviceId: 'front-door',
      maxAgeMs: MAX_AGE,
      unlockEnabled: options.unlock ?? true,
      secret: options.unlock === false ? null : SECRET,
      replay: new ReplayCache(file, options.capacity ?? 100, MAX_AGE, quietLog()),
      now: () => clock,
    });
  return {
    gate: makeGate(),
    reopen: makeGate,
    file,
    now: () => clock,
    advance: (ms: number) => (clock += ms),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

const body = (value: unknown) => Buffer.from(JSON.stringify(value));
const reasonOf = (v: CommandVerdict) => (v.ok ? 'accepted' : v.reason.split(':')[0]);

test('the unlock signature covers exactly "unlock.<deviceId>.<id>.<ts>"', () => {
  assert.equal(unlockMessage('front-door', 'abc12345', 1700000000000), 'unlock.front-door.abc12345.1700000000000');
  const expected = createHmac('sha256', SECRET).update('unlock.front-door.abc12345.1700000000000').digest('hex');
  assert.equal(signUnlock(SECRET, 'front-door', 'abc12345', 1700000000000), expected);
});

test('a fresh, well-formed command is accepted once; its id is refused afterwards, also after a restart', () => {
  const s = setup();
  try {
    const verdict = s.gate.check('verify', body({ id: 'cmd-00001', ts: s.now() }), false);
    assert.deepEqual(verdict, { ok: true, name: 'verify', id: 'cmd-00001', ts: s.now(), authenticated: false });
    assert.equal(reasonOf(s.gate.check('verify', body({ id: 'cmd-00001', ts: s.now() }), false)), 'replayed');
    // A replayed id is refused whatever the command name.
    assert.equal(reasonOf(s.gate.check('reload', body({ id: 'cmd-00001', ts: s.now() }), false)), 'replayed');
    const restarted = s.reopen();
    assert.equal(reasonOf(restarted.check('verify', body({ id: 'cmd-00001', ts: s.now() }), false)), 'replayed');
  } finally {
    s.cleanup();
  }
});

test('stale, future, retained, unknown, malformed and oversized commands are refused with a reason and the id echoed', () => {
  const s = setup();
  try {
    const at = (ts: number) => body({ id: 'cmd-00002', ts });
    const stale = s.gate.check('verify', at(s.now() - MAX_AGE - 1), false);
    assert.equal(reasonOf(stale), 'stale');
    assert.equal(stale.id, 'cmd-00002');
    assert.equal(reasonOf(s.gate.check('verify', at(s.now() + MAX_AGE + 1), false)), 'future');
    assert.equal(reasonOf(s.gate.check('verify', at(s.now()), true)), 'retained');
    assert.equal(reasonOf(s.gate.check('open', at(s.now()), false)), 'unknown command');
    assert.equal(reasonOf(s.gate.check('verify', Buffer.from('{"id":'), false)), 'payload is not JSON');
    assert.equal(reasonOf(s.gate.check('verify', body({ id: 'cmd-00002', ts: String(s.now()) }), false)), 'invalid payload');
    assert.equal(reasonOf(s.gate.check('verify', body({ id: 'cmd-00002', ts: s.now(), extra: 1 }), false)), 'invalid payload');
    assert.equal(reasonOf(s.gate.check('verify', body({ id: 'x'.repeat(5000), ts: s.now() }), false)), 'too large');
    // None of those burned the id: the same id, now well-formed and fresh, is accepted.
    assert.equal(reasonOf(s.gate.check('verify', at(s.now()), false)), 'accepted');
    // Exactly at the limit is still fresh.
    assert.equal(reasonOf(s.gate.check('verify', body({ id: 'cmd-00003', ts: s.now() - MAX_AGE }), false)), 'accepted');
  } finally {
    s.cleanup();
  }
});

test('unlock: disabled by default; when enabled only a correct signature for this door passes', () => {
  const off = setup({ unlock: false });
  try {
    const ts = off.now();
    assert.equal(reasonOf(off.gate.check('unlock', body({ id: 'unl-00001', ts, hmac: signUnlock(SECRET, 'front-door', 'unl-00001', ts) }), false)), 'disabled');
  } finally {
    off.cleanup();
  }
  const s = setup();
  try {
    const ts = s.now();
    const signed = (id: string, sig: string) => body({ id, ts, hmac: sig });
    assert.equal(reasonOf(s.gate.check('unlock', signed('unl-00002', signUnlock('another secret value', 'front-door', 'unl-00002', ts)), false)), 'bad signature');
    assert.equal(reasonOf(s.gate.check('unlock', signed('unl-00002', signUnlock(SECRET, 'back-door', 'unl-00002', ts)), false)), 'bad signature');
    assert.equal(reasonOf(s.gate.check('unlock', signed('unl-00002', signUnlock(SECRET, 'front-door', 'unl-00003', ts)), false)), 'bad signature');
    assert.equal(reasonOf(s.gate.check('unlock', body({ id: 'unl-00002', ts }), false)), 'invalid payload');
    const good = signed('unl-00002', signUnlock(SECRET, 'front-door', 'unl-00002', ts));
    assert.equal(reasonOf(s.gate.check('unlock', good, false)), 'accepted');
    assert.equal(reasonOf(s.gate.check('unlock', good, false)), 'replayed');
    s.advance(MAX_AGE + 1);
    assert.equal(reasonOf(s.reopen().check('unlock', good, false)), 'stale');
  } finally {
    s.cleanup();
  }
});

test('the replay cache is bounded, but never forgets an id that could still pass the age check', () => {
  const s = setup({ capacity: 3 });
  try {
    for (const id of ['cap-00001', 'cap-00002', 'cap-00003']) assert.equal(reasonOf(s.gate.check('verify', body({ id, ts: s.now() }), false)), 'accepted');
    // Full of fresh ids: refuse rather than forget one (fail secure).
    assert.equal(reasonOf(s.gate.check('verify', body({ id: 'cap-00004', ts: s.now() }), false)), 'busy');
    s.advance(MAX_AGE + 1);
    assert.equal(reasonOf(s.gate.check('verify', body({ id: 'cap-00004', ts: s.now() }), false)), 'accepted');
    // The evicted id is now refused as stale, which is why forgetting it was safe.
    assert.equal(reasonOf(s.gate.check('verify', body({ id: 'cap-00001', ts: s.now() - MAX_AGE - 1 }), false)), 'stale');
  } finally {
    s.cleanup();
  }
});

test('the replay cache survives a torn last line and compacts its file', () => {
  const s = setup({ capacity: 2 });
  try {
    s.gate.check('verify', body({ id: 'torn-0001', ts: s.now() }), false);
    appendFileSync(s.file, '{"id":"torn-00');
    const reopened = s.reopen();
    assert.equal(reasonOf(reopened.check('verify', body({ id: 'torn-0001', ts: s.now() }), false)), 'replayed');
    for (let i = 0; i < 10; i += 1) {
      s.advance(MAX_AGE + 1);
      assert.equal(reasonOf(reopened.check('verify', body({ id: `torn-1${i}00`, ts: s.now() }), false)), 'accepted');
    }
    const cache = new ReplayCache(s.file, 2, MAX_AGE, quietLog());
    assert.equal(cache.size, 2);
    assert.ok(cache.has('torn-1900') && cache.has('torn-1800'));
  } finally {
    s.cleanup();
  }
});

test('the worked example in docs/mqtt.md signs to the digest printed there', () => {
  const docs = readFileSync(join(repoRoot, 'docs', 'mqtt.md'), 'utf8');
  const digest = signUnlock('change-me-to-a-long-random-secret', 'front-door', '3f2a9c1e-unlock-0001', 1764403200000);
  assert.ok(docs.includes(`# ${digest}`), 'docs/mqtt.md shows the right HMAC for its example');
});

test('the example payloads in the README "MQTT contract" section match the schemas', () => {
  const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## MQTT contract'), readme.indexOf('\n## ', readme.indexOf('## MQTT contract') + 5));
  const blocks = [...section.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => JSON.parse(m[1]!) as unknown);
  assert.equal(blocks.length, 2);
  const schemas = loadSchemas();
  for (const [name, example] of [['attempt', blocks[0]], ['state', blocks[1]]] as const) {
    const validate = schemas.get(name)!;
    assert.ok(validate(example), `${name}: ${JSON.stringify(validate.errors)}`);
  }
});
