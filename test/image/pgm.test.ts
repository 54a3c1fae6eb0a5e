import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { decodePgm, isPgm, PgmError } from '../../src/image/pgm.js';
import { needOrl, orlDir } from '../helpers/datasets.js';

const ascii = (s: string) => Buffer.from(s, 'latin1');

test('P5 with a comment in the header decodes byte for byte', () => {
  const header = ascii('P5\n# made by hand\n3 2\n255\n');
  const pixels = Buffer.from([0, 10, 20, 200, 250, 255]);
  const img = decodePgm(Buffer.concat([header, pixels]));
  assert.deepEqual([img.width, img.height], [3, 2]);
  assert.deepEqual([...img.data], [...pixels]);
});

test('P2 (ASCII) with maxval 15 is scaled to 0..255', () => {
  const img = decodePgm(ascii('P2\n2 2\n15\n0 15\n# mid-raster comment\n5 10\n'));
  assert.deepEqual([...img.data], [0, 255, 85, 170]);
});

test('16-bit P5 samples are big-endian and scaled down', () => {
  const header = ascii('P5 2 1 65535\n');
  const img = decodePgm(Buffer.concat([header, Buffer.from([0xff, 0xff, 0x80, 0x00])]));
  assert.deepEqual([...img.data], [255, 128]);
});

test('truncated raster, bad header and non-PGM bytes are PgmErrors that say what is wrong', () => {
  assert.throws(() => decodePgm(Buffer.concat([ascii('P5\n4 4\n255\n'), Buffer.alloc(10)])), (e: unknown) => e instanceof PgmError && /truncated: 10 of 16/.test(e.message));
  assert.throws(() => decodePgm(ascii('P5\n4 x\n255\n')), /height is not a number/);
  assert.throws(() => decodePgm(ascii('P5\n4 4\n')), /truncated before maxval/);
  assert.throws(() => decodePgm(ascii('P5\n0 4\n255\n')), /empty size/);
  assert.throws(() => decodePgm(ascii('P2\n2 1\n10\n3 11\n')), /exceeds maxval/);
  assert.throws(() => decodePgm(ascii('P6\n1 1\n255\n...')), /not a PGM/);
  assert.equal(isPgm(ascii('P5\n')), true);
  assert.equal(isPgm(ascii('P5x')), false);
});

test('an ORL file decodes to 92x112', { skip: needOrl() }, () => {
  const img = decodePgm(readFileSync(join(orlDir, 's1', '1.pgm')));
  assert.deepEqual([img.width, img.height], [92, 112]);
  const distinct = new Set(img.data);
  assert.ok(distinct.size > 50, `a real photo has many grey levels, got ${distinct.size}`);
});
