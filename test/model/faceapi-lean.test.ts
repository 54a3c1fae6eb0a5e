import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { initBackend } from '../../src/model/backend.js';
import { loadFaceApi } from '../../src/model/faceapi.js';
import { tf, type Tensor, type Tensor4D } from '../../src/model/tf.js';

/**
 * The memory-lean twins of face-api's tiny detector and recognition net (src/model/faceapi-lean.ts) must give
 * face-api's numbers to the bit while holding fewer tensors at once. face-api's own methods stay on the
 * prototype; the lean ones are own properties of the shared net instances.
 */

before(async () => {
  await initBackend('wasm');
});

type Net = Record<string, unknown> & { params: unknown };
const own = (net: Net, method: string) => net[method] as (...args: unknown[]) => Tensor;
const original = (net: Net, method: string) => (Object.getPrototypeOf(net) as Record<string, (...args: unknown[]) => Tensor>)[method]!;

async function peakOf(run: () => Tensor): Promise<{ values: Float32Array; peakMB: number }> {
  let values: Float32Array = new Float32Array();
  const info = await tf.profile(() => {
    const out = run();
    values = out.dataSync() as Float32Array;
    out.dispose();
  });
  return { values, peakMB: (info.peakBytes - tf.memory().numBytes) / 2 ** 20 };
}

test('lean tiny detector: face-api numbers to the bit, under half the tensors at once', async () => {
  const api = await loadFaceApi(['tiny']);
  const net = api.nets.tinyFaceDetector as unknown as Net;
  assert.ok(Object.hasOwn(net, 'runMobilenet') && Object.hasOwn(net, 'forwardInput'), 'the lean twin is installed at load');
  for (const size of [320, 416, 160]) {
    const input = tf.randomUniform([1, size, size, 3], -1, 1, 'float32', size) as Tensor4D;
    // runMobilenet frees its input (it owns it inside forwardInput), so each run gets its own copy.
    const lean = await peakOf(() => own(net, 'runMobilenet').call(net, input.clone(), net.params));
    const faceApi = await peakOf(() => tf.tidy(() => original(net, 'runMobilenet').call(net, input, net.params)));
    input.dispose();
    assert.equal(lean.values.length, faceApi.values.length);
    assert.ok(lean.values.every((v, i) => v === faceApi.values[i]), `${size} px: outputs differ`);
    if (size === 320) assert.ok(lean.peakMB < faceApi.peakMB / 2, `peak ${lean.peakMB.toFixed(1)} MB against face-api's ${faceApi.peakMB.toFixed(1)} MB`);
  }
});

test('lean recognition net: face-api descriptors to the bit for a batch, a fraction of the tensors at once', async () => {
  const api = await loadFaceApi(['recognition']);
  const net = api.nets.faceRecognitionNet as unknown as Net & { computeFaceDescriptor(x: unknown): Promise<Float32Array[]> };
  assert.ok(Object.hasOwn(net, 'forwardInput'));
  const faces = [1, 2, 3].map((seed) => tf.randomUniform([150, 150, 3], 0, 255, 'float32', seed));
  const toInput = async () => (api as unknown as { toNetInput(x: unknown): Promise<unknown> }).toNetInput(faces);
  const input = await toInput();
  const leanRun = await peakOf(() => own(net, 'forwardInput').call(net, input));
  const faceApiRun = await peakOf(() => original(net, 'forwardInput').call(net, input));
  for (const face of faces) face.dispose();
  assert.equal(leanRun.values.length, 3 * 128);
  assert.ok(leanRun.values.every((v, i) => v === faceApiRun.values[i]), 'descriptors differ');
  assert.ok(leanRun.peakMB < faceApiRun.peakMB / 3, `peak ${leanRun.peakMB.toFixed(1)} MB against face-api's ${faceApiRun.peakMB.toFixed(1)} MB`);
});

test('the face-api tower embeds in passes of at most four faces (the heap keeps the largest pass)', async () => {
  const { FaceApiTower } = await import('../../src/model/faceapi-tower.js');
  const passes: number[] = [];
  const net = {
    async computeFaceDescriptor(input: Tensor[]) {
      passes.push(input.length);
      return input.map(() => new Float32Array(128));
    },
  };
  const face = { width: 150, height: 150, data: new Uint8Array(150 * 150 * 3) };
  const before = tf.memory().numTensors;
  const out = await new FaceApiTower(net).embed(Array.from({ length: 10 }, () => face));
  assert.equal(out.length, 10);
  assert.deepEqual(passes, [4, 4, 2]);
  assert.equal(tf.memory().numTensors, before, 'every input tensor freed');
});
