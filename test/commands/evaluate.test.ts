import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { listIdentities } from '../../src/gallery/datasets.js';
import { lfwDir, needLfw } from '../helpers/datasets.js';
import { cli, modelReady, tempDir } from '../helpers/cli.js';


test('evaluate: usage errors and a missing dataset are reported clearly', async (t) => {
  const dir = tempDir(t);
  const noDataset = await cli(dir, ['evaluate', '--json']);
  assert.equal(noDataset.code, 64);
  assert.match(noDataset.stderr, /--dataset DIR is required/);
  const badCount = await cli(dir, ['evaluate', '--dataset', dir, '--pairs-per-class', 'many']);
  assert.equal(badCount.code, 64);
  assert.match(badCount.stderr, /--pairs-per-class must be a whole number/);
  const missing = await cli(dir, ['evaluate', '--dataset', join(dir, 'nope')]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /cannot read dataset folder/);
});

test('evaluate on an LFW subset: one JSON object with the metrics, the door test, a cache and LFW pairs files', { skip: needLfw() || modelReady }, async (t) => {
  const dir = tempDir(t);
  // A small dataset of links to LFW identity folders (read in place, never copied): 6 people who can be
  // enrolled (>= 6 images) and 14 who only appear as impostors.
  const all = listIdentities(lfwDir);
  const chosen = [...all.filter((i) => i.images.length >= 6).slice(0, 6), ...all.filter((i) => i.images.length >= 2 && i.images.length < 6).slice(0, 14)];
  const dataset = join(dir, 'subset');
  mkdirSync(dataset);
  for (const identity of chosen) symlinkSync(join(lfwDir, identity.name), join(dataset, identity.name));

  const cacheArgs = ['--cache-dir', join(dir, 'cache')];
  const first = await cli(dir, ['evaluate', '--dataset', dataset, '--json', '--pairs-per-class', '4', ...cacheArgs]);
  assert.equal(first.code, 0, first.stderr);
  const lines = first.stdout.trim().split('\n');
  assert.equal(lines.length, 1, 'exactly one JSON object on stdout');
  const r = JSON.parse(lines[0]!);
  for (const key of ['pairs', 'accuracy', 'precision', 'recall', 'far', 'frr', 'eer', 'auc', 'threshold', 'gallery_frr']) {
    assert.equal(typeof r[key], 'number', key);
  }
  for (const key of ['accuracy', 'precision', 'recall', 'far', 'frr', 'eer', 'auc', 'gallery_frr']) assert.ok(r[key] >= 0 && r[key] <= 1, `${key} ${r[key]}`);
  assert.equal(r.genuine + r.impostor, r.pairs);
  assert.ok(r.genuine > 0 && r.impostor > 0);
  assert.ok(r.pairs + r.no_face.pairs_skipped > 0);
  assert.ok(r.auc > 0.9, `the default model separates LFW people: AUC ${r.auc}`);
  assert.ok(r.door.enrolled >= 1 && r.door.enrolled <= 6, `enrolled ${r.door.enrolled}`);
  assert.ok(r.door.impostor_attempts >= 14 * 2 - r.no_face.images);
  assert.equal(typeof r.no_face.images, 'number');
  assert.ok(existsSync(join(dir, 'cache')), 'dataset embeddings cached');

  const second = await cli(dir, ['evaluate', '--dataset', dataset, '--json', '--pairs-per-class', '4', ...cacheArgs]);
  assert.deepEqual(JSON.parse(second.stdout), r, 'the cache gives the same result');

  const a = chosen[0]!.name;
  const b = chosen[7]!.name;
  writeFileSync(join(dir, 'pairs.txt'), `2\n${a}\t1\t2\n${a}\t1\t${b}\t1\n`);
  const withPairs = await cli(dir, ['evaluate', '--dataset', dataset, '--pairs', join(dir, 'pairs.txt'), '--json', ...cacheArgs]);
  assert.equal(withPairs.code, 0, withPairs.stderr);
  const p = JSON.parse(withPairs.stdout);
  assert.equal(p.pairs + p.no_face.pairs_skipped, 2);
});
