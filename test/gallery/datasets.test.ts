import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { listIdentities, makePairs, parseLfwPairs, splitIdentities } from '../../src/gallery/datasets.js';
import { lfwDir, needLfw } from '../helpers/datasets.js';

function makeDataset(counts: Record<string, number>): string {
  const dir = mkdtempSync(join(tmpdir(), 'facegate-ds-'));
  for (const [name, n] of Object.entries(counts)) {
    mkdirSync(join(dir, name));
    for (let i = 1; i <= n; i++) writeFileSync(join(dir, name, `${name}_${String(i).padStart(4, '0')}.jpg`), 'x');
  }
  writeFileSync(join(dir, 'README.txt'), 'not an identity');
  mkdirSync(join(dir, '.hidden'));
  return dir;
}

test('identity folders: sorted, non-images and hidden folders ignored, a missing folder is a clear error', (t) => {
  const dir = makeDataset({ bob: 3, alice: 2 });
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'bob', 'notes.txt'), 'x');
  const ids = listIdentities(dir);
  assert.deepEqual(ids.map((i) => i.name), ['alice', 'bob']);
  assert.deepEqual(ids[1]!.images.map((p) => basename(p)), ['bob_0001.jpg', 'bob_0002.jpg', 'bob_0003.jpg']);
  assert.throws(() => listIdentities(join(dir, 'nope')), /cannot read dataset folder/);
});

test('pairs are balanced, deterministic per seed, genuine within and impostor across identities', (t) => {
  const dir = makeDataset({ a: 5, b: 4, c: 1, d: 2, e: 6 });
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const ids = listIdentities(dir);
  const pairs = makePairs(ids, { pairsPerClass: 3, seed: 7 });
  const genuine = pairs.filter((p) => p.same);
  const impostor = pairs.filter((p) => !p.same);
  assert.equal(genuine.length, 3 + 3 + 1 + 3, 'up to 3 per identity with >= 2 images; d has only one pair');
  assert.equal(impostor.length, genuine.length);
  for (const p of genuine) assert.equal(dirname(p.a), dirname(p.b));
  for (const p of impostor) assert.notEqual(dirname(p.a), dirname(p.b));
  assert.equal(new Set(genuine.map((p) => `${p.a}|${p.b}`)).size, genuine.length, 'no duplicate genuine pair');
  assert.deepEqual(makePairs(ids, { pairsPerClass: 3, seed: 7 }), pairs);
  assert.notDeepEqual(makePairs(ids, { pairsPerClass: 3, seed: 8 }), pairs);
});

test('identity split is disjoint, complete and seeded', () => {
  const ids = Array.from({ length: 20 }, (_, i) => ({ name: `p${i}`, images: [`p${i}/1.jpg`] }));
  const [train, rest] = splitIdentities(ids, 0.5, 1);
  assert.equal(train.length, 10);
  assert.equal(rest.length, 10);
  const names = new Set(train.map((i) => i.name));
  assert.ok(rest.every((i) => !names.has(i.name)));
  assert.deepEqual(splitIdentities(ids, 0.5, 1), [train, rest]);
});

test('LFW pairs.txt: header, genuine and impostor lines, bad lines named', () => {
  const pairs = parseLfwPairs('10\t300\nAbel_Pacheco\t1\t4\nAbdullah\t2\tAdam_Sandler\t13\n\n', '/d');
  assert.deepEqual(pairs, [
    { a: '/d/Abel_Pacheco/Abel_Pacheco_0001.jpg', b: '/d/Abel_Pacheco/Abel_Pacheco_0004.jpg', same: true },
    { a: '/d/Abdullah/Abdullah_0002.jpg', b: '/d/Adam_Sandler/Adam_Sandler_0013.jpg', same: false },
  ]);
  assert.throws(() => parseLfwPairs('1\nA 1 B 2 C\n', '/d'), /line 2/);
  assert.throws(() => parseLfwPairs('A x 2\n', '/d'), /bad image number/);
  assert.throws(() => parseLfwPairs('', '/d'), /no pairs/);
});

test('lfw-dev: every identity with two images gives genuine pairs', { skip: needLfw() }, () => {
  const ids = listIdentities(lfwDir);
  assert.ok(ids.length > 1000);
  const pairs = makePairs(ids, { pairsPerClass: 10, seed: 1 });
  assert.equal(pairs.filter((p) => p.same).length, pairs.filter((p) => !p.same).length);
});
