import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FolderCamera } from '../../src/camera/files.js';
import { PresentationRecorder } from '../../src/collect/presentations.js';
import { listAttackTypes, listPresentations } from '../../src/evaluation/pad/presentations.js';
import { captureLog } from '../daemon/fakes.js';
import { tempDir } from '../helpers/cli.js';

test('collect --attack records bursts and single frames where evaluate-pad finds them, by attack type', async (t) => {
  const dir = tempDir(t);
  const cameraDir = join(dir, 'camera');
  mkdirSync(cameraDir);
  for (const name of ['000.jpg', '001.jpg', '002.jpg']) writeFileSync(join(cameraDir, name), name);
  const camera = new FolderCamera(cameraDir, captureLog().log);
  await camera.start();
  try {
    const attack = new PresentationRecorder({ camera, dataDir: dir, target: { kind: 'attack', type: 'print' }, burst: { count: 3, durationMs: 500 } });
    await attack.open();
    const burst = await attack.record('burst');
    assert.equal(burst.frames, 3);
    assert.deepEqual(readdirSync(burst.path), ['000.jpg', '001.jpg', '002.jpg']);
    await attack.record('single');
    assert.equal(attack.count, 2);
    const bonaFide = new PresentationRecorder({ camera, dataDir: dir, target: { kind: 'bona-fide' }, burst: { count: 3, durationMs: 500 } });
    await bonaFide.open();
    await bonaFide.record('burst');
    const types = await listAttackTypes(join(dir, 'pad', 'attack'));
    assert.deepEqual(Object.keys(types), ['print']);
    assert.deepEqual(types.print!.map((p) => p.kind).sort(), ['burst', 'single']);
    assert.deepEqual((await listPresentations(join(dir, 'pad', 'bona-fide'))).map((p) => p.kind), ['burst']);
    // A later session counts what is there already.
    const again = new PresentationRecorder({ camera, dataDir: dir, target: { kind: 'attack', type: 'print' }, burst: { count: 3, durationMs: 500 } });
    await again.open();
    assert.equal(again.count, 2);
  } finally {
    await camera.stop();
  }
  assert.throws(() => new PresentationRecorder({ camera, dataDir: dir, target: { kind: 'attack', type: '../etc' }, burst: { count: 1, durationMs: 1 } }), /names a folder/);
});
