import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { initBackend } from '../../src/model/backend.js';
import { faceApiDefaults, MetadataError, parseMetadata } from '../../src/model/metadata.js';
import { buildHead, SiameseModel } from '../../src/model/model.js';
import type { EmbeddingTower } from '../../src/model/towers.js';
import { mirrorImage, type RgbImage } from '../../src/image/image.js';
import { embeddingNamespace } from '../../src/face/pipeline.js';

before(async () => {
  await initBackend('wasm');
});

/** A tower that sees left from right: [mean of the left half, mean of the right half, 1]. */
class HalvesTower implements EmbeddingTower {
  readonly id = 'halves';
  readonly inputSize = 4;
  readonly embeddingSize = 3;
  calls: number[] = [];
  async embed(faces: RgbImage[]): Promise<Float32Array[]> {
    this.calls.push(faces.length);
    return faces.map((f) => {
      let left = 0, right = 0;
      for (let y = 0; y < f.height; y++) {
        for (let x = 0; x < f.width; x++) {
          const red = f.data[(y * f.width + x) * 3]!;
          if (x < f.width / 2) left += red;
          else right += red;
        }
      }
      const half = (f.width * f.height) / 2;
      return Float32Array.from([left / half, right / half, 1]);
    });
  }
  dispose(): void {}
}

/** A 4x4 picture, dark on the left and bright on the right. */
function leftDark(): RgbImage {
  const data = new Uint8Array(4 * 4 * 3);
  for (let y = 0; y < 4; y++) for (let x = 0; x < 4; x++) data.fill(x < 2 ? 10 : 200, (y * 4 + x) * 3, (y * 4 + x) * 3 + 3);
  return { data, width: 4, height: 4 };
}

test('mirrorImage swaps columns and keeps rows and channels', () => {
  const img: RgbImage = { data: Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]), width: 2, height: 2 };
  assert.deepEqual(Array.from(mirrorImage(img).data), [4, 5, 6, 1, 2, 3, 10, 11, 12, 7, 8, 9]);
  assert.deepEqual(Array.from(img.data.slice(0, 3)), [1, 2, 3], 'the source is left as it was');
});

test('flipAverage: a face and its mirror embed the same, unit length, in one tower call', async () => {
  const tower = new HalvesTower();
  const model = new SiameseModel(tower, buildHead(3, 0), faceApiDefaults({ embeddingSize: 3, inputSize: 4, flipAverage: true }));
  const face = leftDark();
  const [a, b] = await model.embed([face, mirrorImage(face)]);
  assert.deepEqual(tower.calls, [4], 'the faces and their mirrors go to the tower together');
  // (10 + 200, 200 + 10, 2) / |.|: the halves' means are summed with their mirror's.
  const norm = Math.hypot(210, 210, 2);
  for (const [i, want] of [210 / norm, 210 / norm, 2 / norm].entries()) assert.ok(Math.abs(a![i]! - want) < 1e-6, `value ${i}: ${a![i]} against ${want}`);
  assert.deepEqual(Array.from(a!), Array.from(b!), 'mirror-invariant');
  model.dispose();
});

test('without flipAverage the tower output passes through unchanged', async () => {
  const tower = new HalvesTower();
  const model = new SiameseModel(tower, buildHead(3, 0), faceApiDefaults({ embeddingSize: 3, inputSize: 4 }));
  const [a] = await model.embed([leftDark()]);
  assert.deepEqual(Array.from(a!), [10, 200, 1]);
  assert.deepEqual(tower.calls, [1]);
  assert.deepEqual(await model.embed([]), []);
  model.dispose();
});

test('flipAverage is parsed by field, and changes the gallery cache namespace only when set', () => {
  const base = { ...faceApiDefaults() } as Record<string, unknown>;
  assert.equal(parseMetadata({ ...base, flipAverage: true }).flipAverage, true);
  assert.equal(parseMetadata({ ...base, flipAverage: false }).flipAverage, undefined, 'false is the same as absent');
  assert.throws(() => parseMetadata({ ...base, flipAverage: 'yes' }), (err: unknown) => err instanceof MetadataError && err.field === 'flipAverage');
  const ns = (meta: ReturnType<typeof faceApiDefaults>) => embeddingNamespace({ model: 'm', detector: 'd', settings: { minConfidence: 0.5 }, model_metadata: meta });
  assert.notEqual(ns(faceApiDefaults({ flipAverage: true })), ns(faceApiDefaults()), 'flip-averaged embeddings never mix with plain ones');
  assert.equal(ns(faceApiDefaults({ flipAverage: false })), ns(faceApiDefaults()), 'models without it keep their caches');
});
