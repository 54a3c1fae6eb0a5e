import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { SiameseVerifier } from '../../src/face/verifier.js';
import { embedPhotos } from '../../src/fleet/embed.js';
import { open, personId } from '../../src/fleet/envelope.js';
import { siteKeyFromBytes, loadSiteKey } from '../../src/fleet/key.js';
import { siteGalleryFile } from '../../src/fleet/door.js';
import { listIdentities } from '../../src/gallery/datasets.js';
import { makeAttempt, observe, startTestBroker } from '../helpers/broker.js';
import { lfwDir, needLfw } from '../helpers/datasets.js';
import { modelReady } from '../helpers/cli.js';
import { startSite, until, type VerifierKind } from './site-fixture.js';
import { tokenEmbeddings } from './token-verifier.js';

/**
 * The "done when", end to end: a broker, three daemons with their own state dirs and a collector.
 * Run twice: with a deterministic token verifier (many cheap attempts) and with the real model on LFW faces.
 * The 5 s bounds are the requirement; what they measure (publish -> the door's verifier holds the
 * change) takes tens of milliseconds here, so they only fail when propagation is really broken.
 */
const LIMIT_MS = 5000;

async function scenario(kind: VerifierKind, log: (message: string) => void): Promise<void> {
  const broker = await startTestBroker();
  const site = await startSite(broker, kind);
  const [a, b, c] = site.doors as [typeof site.doors[0], typeof site.doors[0], typeof site.doors[0]];
  const tmp = mkdtempSync(join(tmpdir(), 'facegate-site-photos-'));
  // A broker client without the site key sees the gallery topics like anyone on the broker would.
  const outsider = await observe(broker.url, [`${site.base}/_site/gallery/+`]);
  try {
    await site.startCollector();
    let name: string;
    let photos: string[];
    let probe: string;
    if (kind === 'real') {
      const [person] = listIdentities(lfwDir).filter((i) => i.images.length >= 7);
      name = person!.name;
      photos = person!.images.slice(0, 5);
      probe = person!.images[6]!;
    } else {
      name = 'alice';
      photos = [1, 2, 3].map((i) => join(tmp, `alice-${i}.txt`));
      for (const file of photos) writeFileSync(file, 'face:alice');
      probe = 'alice';
    }
    for (const door of site.doors) door.shows(probe);
    for (const door of site.doors) assert.equal((await door.attempt()).decision, 'denied', `${door.id} before enrolment`);

    // Enrolled through door A (its model and key; `facegate fleet enroll` runs the same code).
    const embeddings = kind === 'real'
      ? (await embedPhotos((a.verifier as SiameseVerifier).pipeline, photos.map((file) => ({ file, isCrop: false })))).embeddings
      : await tokenEmbeddings(photos);
    assert.ok(embeddings.length >= 3);
    let t0 = performance.now();
    await site.enrollThrough(a, name, embeddings);
    await until(() => b.verifier.info().identities === 1 && c.verifier.info().identities === 1);
    const enrolMs = performance.now() - t0;
    for (const door of [b, c]) {
      const event = await door.attempt();
      assert.equal(event.decision, 'granted', `${door.id} after enrolment: ${event.reason ?? ''}`);
      assert.equal(event.identity, name);
    }
    const grantedMs = performance.now() - t0;
    log(`${kind}: enrolled at door-a -> usable at b and c ${enrolMs.toFixed(0)} ms, both granted ${grantedMs.toFixed(0)} ms`);
    assert.ok(enrolMs < LIMIT_MS, `enrolment reached the other doors in ${enrolMs} ms`);
    if (kind === 'token') assert.ok(grantedMs < LIMIT_MS, `granted at b and c ${grantedMs} ms after enrolment`);

    // Only ciphertext on the gallery topic; and another key cannot open it.
    await until(() => outsider.messages.length > 0);
    const { topic, payload: original } = outsider.messages[0]!;
    const text = original.toString();
    assert.deepEqual(Object.keys(JSON.parse(text)).sort(), ['ct', 'fleet', 'iv', 'kid', 'pid', 'tag', 'ver']);
    assert.doesNotMatch(text, new RegExp(`${name}|embeddings|space|doors`));
    assert.throws(() => open(siteKeyFromBytes(randomBytes(32)), original, topic.split('/').pop()!), /other-key/);
    assert.equal(topic.split('/').pop(), personId(loadSiteKey(a.settings), name));

    // The collector goes down mid-run; the broker keeps the attempts for its persistent session.
    await site.stopCollector();

    // A tampered entry is refused and logged by every door, and changes nothing.
    const tampered = JSON.parse(text) as Record<string, string>;
    tampered.ct = `${tampered.ct!.startsWith('A') ? 'B' : 'A'}${tampered.ct!.slice(1)}`;
    await outsider.client.publishAsync(topic, JSON.stringify(tampered), { qos: 1, retain: true });
    await until(() => site.doors.every((door) => door.refusals('tampered') >= 1));
    assert.equal((await b.attempt()).decision, 'granted', 'still granted after a tampered entry');

    // Door C is stopped; the person is revoked (from door B) while it is away.
    await c.stop();
    const held = JSON.parse(readFileSync(siteGalleryFile(c.settings), 'utf8')) as { entries: Record<string, { entry: { kind: string } }> };
    assert.deepEqual(Object.values(held.entries).map((e) => e.entry.kind), ['person'], 'door C went down holding the person');
    t0 = performance.now();
    const revokedVersion = await site.revokeThrough(b, name);
    await until(() => a.verifier.info().identities === 0 && b.verifier.info().identities === 0);
    const revokeMs = performance.now() - t0;
    for (const door of [a, b]) assert.equal((await door.attempt()).decision, 'denied', `${door.id} after revocation`);
    const deniedMs = performance.now() - t0;
    log(`${kind}: revoked -> gone at a and b ${revokeMs.toFixed(0)} ms, both denied ${deniedMs.toFixed(0)} ms`);
    assert.ok(revokeMs < LIMIT_MS, `revocation reached the online doors in ${revokeMs} ms`);
    if (kind === 'token') assert.ok(deniedMs < LIMIT_MS);
    // What `fleet revoke` tells the operator: the two online doors took it, door C will when it is back.
    assert.deepEqual(await site.confirm(revokedVersion, 10_000), { applied: ['door-a', 'door-b'], offline: ['door-c'], pending: [] });

    // Door C comes back with its old gallery on disk and learns the revocation from the retained entry.
    await c.start();
    t0 = performance.now();
    await until(() => c.verifier.info().identities === 0);
    const rejoinMs = performance.now() - t0;
    const afterRejoin = await c.attempt();
    assert.equal(afterRejoin.decision, 'denied', 'door C denies after coming back');
    log(`${kind}: door-c back -> revocation applied ${rejoinMs.toFixed(0)} ms after its start returned`);
    assert.ok(rejoinMs < LIMIT_MS);

    // A replayed older version (the enrolment, re-published by someone without the key) is refused everywhere.
    await outsider.client.publishAsync(topic, original, { qos: 1, retain: true });
    await until(() => site.doors.every((door) => door.refusals('replayed') >= 1));
    for (const door of site.doors) assert.equal((await door.attempt()).decision, 'denied', `${door.id} after a replay`);

    // The collector comes back: every attempt of every door exactly once, with its door.
    await site.startCollector();
    const duplicate = a.attempts[0]!;
    const sentinel = makeAttempt();
    // An outbox retry of an attempt the collector has, then a new one: once the new one is stored, so was the retry.
    await outsider.client.publishAsync(`${site.base}/${a.id}/attempt`, JSON.stringify(duplicate), { qos: 1 });
    await outsider.client.publishAsync(`${site.base}/${a.id}/attempt`, JSON.stringify(sentinel), { qos: 1 });
    const expected = [...site.doors.flatMap((door) => door.attempts), { ...sentinel, door: a.id }];
    await until(() => {
      const ids = new Set(site.collected().map((e) => e.id));
      return expected.every((e) => ids.has(e.id));
    }, 50);
    const collected = site.collected();
    assert.equal(collected.length, expected.length, 'nothing twice, nothing extra');
    for (const event of expected) {
      const lines = collected.filter((e) => e.id === event.id);
      assert.equal(lines.length, 1, `attempt ${event.id} stored once`);
      assert.equal(lines[0]!.door, event.door);
      assert.equal(lines[0]!.decision, event.decision);
    }
    assert.ok(site.collector!.counts().duplicates >= 1, 'the retried attempt was recognised as a duplicate');
    log(`${kind}: collector holds ${collected.length} attempts from ${site.doors.length} doors, each once`);
  } finally {
    await outsider.close();
    await site.close();
    await broker.close();
    rmSync(tmp, { recursive: true, force: true });
  }
}

test('three doors, token verifier: enrol once, revoke everywhere (also a door that was off), one audit trail, ciphertext only', { timeout: 120_000 }, async (t) => {
  await scenario('token', (m) => t.diagnostic(m));
});

test('three doors, real model and LFW faces: the same, with real embeddings', { timeout: 300_000, skip: needLfw() || modelReady }, async (t) => {
  await scenario('real', (m) => t.diagnostic(m));
});
