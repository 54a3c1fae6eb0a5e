import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { ConfigError } from '../../src/config/index.js';
import { openFleetDoor, siteGalleryFile } from '../../src/fleet/door.js';
import { modelIdentity } from '../../src/fleet/model.js';
import { SiteStore } from '../../src/fleet/site-store.js';
import { SiteAuditStore } from '../../src/fleet/site-audit.js';
import { dayFileName } from '../../src/audit/files.js';
import { freePort, makeAttempt, quietLog } from '../helpers/broker.js';
import { siteSettings, TestDoor } from './site-fixture.js';
import { tokenEmbedding } from './token-verifier.js';

const tmp = mkdtempSync(join(tmpdir(), 'facegate-fleet-door-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));
const noBroker = async () => ({ kind: 'aedes' as const, url: `mqtt://127.0.0.1:${await freePort()}`, embedded: null, close: async () => undefined });

test('a door without its site key, or named like the site topic, does not start: configuration error naming the key', async () => {
  const settings = siteSettings(await noBroker(), 'fg-x', randomBytes(32).toString('hex'), join(tmp, 'nokey'), 'front');
  const withoutKey = { ...settings, fleet: { ...settings.fleet, key: '', keyFile: join(tmp, 'absent.key') } };
  await assert.rejects(openFleetDoor(withoutKey, quietLog()), (error: unknown) =>
    error instanceof ConfigError && error.exitCode === 78 && /fleet\.keyFile: no site key at .*absent\.key.*fleet init/.test(error.message));
  await assert.rejects(openFleetDoor({ ...settings, deviceId: '_site' }, quietLog()), /deviceId: "_site" is where the site gallery lives/);
});

test('broker down: the door starts with the site gallery it last had and keeps letting people in', async () => {
  const settings = siteSettings(await noBroker(), 'fg-down', randomBytes(32).toString('hex'), join(tmp, 'down'), 'front');
  const { space } = await modelIdentity(settings.model.dir);
  const store = SiteStore.open(siteGalleryFile(settings), { deviceId: 'front', space });
  store.put('a'.repeat(32), 7, 'hash', { kind: 'person', name: 'alice', version: 7, space, model: 'm', embeddings: [tokenEmbedding('alice')], doors: 'all', at: 'x', by: 'y' });
  store.flush();
  const door = new TestDoor('front', settings, 'token');
  await door.start();
  try {
    door.shows('alice');
    assert.equal((await door.attempt()).decision, 'granted');
  } finally {
    await door.stop();
  }
});

test('a damaged site gallery file is set aside, not trusted and not fatal', () => {
  const file = join(tmp, 'damaged', 'site-gallery.json');
  const store = SiteStore.open(file, { deviceId: 'front', space: 's' });
  store.put('b'.repeat(32), 3, 'h', { kind: 'revoked', name: 'bob', version: 3, at: 'x', by: 'y' });
  store.flush();
  writeFileSync(file, readFileSync(file, 'utf8').slice(0, 20));
  const reopened = SiteStore.open(file, { deviceId: 'front', space: 's' }, quietLog());
  assert.equal(reopened.list().length, 0);
});

test('site audit store: a line cut short by a power loss does not swallow the next one; ids stay unique across reopening', () => {
  const dir = join(tmp, 'audit');
  const first = makeAttempt({ ts: '2026-11-30T10:00:00.000Z' });
  const store = new SiteAuditStore(dir);
  assert.equal(store.append('front', first), 'stored');
  appendFileSync(join(dir, dayFileName('2026-11-30')), '{"id":"half-writ');
  const reopened = new SiteAuditStore(dir);
  assert.equal(reopened.append('back', first), 'duplicate');
  const second = makeAttempt({ ts: '2026-11-30T11:00:00.000Z' });
  assert.equal(reopened.append('back', second), 'stored');
  const lines = readFileSync(join(dir, dayFileName('2026-11-30')), 'utf8').split('\n').filter(Boolean);
  assert.equal(lines.length, 3);
  assert.equal(JSON.parse(lines[2]!).id, second.id);
  assert.equal(JSON.parse(lines[2]!).door, 'back');
});

test('doctor: the fleet check skips a lone door, fails without the key (with the fix), passes with it', async () => {
  const { fleetCheck } = await import('../../src/doctor/fleet.js');
  const settings = siteSettings(await noBroker(), 'fg-doc', randomBytes(32).toString('hex'), join(tmp, 'doctor'), 'front');
  assert.equal((await fleetCheck({ ...settings, fleet: { ...settings.fleet, enabled: false } })).status, 'skip');
  const missing = await fleetCheck({ ...settings, fleet: { ...settings.fleet, key: '', keyFile: join(tmp, 'nope.key') } });
  assert.equal(missing.status, 'fail');
  assert.match(missing.fix ?? '', /facegate fleet init/);
  const ok = await fleetCheck(settings);
  assert.equal(ok.status, 'pass', ok.detail);
  assert.match(ok.detail, /site key [0-9a-f]{16} from fleet\.key; 0 site gallery entries/);
});
