import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { initBackend } from '../../src/model/backend.js';
import { fingerprint, loadSiameseModel, ModelLoadError, saveSiameseModel } from '../../src/model/io.js';
import { faceApiDefaults, MetadataError, parseMetadata } from '../../src/model/metadata.js';
import { buildHead, SiameseModel } from '../../src/model/model.js';
import { createFaceApiTower } from '../../src/model/faceapi-tower.js';
import { embeddingNamespace } from '../../src/face/pipeline.js';
import { cacheNamespace } from '../../src/gallery/cache.js';
import { createFaceDetector } from '../../src/face/detect/faces.js';
import { repoRoot } from '../helpers/datasets.js';

let root = '';
before(async () => {
  await initBackend('wasm');
  root = await mkdtemp(join(tmpdir(), 'facegate-pipeline-meta-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

const template = { leftEye: { x: 0.3, y: 0.4 }, rightEye: { x: 0.7, y: 0.4 }, nose: { x: 0.5, y: 0.6 }, mouth: { x: 0.5, y: 0.8 } };
const openSet = { doorFar: 0.001, curve: [{ far: 0.001, detection: 0.8 }, { far: 0.0001, detection: 0.9 }] };

test('a model folder names its detector, crop template and open-set calibration, and they survive a save', async () => {
  const meta = faceApiDefaults({ detector: 'blazeface', crop: { margin: 0, align: false, template }, openSet, created: '2026-01-01T00:00:00.000Z' });
  const model = new SiameseModel(await createFaceApiTower(), buildHead(128, { seed: 3 }), meta);
  const dir = join(root, 'blaze');
  await saveSiameseModel(dir, model, { created: '2026-01-01T00:00:00.000Z' });
  const loaded = await loadSiameseModel(dir);
  assert.equal(loaded.metadata.detector, 'blazeface');
  assert.deepEqual(loaded.metadata.crop.template, template);
  assert.deepEqual(loaded.metadata.openSet, openSet);
  assert.equal(loaded.metadata.created, '2026-01-01T00:00:00.000Z', 'a given creation time is kept, so the same command writes the same bytes');
  const again = join(root, 'blaze-again');
  await saveSiameseModel(again, model, { created: '2026-01-01T00:00:00.000Z' });
  assert.equal(await fingerprint(again), await fingerprint(dir));
  model.dispose();
  loaded.dispose();
});

test('unknown detectors, bad templates and non-monotone open-set curves are refused by field', () => {
  const base = { ...faceApiDefaults() } as Record<string, unknown>;
  const fails = (raw: Record<string, unknown>, field: string) =>
    assert.throws(() => parseMetadata({ ...base, ...raw }), (err: unknown) => err instanceof MetadataError && err.field === field);
  fails({ detector: 'not a key!' }, 'detector');
  fails({ detector: 3 }, 'detector');
  fails({ crop: { margin: 0, align: false, template: { ...template, nose: { x: 2, y: 0.5 } } } }, 'crop.template.nose.x');
  fails({ openSet: { doorFar: 0.001, curve: [{ far: 0.0001, detection: 0.9 }, { far: 0.001, detection: 0.8 }] } }, 'openSet.curve[1]');
  fails({ preprocessing: 'rgb' }, 'preprocessing');
  assert.equal(parseMetadata({ ...base, detector: 'blazeface-landmarks68' }).detector, 'blazeface-landmarks68');
  assert.equal(parseMetadata(base).detector, undefined, 'older models name no detector: the settings decide');
});

test('a model naming a detector gets it whatever vision.detector says; an unknown one is refused by the registry', async () => {
  const vision = { detector: 'tiny', inputSize: 320, minConfidence: 0.5, padding: 0, fixedCrop: { x: 0, y: 0, size: 1 } };
  assert.match((await createFaceDetector(vision, { model: { detector: 'blazeface' } })).name, /^blazeface256/);
  assert.match((await createFaceDetector(vision, { model: {} })).name, /^tiny320/);
  await assert.rejects(createFaceDetector(vision, { model: { detector: 'mtcnn' } }), /unknown face detector "mtcnn"/);
});

test('the gallery cache namespace changes with the detector and the crop, so a changed pipeline re-embeds once', () => {
  // Failed before: nested crop fields (margin, template) never reached the namespace hash.
  const vision = { detector: 'tiny' as const, inputSize: 320, minConfidence: 0.5, padding: 0, fixedCrop: { x: 0, y: 0, size: 1 } };
  const old = faceApiDefaults();
  const blaze = faceApiDefaults({ detector: 'blazeface', crop: { margin: 0, align: false, template } });
  const a = embeddingNamespace({ model: 'm', detector: 'tiny320+retry', settings: vision, model_metadata: old });
  const b = embeddingNamespace({ model: 'm', detector: 'blazeface256+retry0.5', settings: vision, model_metadata: blaze });
  const c = embeddingNamespace({ model: 'm', detector: 'blazeface256+retry0.5', settings: vision, model_metadata: faceApiDefaults({ detector: 'blazeface', crop: { margin: 0, align: false, template: { ...template, mouth: { x: 0.5, y: 0.82 } } } }) });
  assert.notEqual(a, b);
  assert.notEqual(b, c, 'another template is another crop');
  assert.equal(b, embeddingNamespace({ model: 'm', detector: 'blazeface256+retry0.5', settings: vision, model_metadata: blaze }), 'same pipeline, same folder: embedded once');
  const wider = faceApiDefaults({ crop: { margin: 0.1, align: false } });
  assert.notEqual(a, embeddingNamespace({ model: 'm', detector: 'tiny320+retry', settings: vision, model_metadata: wider }), 'another margin is another crop');
  const { inputSize, crop, preprocessing } = old;
  const beforeRevision2 = cacheNamespace({ model: 'm', detector: 'tiny320+retry', minConfidence: 0.5, inputSize, crop, preprocessing });
  assert.notEqual(a, beforeRevision2, 'a gallery embedded before the detector change (PIPELINE_REVISION 2) is embedded again');
});

test('the opt-in model folder without its embedder says how to install it', { skip: false }, async () => {
  const dir = join(root, 'opt-in-copy');
  const { cp } = await import('node:fs/promises');
  await cp(join(repoRoot, 'models', 'opt-in'), dir, { recursive: true, filter: (src) => !src.endsWith('.onnx') });
  await assert.rejects(loadSiameseModel(dir), (err: unknown) => err instanceof Error && /npm run model:opt-in/.test(err.message));
  await writeFile(join(dir, 'embedder.onnx'), 'not a model');
  await assert.rejects(loadSiameseModel(dir), (err: unknown) => err instanceof Error && /sha256/.test(err.message) && !(err instanceof ModelLoadError && err.kind === 'missing'));
  void readFile;
});
