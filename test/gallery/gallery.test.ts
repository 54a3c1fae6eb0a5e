import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { EmbeddingCache, type FacePipeline } from '../../src/gallery/cache.js';
import { GalleryError, isFaceCropFile, listPeople, loadGallery, removePerson, validatePersonName, writePerson } from '../../src/gallery/gallery.js';
import { decodeImage, type RgbImage } from '../../src/image/image.js';

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'facegate-gallery-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const png = (r: number, g: number, b: number) =>
  sharp({ create: { width: 8, height: 8, channels: 3, background: { r, g, b } } }).png().toBuffer();

/**
 * A tiny real pipeline for gallery mechanics: "finds a face" unless the image is pure black, embeds as the
 * mean colour. It counts tower passes so the tests can see the cache at work.
 */
function colourPipeline(): FacePipeline & { embedded: number } {
  const pipeline = {
    embedded: 0,
    async faceCrop(bytes: Buffer): Promise<RgbImage | null> {
      const img = await decodeImage(bytes);
      return img.data.some((v) => v > 0) ? img : null;
    },
    async embed(faces: RgbImage[]): Promise<Float32Array[]> {
      pipeline.embedded += faces.length;
      return faces.map((f) => {
        const sum = [0, 0, 0];
        for (let i = 0; i < f.data.length; i++) sum[i % 3]! += f.data[i]!;
        return Float32Array.from(sum.map((s) => s / (f.data.length / 3)));
      });
    },
  };
  return pipeline;
}

test('person names are safe folder names', () => {
  for (const ok of ['alice', 'Bob Smith', 'jean-luc.picard', 'Zoë_2']) assert.equal(validatePersonName(ok), ok);
  for (const bad of ['', '../etc', 'a/b', '.hidden', 'x..y', 'a\\b', 'n\u0000', 'x'.repeat(65)]) {
    assert.throws(() => validatePersonName(bad), GalleryError, bad);
  }
});

test('writePerson adds images all-or-nothing, skips duplicates and marks face crops', async (t) => {
  const dir = tempDir(t);
  const red = await png(255, 0, 0);
  const blue = await png(0, 0, 255);
  assert.deepEqual(writePerson(dir, 'alice', [{ source: '/x/a.png', bytes: red, isCrop: false }]), ['a.png']);
  const added = writePerson(dir, 'alice', [
    { source: '/y/a.png', bytes: red, isCrop: false }, // same bytes: skipped
    { source: '/y/a.png', bytes: blue, isCrop: true }, // same name, other bytes: renamed, marked as crop
  ]);
  assert.equal(added.length, 1);
  assert.ok(isFaceCropFile(added[0]!));
  assert.deepEqual(listPeople(dir).map((p) => [p.name, p.images.length]), [['alice', 2]]);
  assert.deepEqual(readdirSync(dir), ['alice'], 'no staging folders left behind');
});

test('a failed enrolment leaves the gallery as it was', async (t) => {
  const dir = tempDir(t);
  writePerson(dir, 'bob', [{ source: 'b.png', bytes: await png(1, 2, 3), isCrop: false }]);
  const good = await png(4, 5, 6);
  // The second image is not bytes at all: the write fails after the staging folder is half-filled.
  const broken = [
    { source: 'c.png', bytes: good, isCrop: false },
    { source: 'd.png', bytes: 42 as unknown as Buffer, isCrop: false },
  ];
  assert.throws(() => writePerson(dir, 'bob', broken));
  assert.throws(() => writePerson(dir, 'newcomer', broken));
  assert.deepEqual(readdirSync(dir), ['bob'], 'no staging folder and no half-enrolled newcomer');
  assert.deepEqual(readdirSync(join(dir, 'bob')), ['b.png']);
});

test('removePerson deletes the folder; an unknown name is a clear error', async (t) => {
  const dir = tempDir(t);
  writePerson(dir, 'carol', [{ source: 'c.png', bytes: await png(9, 9, 9), isCrop: false }]);
  assert.throws(() => removePerson(dir, 'dave'), /no enrolled person "dave" \(enrolled: carol\)/);
  removePerson(dir, 'carol');
  assert.deepEqual(listPeople(dir), []);
  assert.deepEqual(listPeople(join(dir, 'missing')), [], 'a missing gallery is empty');
});

test('gallery embeddings are computed once, cached per namespace, and bad images are skipped', async (t) => {
  const dir = tempDir(t);
  const gallery = join(dir, 'gallery');
  writePerson(gallery, 'erin', [
    { source: 'red.png', bytes: await png(200, 0, 0), isCrop: false },
    { source: 'black.png', bytes: await png(0, 0, 0), isCrop: false },
  ]);
  mkdirSync(join(gallery, 'frank'));
  writeFileSync(join(gallery, 'frank', 'corrupt.jpg'), Buffer.from([0xff, 0xd8, 0xff, 0x00, 1, 2, 3]));
  const pipeline = colourPipeline();
  const cache = new EmbeddingCache(join(dir, 'state', 'embeddings'), 'model-a', 3);
  const first = await loadGallery(gallery, pipeline, cache);
  assert.deepEqual(first.people.map((p) => p.name), ['erin'], 'frank has no usable image and is dropped');
  assert.equal(first.images, 1);
  assert.equal(first.skipped.length, 2);
  assert.match(first.skipped.find((s) => s.file.endsWith('black.png'))!.reason, /no face/);
  assert.ok(first.people[0]!.embeddings[0]![0]! > 199);
  assert.equal(pipeline.embedded, 1);
  assert.equal(first.computed, 2, 'one embedding and one no-face result were computed');

  const second = await loadGallery(gallery, pipeline, cache);
  assert.equal(pipeline.embedded, 1, 'second load reads the cache');
  assert.equal(second.computed, 0);
  assert.deepEqual(second.people[0]!.embeddings, first.people[0]!.embeddings);

  const otherModel = new EmbeddingCache(join(dir, 'state', 'embeddings'), 'model-b', 3);
  await loadGallery(gallery, pipeline, otherModel);
  assert.equal(pipeline.embedded, 2, 'another model namespace recomputes');
  assert.ok(existsSync(otherModel.dir));
});

test('a truncated cache file is a miss, not a wrong embedding', (t) => {
  const dir = tempDir(t);
  const cache = new EmbeddingCache(dir, 'ns', 4);
  cache.set('abc', { kind: 'embedding', embedding: Float32Array.from([1, 2, 3, 4]) });
  assert.deepEqual(cache.get('abc'), { kind: 'embedding', embedding: Float32Array.from([1, 2, 3, 4]) });
  writeFileSync(join(cache.dir, 'abc.f32'), Buffer.alloc(5));
  assert.equal(cache.get('abc'), null);
  assert.throws(() => new EmbeddingCache(dir, '../x', 4), /namespace/);
});

test('a dangling symlink in the gallery is skipped with a warning naming it, not a crash (issue 11 item 11)', async (t) => {
  const dir = tempDir(t);
  const gallery = join(dir, 'gallery');
  writePerson(gallery, 'alice', [{ source: 'red.png', bytes: await png(200, 0, 0), isCrop: false }]);
  symlinkSync(join(dir, 'gone'), join(gallery, 'ghost')); // a person folder that points nowhere
  symlinkSync(join(dir, 'gone.jpg'), join(gallery, 'alice', 'dangling.jpg')); // an image that points nowhere
  const warnings: Array<{ entry: string }> = [];
  const log = { warn: (fields: { entry: string }) => warnings.push(fields) } as unknown as Parameters<typeof listPeople>[1];
  const people = listPeople(gallery, log);
  assert.deepEqual(people.map((p) => [p.name, p.images.length]), [['alice', 1]]);
  assert.deepEqual(warnings.map((w) => w.entry).sort(), [join(gallery, 'alice', 'dangling.jpg'), join(gallery, 'ghost')]);

  const loaded = await loadGallery(gallery, colourPipeline(), new EmbeddingCache(join(dir, 'state', 'embeddings'), 'm', 3));
  assert.deepEqual(loaded.people.map((p) => p.name), ['alice'], 'everyone else still loads');
  assert.deepEqual(loaded.skipped.map((s) => s.file).sort(), [join(gallery, 'alice', 'dangling.jpg'), join(gallery, 'ghost')]);
});
