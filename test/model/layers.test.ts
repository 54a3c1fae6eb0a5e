import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { initBackend } from '../../src/model/backend.js';
import { L1Dist, l1Dist, registerCustomLayers } from '../../src/model/layers.js';
import { tf } from '../../src/model/tf.js';

before(async () => {
  await initBackend('wasm');
});

type Symbolic = ReturnType<typeof tf.input>;

function distanceModel() {
  const a = tf.input({ shape: [4], name: 'a' });
  const b = tf.input({ shape: [4], name: 'b' });
  return tf.model({ inputs: [a, b], outputs: l1Dist().apply([a, b]) as Symbolic });
}

test('L1Dist computes |a - b| element-wise on its two inputs and has no weights', () => {
  const model = distanceModel();
  const layer = model.getLayer('distance');
  assert.ok(layer instanceof L1Dist);
  assert.equal(layer.countParams(), 0);
  const a = tf.tensor2d([[1, -2, 3.5, 0], [0, 0, 0, 0]]);
  const b = tf.tensor2d([[4, 2, 3.5, -1], [1, -1, 2, -2]]);
  const out = model.predict([a, b]) as ReturnType<typeof tf.tensor2d>;
  assert.deepEqual(out.arraySync(), [[3, 4, 0, 1], [1, 1, 2, 2]]);
  tf.dispose([a, b, out]);
  model.dispose();
});

test('L1Dist is registered under the exact Keras class name and survives a JSON round trip', async () => {
  registerCustomLayers();
  registerCustomLayers(); // idempotent: a second registration must not throw or change anything
  const model = distanceModel();
  const json = model.toJSON(null, false) as { config: { layers: Array<{ class_name: string; name: string }> } };
  const entry = json.config.layers.find((l) => l.name === 'distance');
  assert.equal(entry?.class_name, 'L1Dist');
  const restored = await tf.models.modelFromJSON({ modelTopology: json } as never);
  assert.ok(restored.getLayer('distance') instanceof L1Dist);
  const a = tf.tensor2d([[1, 2, 3, 4]]);
  const b = tf.tensor2d([[4, 3, 2, 1]]);
  const out = restored.predict([a, b]) as ReturnType<typeof tf.tensor2d>;
  assert.deepEqual(out.arraySync(), [[3, 1, 1, 3]]);
  tf.dispose([a, b, out]);
  model.dispose();
  restored.dispose();
});

test('L1Dist refuses a single input instead of silently returning garbage', () => {
  const layer = l1Dist('lonely');
  const a = tf.tensor2d([[1, 2]]);
  assert.throws(() => layer.apply(a), /two inputs/);
  a.dispose();
});
