import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { loadConfig } from '../../src/config/index.js';
import { loadSchemas } from '../../src/mqtt/commands.js';
import { createSiteKeyFile, loadSiteKey, siteKeyFromBytes, SiteKeyError } from '../../src/fleet/key.js';
import { EntryRefused, open, personId, readHeader, seal } from '../../src/fleet/envelope.js';
import { decodeEntry, encodeEntry, type PersonEntry } from '../../src/fleet/entry.js';

const tmp = mkdtempSync(join(tmpdir(), 'facegate-fleet-key-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

const key = siteKeyFromBytes(randomBytes(32));
const person = (over: Partial<PersonEntry> = {}): PersonEntry => ({
  kind: 'person', name: 'alice', version: 5, space: 'space-1', model: 'faceapi-resnet128@abc', doors: 'all',
  embeddings: [Float32Array.from([0.5, -1.25, 3]), Float32Array.from([1, 2, 3])], at: '2026-11-30T00:00:00.000Z', by: 'front', ...over,
});
const refusedWith = (code: string) => (error: unknown) => error instanceof EntryRefused && error.refusal === code;

test('seal/open round trip; the envelope shows neither the name nor the embeddings', () => {
  const pid = personId(key, 'alice');
  const plaintext = encodeEntry(person());
  const payload = Buffer.from(seal(key, pid, 5, plaintext));
  const text = payload.toString();
  assert.doesNotMatch(text, /alice|space-1|embeddings/);
  assert.equal(readHeader(payload).ver, 5);
  const validate = loadSchemas().get('site-entry')!;
  assert.ok(validate(JSON.parse(text)), JSON.stringify(validate.errors));
  const opened = open(key, payload, pid);
  assert.deepEqual(opened.plaintext, plaintext);
  const entry = decodeEntry(opened.plaintext) as PersonEntry;
  assert.deepEqual(entry.embeddings.map((e) => [...e]), [[0.5, -1.25, 3], [1, 2, 3]]);
  // Person ids depend on the key: another site cannot even tell whether alice is enrolled here.
  assert.notEqual(personId(siteKeyFromBytes(randomBytes(32)), 'alice'), pid);
});

test('any changed byte, a relabelled version, a moved entry or another key is refused with its own code', () => {
  const pid = personId(key, 'alice');
  const sealed = JSON.parse(seal(key, pid, 5, encodeEntry(person()))) as Record<string, unknown>;
  const ct = Buffer.from(sealed.ct as string, 'base64');
  ct[3] = ct[3]! ^ 1;
  assert.throws(() => open(key, Buffer.from(JSON.stringify({ ...sealed, ct: ct.toString('base64') })), pid), refusedWith('tampered'));
  // A replayer cannot make an old entry look new: the version is authenticated.
  assert.throws(() => open(key, Buffer.from(JSON.stringify({ ...sealed, ver: 6 })), pid), refusedWith('tampered'));
  const bob = personId(key, 'bob');
  assert.throws(() => open(key, Buffer.from(JSON.stringify(sealed)), bob), refusedWith('wrong-topic'));
  assert.throws(() => open(key, Buffer.from(JSON.stringify({ ...sealed, pid: bob })), bob), refusedWith('tampered'));
  const otherKey = siteKeyFromBytes(randomBytes(32));
  assert.throws(() => open(otherKey, Buffer.from(JSON.stringify(sealed)), pid), refusedWith('other-key'));
  assert.throws(() => open(key, Buffer.from('not json'), pid), refusedWith('malformed'));
  assert.throws(() => open(key, Buffer.from('{"fleet":1}'), pid), refusedWith('malformed'));
});

test('entry content is checked: names, versions, embedding sizes, NaN, doors', () => {
  const bad = (mutate: (raw: Record<string, unknown>) => void) => {
    const raw = JSON.parse(encodeEntry(person()).toString()) as Record<string, unknown>;
    mutate(raw);
    return () => decodeEntry(Buffer.from(JSON.stringify(raw)));
  };
  assert.throws(bad((r) => (r.name = '../etc')), refusedWith('invalid'));
  assert.throws(bad((r) => (r.version = -1)), refusedWith('invalid'));
  assert.throws(bad((r) => (r.embeddings = [])), refusedWith('invalid'));
  assert.throws(bad((r) => (r.embeddings = [(r.embeddings as string[])[0], Buffer.alloc(8).toString('base64')])), refusedWith('invalid'));
  const nan = Buffer.alloc(4);
  nan.writeFloatLE(Number.NaN, 0);
  assert.throws(bad((r) => (r.embeddings = [nan.toString('base64')])), refusedWith('invalid'));
  assert.throws(bad((r) => (r.doors = 'some')), refusedWith('invalid'));
  assert.throws(bad((r) => (r.kind = 'admin')), refusedWith('invalid'));
  assert.deepEqual((decodeEntry(encodeEntry(person({ doors: ['front', 'back'] }))) as PersonEntry).doors, ['front', 'back']);
  assert.equal(decodeEntry(encodeEntry({ kind: 'revoked', name: 'alice', version: 9, at: 'now', by: 'cli' })).kind, 'revoked');
});

test('the key file: created 0600 once, refused when others can read it, a clear error when absent', () => {
  const settings = loadConfig({ env: {}, overrides: { 'paths.state': tmp, 'fleet.keyFile': join(tmp, 'site.key') } }).getProperties();
  assert.throws(() => loadSiteKey(settings), (e: unknown) => e instanceof SiteKeyError && /fleet init/.test((e as Error).message));
  const made = createSiteKeyFile(settings.fleet.keyFile);
  assert.equal(statSync(settings.fleet.keyFile).mode & 0o777, 0o600);
  assert.equal(loadSiteKey(settings).id, made.id);
  assert.throws(() => createSiteKeyFile(settings.fleet.keyFile), /exists already/);
  chmodSync(settings.fleet.keyFile, 0o644);
  assert.throws(() => loadSiteKey(settings), /chmod 600/);
  chmodSync(settings.fleet.keyFile, 0o600);
  // The sensitive config value wins over the file.
  const hex = readFileSync(settings.fleet.keyFile, 'utf8').trim();
  assert.equal(loadSiteKey({ ...settings, fleet: { ...settings.fleet, key: hex, keyFile: join(tmp, 'absent') } }).id, made.id);
  writeFileSync(join(tmp, 'junk.key'), 'hello', { mode: 0o600 });
  assert.throws(() => loadSiteKey({ ...settings, fleet: { ...settings.fleet, keyFile: join(tmp, 'junk.key') } }), /does not hold a site key/);
});
