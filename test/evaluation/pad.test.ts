import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { padFigures, thresholdForBpcer, type PadSample } from '../../src/evaluation/pad/metrics.js';
import { listAttackTypes, listPresentations } from '../../src/evaluation/pad/presentations.js';
import { attackBurst, liveBurst, singleAttackFrame, bonaFideFrame } from '../../src/evaluation/pad/proxies.js';
import { decodeImage } from '../../src/image/image.js';
import { needOrl, orlDir } from '../helpers/datasets.js';
import { cli, modelReady, tempDir } from '../helpers/cli.js';

const sample = (score: number | null, passed = score !== null && score >= 1): PadSample => ({ score, passed });

test('APCER per attack type, BPCER, and APCER at BPCER 1 % / 5 % as ISO/IEC 30107-3 defines them', () => {
  // 20 bona fide: one rejected (0.5), one without a face; scores 1.0 .. 1.9 otherwise.
  const bonaFide = [sample(0.5), sample(null), ...Array.from({ length: 18 }, (_, i) => sample(1 + i * 0.05))];
  const attacks = {
    print: [sample(0.2), sample(0.3), sample(1.2), sample(null)], // one of three acquired passes
    phone: [sample(0.1), sample(0.9)],
  };
  const f = padFigures(bonaFide, attacks);
  assert.equal(f.bonaFide.presentations, 20);
  assert.equal(f.bonaFide.noFace, 1);
  assert.equal(f.bonaFide.bpcer, 1 / 19);
  assert.equal(f.attacks.print!.apcer, 1 / 3);
  assert.equal(f.attacks.print!.noFace, 1);
  assert.equal(f.attacks.phone!.apcer, 0);
  assert.equal(f.apcerMax, 1 / 3);
  // BPCER <= 5 % of 19 allows rejecting floor(0.95) = 0 bona fide: the threshold drops to the lowest (0.5),
  // where the phone's 0.9 passes too.
  const at5 = f.atBpcer['5%']!;
  assert.equal(at5.threshold, 0.5);
  assert.equal(at5.bpcer, 0);
  assert.deepEqual(at5.apcer, { print: 1 / 3, phone: 0.5 });
  assert.equal(at5.apcerMax, 0.5);
  assert.equal(thresholdForBpcer([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3, 1.4, 1.5, 1.6, 1.7, 1.8, 1.9, 2.0], 0.05), 0.2);
});

test('presentation layout: files are single images, folders of frames are bursts, attack sub-folders are types', (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, 'bf', 'alice-1'), { recursive: true });
  writeFileSync(join(dir, 'bf', 'a.jpg'), 'x');
  writeFileSync(join(dir, 'bf', 'notes.txt'), 'x');
  for (const f of ['001.jpg', '000.jpg']) writeFileSync(join(dir, 'bf', 'alice-1', f), 'x');
  mkdirSync(join(dir, 'at', 'print', 'b1'), { recursive: true });
  writeFileSync(join(dir, 'at', 'print', 'p.jpg'), 'x');
  writeFileSync(join(dir, 'at', 'print', 'b1', '000.jpg'), 'x');
  writeFileSync(join(dir, 'at', 'loose.jpg'), 'x');
  return (async () => {
    const bf = await listPresentations(join(dir, 'bf'));
    assert.deepEqual(bf.map((p) => [p.kind, p.frames.map((f) => f.split('/').pop())]), [['single', ['a.jpg']], ['burst', ['000.jpg', '001.jpg']]]);
    const types = await listAttackTypes(join(dir, 'at'));
    assert.deepEqual(Object.keys(types), ['attack', 'print']);
    assert.deepEqual(types.print!.map((p) => p.kind), ['burst', 'single']);
  })();
});

test('evaluate-pad on a few generated ORL proxies: bursts separate, single images cannot', { skip: needOrl() || modelReady, timeout: 300_000 }, async (t) => {
  const dir = tempDir(t);
  const bf = join(dir, 'bona-fide');
  const at = join(dir, 'attack');
  for (const s of [4, 16]) {
    const captures = await Promise.all([1, 2, 3, 4, 5].map(async (n) => decodeImage(await readFile(join(orlDir, `s${s}`, `${n}.pgm`)))));
    const put = (path: string, data: Buffer) => (mkdirSync(join(path, '..'), { recursive: true }), writeFileSync(path, data));
    put(join(bf, `s${s}.jpg`), await bonaFideFrame(captures[0]!, s));
    (await liveBurst(captures, s)).forEach((frame, i) => put(join(bf, `s${s}-live`, `00${i}.jpg`), frame));
    put(join(at, 'print', `s${s}.jpg`), await singleAttackFrame(captures[1]!, 'print', s));
    (await attackBurst(captures[1]!, 'moved-print', 5, s)).forEach((frame, i) => put(join(at, 'moved-print', `s${s}`, `00${i}.jpg`), frame));
  }
  const r = await cli(dir, ['evaluate-pad', '--bona-fide', bf, '--attack', at, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout);
  t.diagnostic(JSON.stringify(report.bursts));
  assert.equal(report.mode, 'burst');
  assert.equal(report.bursts.bonaFide.bpcer, 0);
  assert.equal(report.bursts.attacks['moved-print'].apcer, 0);
  // One frame cannot show liveness: every single image, real or not, is refused (BPCER 100 %), and at a
  // threshold that lets real faces through every photo passes too (APCER 100 % at BPCER 1 %).
  assert.equal(report.singleImages.bonaFide.bpcer, 1);
  assert.equal(report.singleImages.atBpcer['1%'].apcerMax, 1);
});

test('evaluate-pad without its folders is a usage error', async (t) => {
  const r = await cli(tempDir(t), ['evaluate-pad', '--attack', 'x']);
  assert.equal(r.code, 64);
  assert.match(r.stderr, /--bona-fide DIR and --attack DIR are required/);
});
