import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeSettings, loadConfig } from '../../src/config/index.js';
import { DETECTOR_KEYS } from '../../src/face/detect/registry.js';
import { createFaceDetector } from '../../src/face/detect/faces.js';
import { LIVENESS_KEYS } from '../../src/face/liveness/stage.js';
import { GALLERY_STORE_KEYS } from '../../src/gallery/stores.js';
import { parseMetadata, towerDefaults } from '../../src/model/metadata.js';
import { TOWER_IDS, TOWERS } from '../../src/model/tower-registry.js';

/** Config choices, docs, metadata validation and CLI help come from the registries (issue 10 item 4). */

const docOf = (key: string) => describeSettings().find((s) => s.key === key)?.doc ?? '';

test('vision.detector accepts exactly the registered detectors and its doc lists them', () => {
  for (const key of DETECTOR_KEYS) assert.equal(loadConfig({ env: { FACEGATE_DETECTOR: key } }).get('vision.detector'), key);
  assert.throws(() => loadConfig({ env: { FACEGATE_DETECTOR: 'blaze' } }), /vision\.detector/);
  for (const key of DETECTOR_KEYS) assert.match(docOf('vision.detector'), new RegExp(`"${key}"`));
});

test('liveness.mode and gallery.store take their choices from their registries', () => {
  assert.ok(LIVENESS_KEYS.includes('off') && LIVENESS_KEYS.includes('burst') && GALLERY_STORE_KEYS.includes('folder'));
  assert.equal(loadConfig({ env: {} }).get('liveness.mode'), 'auto');
  assert.equal(loadConfig({ env: {} }).get('gallery.store'), 'folder');
  for (const key of LIVENESS_KEYS) assert.equal(loadConfig({ env: { FACEGATE_LIVENESS_MODE: key } }).get('liveness.mode'), key);
  assert.throws(() => loadConfig({ env: { FACEGATE_LIVENESS_MODE: 'blink' } }), /liveness\.mode.*auto, off, burst, infrared/s);
  assert.throws(() => loadConfig({ env: { FACEGATE_GALLERY_STORE: 'fleet' } }), /gallery\.store/);
  for (const key of LIVENESS_KEYS) assert.match(docOf('liveness.mode'), new RegExp(`"${key}"`));
});

test('a detector is built through the registry by its key', async () => {
  const vision = { detector: 'fixed', inputSize: 320, minConfidence: 0.5, padding: 0, fixedCrop: { x: 10, y: 20, size: 30 } };
  const detector = await createFaceDetector(vision);
  assert.equal(detector.name, 'fixed');
  const [face] = await detector.detect({ data: new Uint8Array(100 * 100 * 3), width: 100, height: 100 });
  assert.deepEqual(face?.box, { x: 10, y: 20, width: 30, height: 30, score: 1 });
  await assert.rejects(createFaceDetector({ ...vision, detector: 'blaze' }), /unknown face detector "blaze" \(known: tiny, ssd, blazeface, blazeface-landmarks68, fixed\)/);
});

test('model metadata accepts every registered tower, with its shape, and names them when refusing one', () => {
  for (const tower of TOWER_IDS) {
    const metadata = towerDefaults(tower);
    assert.equal(metadata.inputSize, TOWERS[tower].inputSize);
    assert.equal(parseMetadata(JSON.parse(JSON.stringify(metadata))).tower, tower);
  }
  assert.throws(() => parseMetadata({ ...towerDefaults(), tower: 'arcface' }), new RegExp(`known: ${TOWER_IDS.join(', ')}`));
});
