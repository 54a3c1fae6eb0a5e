import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SiteStore } from '../../src/fleet/site-store.js';
import { FleetSync, type Refusal } from '../../src/fleet/sync.js';
import { fleetTopics } from '../../src/fleet/topics.js';
import { SiteGalleryStore } from '../../src/fleet/site-gallery-store.js';
import type { GalleryStore } from '../../src/gallery/store.js';
import { open, seal } from '../../src/fleet/envelope.js';
import { publishPerson, SITE_ENTRY_MAX_BYTES } from '../../src/fleet/publish.js';
import { loadSchemas } from '../../src/mqtt/commands.js';
import { decodeEntry, encodeEntry, type PersonEntry } from '../../src/fleet/entry.js';
import { captureLog } from '../daemon/fakes.js';
import { RecordingTransport, newKey, personEntry, sealed } from './helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'facegate-fleet-sync-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));
const topics = fleetTopics({ mqtt: { baseTopic: 'site-test' } } as never);
const key = newKey();

function door(name: string, deviceId = 'front') {
  const file = join(tmp, name, 'site-gallery.json');
  const logs = captureLog();
  const transport = new RecordingTransport();
  let changes = 0;
  const make = () => {
    const store = SiteStore.open(file, { deviceId, space: 'space-A' });
    const sync = new FleetSync({ transport, key, store, topics, deviceId, space: 'space-A', model: 'tower@aaa', log: logs.log, onChange: async () => void changes++, debounceMs: 0 });
    return { store, sync };
  };
  return { make, logs, transport, changes: () => changes };
}
const code = (outcome: unknown) => (outcome as Refusal).code;

test('a door applies new versions, ignores the same one again, and refuses older ones (replays), also after a restart', async () => {
  const d = door('replay');
  let { store, sync } = d.make();
  const v1 = sealed(key, personEntry('alice', 100));
  const v2 = sealed(key, { kind: 'revoked', name: 'alice', version: 200, at: 'x', by: 'cli' });
  assert.equal(sync.handle(topics.person(v1.pid), v1.payload), 'applied');
  assert.equal(sync.handle(topics.person(v1.pid), v1.payload), 'unchanged');
  assert.deepEqual(store.snapshot().people.map((p) => p.name), ['alice']);
  assert.equal(sync.handle(topics.person(v2.pid), v2.payload), 'applied');
  assert.deepEqual(store.snapshot().people, []);
  assert.equal(code(sync.handle(topics.person(v1.pid), v1.payload)), 'replayed');
  await sync.stop(); // the daemon stopping: what it holds is on disk
  ({ store, sync } = d.make()); // restarted: versions come from disk
  assert.equal(store.version(), 200);
  assert.equal(code(sync.handle(topics.person(v1.pid), v1.payload)), 'replayed');
  assert.ok(store.snapshot().decides.has('alice'), 'a revoked name stays decided, so a local photo folder of alice is hidden');
  const refusals = d.logs.lines().filter((l) => l.msg === 'fleet: site entry refused');
  assert.equal(refusals.length, 2);
  assert.equal(refusals[0]!.code, 'replayed');
  await sync.stop();
});

test('a forged, tampered, moved or foreign-key entry changes nothing and is logged; an empty retained message is not a revocation', () => {
  const d = door('forged');
  const { store, sync } = d.make();
  const good = sealed(key, personEntry('bob', 10));
  assert.equal(sync.handle(topics.person(good.pid), good.payload), 'applied');
  // Someone with another key writes on bob's topic (the topic name is public).
  const forged = Buffer.from(seal(newKey(), good.pid, 20, encodeEntry(personEntry('bob', 20, { embeddings: [Float32Array.from([9, 9, 9])] }))));
  assert.equal(code(sync.handle(topics.person(good.pid), forged)), 'other-key');
  const raw = JSON.parse(sealed(key, personEntry('bob', 30)).payload.toString()) as Record<string, string>;
  raw.tag = Buffer.alloc(16).toString('base64');
  assert.equal(code(sync.handle(topics.person(good.pid), Buffer.from(JSON.stringify(raw)))), 'tampered');
  const carol = sealed(key, personEntry('carol', 40));
  assert.equal(code(sync.handle(topics.person(good.pid), carol.payload)), 'wrong-topic');
  assert.equal(code(sync.handle(topics.person(good.pid), Buffer.from('{"hello":1}'))), 'malformed');
  assert.equal(sync.handle(topics.person(good.pid), Buffer.alloc(0)), 'ignored');
  assert.equal(store.get(good.pid)?.ver, 10);
  assert.deepEqual([...store.snapshot().people[0]!.embeddings[0]!], [1, 2, 3]);
  assert.equal(d.logs.lines().filter((l) => l.msg === 'fleet: site entry refused').length, 4);
  // The refusals are in the door's published fleet state, for `facegate fleet status`.
  const states = d.transport.published.filter((p) => p.topic === topics.doorFleet('front'));
  const last = JSON.parse(states[states.length - 1]!.payload) as { refused: Refusal[]; galleryVersion: number };
  assert.deepEqual(last.refused.map((r) => r.code), ['other-key', 'tampered', 'wrong-topic', 'malformed']);
  assert.ok(states.every((s) => s.retain));
  const validate = loadSchemas().get('fleet')!;
  for (const s of states) assert.ok(validate(JSON.parse(s.payload)), JSON.stringify(validate.errors));
});

test('an entry for another model is kept for its version but never matched, and the door says so', () => {
  const d = door('model');
  const { store, sync } = d.make();
  const other = sealed(key, personEntry('dave', 10, { space: 'space-B', model: 'seed@bbb' }));
  const outcome = sync.handle(topics.person(other.pid), other.payload);
  assert.equal(outcome, 'applied');
  assert.equal(store.version(), 10);
  assert.deepEqual(store.snapshot().people, []);
  const line = d.logs.lines().find((l) => l.code === 'other-model');
  assert.match(String(line?.reason), /dave was enrolled with model seed@bbb; this door runs tower@aaa/);
});

test('doors: a person allowed at some doors only is matched there and hidden elsewhere, including a local folder copy', async () => {
  const front = door('doors-front', 'front').make();
  const back = door('doors-back', 'back').make();
  const entry = sealed(key, personEntry('erin', 10, { doors: ['front'] }));
  for (const d of [front, back]) assert.equal(d.sync.handle(topics.person(entry.pid), entry.payload), 'applied');
  const folder: GalleryStore = {
    description: 'folder',
    load: async () => ({ people: [{ name: 'erin', embeddings: [Float32Array.from([0, 0, 0])] }, { name: 'zoe', embeddings: [Float32Array.from([1, 1, 1])] }], skipped: [], computed: 0 }),
  };
  const atFront = await new SiteGalleryStore(front.store, folder).load();
  assert.deepEqual(atFront.people.map((p) => [p.name, [...p.embeddings[0]!]]), [['erin', [1, 2, 3]], ['zoe', [1, 1, 1]]], 'the site entry replaces the local copy');
  const atBack = await new SiteGalleryStore(back.store, folder).load();
  assert.deepEqual(atBack.people.map((p) => p.name), ['zoe']);
  assert.deepEqual(atBack.skipped, [{ entry: 'erin', reason: 'local copy replaced or withheld by the site gallery' }]);
});

test('changes are reported once per burst and the sync subscribes to the site gallery at connect', async () => {
  const d = door('burst');
  const { sync } = d.make();
  sync.start();
  for (const name of ['a1', 'a2', 'a3']) {
    const e = sealed(key, personEntry(name, 5));
    d.transport.deliver(topics.person(e.pid), e.payload);
  }
  await new Promise((resolve) => setTimeout(resolve, 30));
  assert.equal(d.changes(), 1);
  assert.deepEqual(d.transport.subscribed, [topics.galleryFilter]);
  await sync.stop();
});

test('an entry with many photos is thinned out evenly so it fits the doors\' packet limit', async () => {
  const transport = new RecordingTransport();
  transport.echo = true;
  const many = Array.from({ length: 40 }, (_, i) => Float32Array.from({ length: 128 }, () => i));
  const result = await publishPerson({ transport, key, topics }, { name: 'fred', space: 'space-A', model: 'tower@aaa', embeddings: many, doors: 'all', by: 'test' });
  const entry = transport.published.filter((p) => p.retain).at(-1)!;
  assert.ok(entry.payload.length <= SITE_ENTRY_MAX_BYTES, `${entry.payload.length} bytes`);
  assert.ok(result.embeddings >= 8 && result.embeddings < 40, `${result.embeddings} embeddings`);
  const opened = decodeEntry(open(key, Buffer.from(entry.payload), entry.topic.split('/').pop()!).plaintext) as PersonEntry;
  assert.equal(opened.embeddings.length, result.embeddings);
  assert.deepEqual([opened.embeddings[0]![0], opened.embeddings.at(-1)![0]], [0, 39], 'first and last photo kept');
});
