import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../../src/config/index.js';
import { discoveryMessages, haNodeId } from '../../src/mqtt/discovery.js';
import { topicsFor } from '../../src/mqtt/topics.js';
import { fleetTopics } from '../../src/fleet/topics.js';
import { summarizeFleet, fleetTable } from '../../src/fleet/status.js';
import { siteDigest } from '../../src/fleet/site-store.js';
import { makeStatus } from '../helpers/broker.js';

test('ten doors announce themselves: every unique_id, discovery topic and device stays unique (also ids that differ only in "." vs "_")', () => {
  const ids = ['door-1', 'door-2', 'door-3', 'door-4', 'door-5', 'door-6', 'door-7', 'front.door', 'front_door', 'front:door'];
  const uniqueIds = new Set<string>();
  const configTopics = new Set<string>();
  const devices = new Set<string>();
  let entities = 0;
  let messages = 0;
  for (const deviceId of ids) {
    const settings = loadConfig({ env: {}, overrides: { deviceId } }).getProperties();
    for (const message of discoveryMessages(settings, topicsFor(settings))) {
      configTopics.add(message.topic);
      messages++;
      if (!message.payload) continue;
      const config = JSON.parse(message.payload) as { unique_id: string; device: { identifiers: string[] } };
      uniqueIds.add(config.unique_id);
      devices.add(config.device.identifiers.join());
      entities++;
    }
  }
  assert.equal(devices.size, 10, 'one Home Assistant device per door');
  assert.equal(uniqueIds.size, entities, 'no two entities share a unique_id');
  assert.equal(configTopics.size, messages, 'no two doors share a discovery topic (including the empty configs that clear switched-off entities)');
  assert.equal(haNodeId('door-1'), 'door-1', 'ids that need no replacing are kept as they are');
  assert.match(haNodeId('front.door'), /^front_door_[0-9a-f]{6}$/);
});

test('fleet status: online/offline, lockout, last attempt, and which doors lag the site gallery', () => {
  const topics = fleetTopics({ mqtt: { baseTopic: 'site' } } as never);
  const pids = ['a'.repeat(32), 'b'.repeat(32)];
  const entry = (pid: string, ver: number) => Buffer.from(JSON.stringify({ fleet: 1, kid: 'k', pid, ver, iv: 'AAAA', ct: 'AAAA', tag: 'AAAA' }));
  const retained = new Map<string, Buffer>([
    [topics.person(pids[0]!), entry(pids[0]!, 100)],
    [topics.person(pids[1]!), entry(pids[1]!, 200)],
  ]);
  const fleetState = (items: Array<{ pid: string; ver: number }>) => Buffer.from(JSON.stringify({
    model: 'faceapi-resnet128@abc', galleryVersion: Math.max(...items.map((i) => i.ver)), galleryDigest: siteDigest(items), people: items.length, refused: [],
  }));
  const door = (id: string, availability: string, fleet: Buffer | null, state = makeStatus()) => {
    retained.set(`site/${id}/availability`, Buffer.from(availability));
    retained.set(`site/${id}/state`, Buffer.from(JSON.stringify(state)));
    if (fleet) retained.set(topics.doorFleet(id), fleet);
  };
  const lastAttempt = { id: 'x', ts: '2026-11-30T08:00:00.000Z', decision: 'granted' as const, identity: 'alice', meanScore: 0.9 };
  door('front', 'online', fleetState([{ pid: pids[0]!, ver: 100 }, { pid: pids[1]!, ver: 200 }]), makeStatus({ lastAttempt }));
  door('back', 'offline', fleetState([{ pid: pids[0]!, ver: 100 }]));
  door('garage', 'online', fleetState([{ pid: pids[0]!, ver: 100 }, { pid: pids[1]!, ver: 300 }]), makeStatus({ mode: 'locked_out', lockedOutUntil: '2026-11-30T09:00:00.000Z' }));
  door('shed', 'online', null);
  const status = summarizeFleet(retained, topics);
  const by = Object.fromEntries(status.doors.map((d) => [d.deviceId, d]));
  assert.deepEqual(Object.keys(by).sort(), ['back', 'front', 'garage', 'shed']);
  assert.equal(status.site.version, 200);
  assert.deepEqual([by.front!.online, by.front!.gallery, by.front!.lastAttempt?.identity], [true, 'in-sync', 'alice']);
  assert.deepEqual([by.back!.online, by.back!.gallery, by.back!.galleryVersion], [false, 'lags', 100]);
  assert.deepEqual([by.garage!.gallery, by.garage!.mode, by.garage!.lockedOutUntil], ['ahead', 'locked_out', '2026-11-30T09:00:00.000Z']);
  assert.equal(by.shed!.gallery, 'unknown');
  assert.match(status.warnings.join('\n'), /garage holds gallery version 300, newer than the broker's 200/);
  const table = fleetTable(status);
  assert.match(table, /back +OFFLINE .* LAGS/);
  assert.match(table, /site gallery: 2 entries, version 200/);
});
