import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeImage } from '../../src/image/image.js';
import { attackBurst, liveBurst, singleAttackFrame } from '../../src/evaluation/pad/proxies.js';
import { needOrl, orlDir } from '../helpers/datasets.js';
import { cli, modelReady, tempDir } from '../helpers/cli.js';

test('verify: a single print is granted with liveness "not_checked", refused as spoof (exit 4) when liveness is required; --burst judges frames', { skip: needOrl() || modelReady, timeout: 300_000 }, async (t) => {
  const dir = tempDir(t);
  const person = join(dir, 'data', 'gallery', 's16');
  mkdirSync(person, { recursive: true });
  for (const n of [6, 7, 8, 9, 10]) copyFileSync(join(orlDir, 's16', `${n}.pgm`), join(person, `${n}.pgm`));
  const captures = await Promise.all([1, 2, 3, 4, 5].map(async (n) => decodeImage(await readFile(join(orlDir, 's16', `${n}.pgm`)))));
  const print = join(dir, 'print.jpg');
  writeFileSync(print, await singleAttackFrame(captures[0]!, 'print', 7));
  const writeBurst = (name: string, frames: Buffer[]) => {
    mkdirSync(join(dir, name));
    frames.forEach((frame, i) => writeFileSync(join(dir, name, `00${i}.jpg`), frame));
    return join(dir, name);
  };

  const single = await cli(dir, ['verify', '--image', print, '--json']);
  assert.equal(single.code, 0, single.stderr);
  const granted = JSON.parse(single.stdout);
  assert.equal(granted.decision, 'granted', 'the print matches: the attack is real');
  assert.equal(granted.liveness, 'not_checked');

  const required = await cli(dir, ['verify', '--image', print, '--liveness-mode', 'burst', '--json']);
  assert.equal(required.code, 4, required.stderr);
  const refused = JSON.parse(required.stdout);
  assert.equal(refused.decision, 'spoof');
  assert.equal(refused.identity, null);
  assert.match(refused.reason, /single frame cannot show liveness/);
  assert.deepEqual([refused.liveness.mode, refused.liveness.passed], ['burst', false]);

  const human = await cli(dir, ['verify', '--image', print, '--liveness-mode', 'burst']);
  assert.match(human.stdout, /^SPOOF .*single frame cannot show liveness/);

  const moved = await cli(dir, ['verify', '--burst', writeBurst('moved', await attackBurst(captures[0]!, 'moved-print', 5, 3)), '--json']);
  assert.equal(moved.code, 4, moved.stderr);
  assert.match(JSON.parse(moved.stdout).reason, /one flat plane/);

  const liveDir = writeBurst('live', await liveBurst(captures, 5));
  // A corrupt frame in the burst is left out of the check, not fatal (4 good frames remain).
  writeFileSync(join(liveDir, '005.jpg'), Buffer.from([0xff, 0xd8, 0xff, 0x00, 0x12]));
  const live = await cli(dir, ['verify', '--burst', liveDir, '--json']);
  assert.equal(live.code, 0, live.stderr);
  const ok = JSON.parse(live.stdout);
  assert.equal(ok.identity, 's16');
  assert.equal(ok.liveness.passed, true);
  assert.ok(ok.liveness.scores.parallax >= 0.03 && typeof ok.timings.liveness === 'number');
  assert.equal(ok.liveness.scores.frames, 5, 'the corrupt sixth frame was left out');
  assert.match(live.stderr, /corrupt burst frames left out/);
});
