import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, writeFileSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { listIdentities } from '../../src/gallery/datasets.js';
import { lfwDir, needLfw } from '../helpers/datasets.js';
import { cli, modelReady, tempDir } from '../helpers/cli.js';


test('verify without --image is a usage error (64)', async (t) => {
  const r = await cli(tempDir(t), ['verify']);
  assert.equal(r.code, 64);
  assert.match(r.stderr, /--image FILE is required/);
});

test('verify: a missing image file is a clear error (3)', async (t) => {
  const r = await cli(tempDir(t), ['verify', '--image', '/nonexistent/x.jpg']);
  assert.equal(r.code, 3);
  assert.match(r.stderr, /cannot read image \/nonexistent\/x.jpg/);
});

test('verify: a corrupt model folder is a clear error (3)', async (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, 'broken-model'));
  writeFileSync(join(dir, 'broken-model', 'model.json'), '{"modelTopology": ');
  writeFileSync(join(dir, 'probe.jpg'), await sharp({ create: { width: 64, height: 64, channels: 3, background: '#888' } }).jpeg().toBuffer());
  const r = await cli(dir, ['verify', '--image', join(dir, 'probe.jpg'), '--model', join(dir, 'broken-model')]);
  assert.equal(r.code, 3);
  assert.match(r.stderr, /cannot load the model or gallery: .*model.json is not valid JSON/);
});

test('verify: granted 0, denied 1, no face 2, empty gallery and corrupt probe 3', { skip: needLfw() || modelReady }, async (t) => {
  const dir = tempDir(t);
  const blank = join(dir, 'blank.jpg');
  writeFileSync(blank, await sharp({ create: { width: 320, height: 240, channels: 3, background: '#777' } }).jpeg().toBuffer());
  const [ann, stranger] = listIdentities(lfwDir).filter((i) => i.images.length >= 7);

  const empty = await cli(dir, ['verify', '--image', ann!.images[6]!]);
  assert.equal(empty.code, 3);
  assert.match(empty.stderr, /gallery is empty/);

  const person = join(dir, 'data', 'gallery', ann!.name);
  mkdirSync(person, { recursive: true });
  for (const file of ann!.images.slice(0, 5)) copyFileSync(file, join(person, file.split('/').pop()!));

  const granted = await cli(dir, ['verify', '--image', ann!.images[6]!, '--json']);
  assert.equal(granted.code, 0, granted.stderr);
  const result = JSON.parse(granted.stdout);
  for (const key of ['decision', 'identity', 'fraction', 'meanScore', 'perIdentity', 'timings', 'backend']) assert.ok(key in result, key);
  // The stage split (issue 10) added align and liveness beside the original five stage timings.
  assert.deepEqual(Object.keys(result.timings).sort(), ['align', 'compare', 'decode', 'detect', 'embed', 'liveness', 'total']);
  assert.equal(result.decision, 'granted');
  assert.equal(result.identity, ann!.name);
  assert.equal(readdirSync(join(dir, 'state', 'embeddings')).length, 1, 'gallery embeddings cached under paths.state');

  const denied = await cli(dir, ['verify', '--image', stranger!.images[0]!, '--json']);
  assert.equal(denied.code, 1, denied.stderr);
  assert.equal(JSON.parse(denied.stdout).decision, 'denied');

  const noFace = await cli(dir, ['verify', '--image', blank]);
  assert.equal(noFace.code, 2);
  assert.match(noFace.stdout, /NO_FACE/);

  writeFileSync(join(dir, 'corrupt.jpg'), Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]));
  const corrupt = await cli(dir, ['verify', '--image', join(dir, 'corrupt.jpg')]);
  assert.equal(corrupt.code, 3);
  assert.match(corrupt.stderr, /cannot verify .*corrupt.jpg/);
});
