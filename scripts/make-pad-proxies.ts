/**
 * Writes the project's presentation-attack PROXIES from ORL (never into the repository: pass a temp folder)
 * in the layout `facegate evaluate-pad` reads:
 *   OUT/bona-fide/sN-K.jpg          single frames of real ORL captures (in the proxy scene, with sensor noise)
 *   OUT/bona-fide/sN-live-a/000.jpg live-like bursts: captures 1-5 (a) and 6-10 (b) of one person
 *   OUT/attack/<type>/sN.jpg        single frames of the eight single-image attack types
 *   OUT/attack/<type>/sN/000.jpg    bursts: still-print, moved-print, still-phone, moved-phone, and
 *                                   replay-phone (a video of the person on a phone: NOT stopped by the burst checks)
 *
 *   node --import tsx scripts/make-pad-proxies.ts --out /tmp/pad-proxies [--subjects 40] [--frames 5]
 *   node dist/cli.js evaluate-pad --bona-fide /tmp/pad-proxies/bona-fide --attack /tmp/pad-proxies/attack
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { decodeImage } from '../src/image/image.js';
import { attackBurst, BURST_ATTACK_TYPES, bonaFideFrame, liveBurst, replayBurst, singleAttackFrame, SINGLE_ATTACK_TYPES } from '../src/evaluation/pad/proxies.js';
import { needOrl, orlDir } from '../test/helpers/datasets.js';

const { values } = parseArgs({ options: { out: { type: 'string' }, subjects: { type: 'string', default: '40' }, frames: { type: 'string', default: '5' } } });
if (!values.out) {
  console.error('usage: make-pad-proxies.ts --out DIR [--subjects 40] [--frames 5]');
  process.exit(64);
}
const missing = needOrl();
if (missing) {
  console.error(missing);
  process.exit(2);
}
const out = values.out;
const frames = Number(values.frames);
const write = async (path: string, data: Buffer) => {
  await mkdir(join(path, '..'), { recursive: true });
  await writeFile(path, data);
};
const writeBurst = async (dir: string, burst: Buffer[]) => {
  for (const [i, frame] of burst.entries()) await write(join(dir, `${String(i).padStart(3, '0')}.jpg`), frame);
};

for (let s = 1; s <= Number(values.subjects); s++) {
  const subject = `s${s}`;
  const captures = await Promise.all([1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map(async (n) => decodeImage(await readFile(join(orlDir, subject, `${n}.pgm`)))));
  for (const k of [1, 6]) await write(join(out, 'bona-fide', `${subject}-${k}.jpg`), await bonaFideFrame(captures[k - 1]!, s * 100 + k));
  await writeBurst(join(out, 'bona-fide', `${subject}-live-a`), await liveBurst(captures.slice(0, frames), s * 100 + 11));
  await writeBurst(join(out, 'bona-fide', `${subject}-live-b`), await liveBurst(captures.slice(5, 5 + frames), s * 100 + 12));
  const photo = captures[s % 5]!;
  for (const [i, type] of SINGLE_ATTACK_TYPES.entries()) await write(join(out, 'attack', type, `${subject}.jpg`), await singleAttackFrame(photo, type, s * 100 + 20 + i));
  for (const [i, type] of BURST_ATTACK_TYPES.entries()) await writeBurst(join(out, 'attack', type, subject), await attackBurst(photo, type, frames, s * 100 + 40 + i));
  await writeBurst(join(out, 'attack', 'replay-phone', subject), await replayBurst(captures.slice(5, 5 + frames), s * 100 + 50));
}
console.log(`proxies written to ${out} (ORL-generated: not real prints, phones or people)`);
