import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { tf, type Tensor4D } from '../../src/model/tf.js';
import { initBackend } from '../../src/model/backend.js';
import { registerWasmTrainingKernels } from '../../src/training/wasm-grads.js';

/** A small seeded generator so that a failure can be reproduced. */
function randomData(size: number, seed: number): Float32Array {
  let state = seed >>> 0;
  return Float32Array.from({ length: size }, () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32 - 0.5;
  });
}

type Shape4 = [number, number, number, number];

/** Gradients of sum(conv2d(x, w) * upstream) with respect to x and w, computed on one backend. */
function convGrads(backend: string, xShape: Shape4, wShape: Shape4, seed: number): { dx: Float32Array; dw: Float32Array } {
  tf.setBackend(backend);
  return tf.tidy(() => {
    const x = tf.tensor4d(randomData(xShape.reduce((a, b) => a * b), seed), xShape);
    const w = tf.tensor4d(randomData(wShape.reduce((a, b) => a * b), seed + 1), wShape);
    const outShape: Shape4 = [xShape[0], xShape[1] - wShape[0] + 1, xShape[2] - wShape[1] + 1, wShape[3]];
    const upstream = tf.tensor4d(randomData(outShape.reduce((a, b) => a * b), seed + 2), outShape);
    const [dx, dw] = tf.grads((a, b) => tf.conv2d(a as Tensor4D, b as Tensor4D, 1, 'valid').mul(upstream).sum())([x, w]);
    return { dx: dx!.dataSync() as Float32Array, dw: dw!.dataSync() as Float32Array };
  });
}

/** Largest |a-b| relative to the largest magnitude in the reference. */
function relativeError(actual: Float32Array, expected: Float32Array): number {
  assert.equal(actual.length, expected.length);
  let scale = 1e-12;
  let worst = 0;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]!));
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!));
  return worst / scale;
}

before(async () => {
  await initBackend('wasm');
});

after(() => {
  tf.setBackend('wasm');
});

test('registration happens only on wasm and is idempotent', () => {
  tf.setBackend('cpu');
  assert.equal(registerWasmTrainingKernels(), false);
  tf.setBackend('wasm');
  assert.equal(registerWasmTrainingKernels(), true);
  const first = tf.getKernel('Conv2DBackpropFilter', 'wasm');
  assert.equal(registerWasmTrainingKernels(), true);
  assert.equal(tf.getKernel('Conv2DBackpropFilter', 'wasm'), first, 'a second call must not wrap the kernels again');
});

const cases: Array<{ name: string; x: Shape4; w: Shape4 }> = [
  { name: 'one image, one channel, square kernel', x: [1, 7, 7, 1], w: [3, 3, 1, 2] },
  { name: 'batch 3, RGB, rectangular image', x: [3, 12, 9, 3], w: [4, 4, 3, 5] },
  { name: 'batch 2, many channels, rectangular kernel', x: [2, 10, 11, 16], w: [5, 2, 16, 8] },
  { name: 'the seed first layer shape at small batch', x: [2, 20, 20, 3], w: [10, 10, 3, 4] },
  { name: 'kernel as large as the image', x: [4, 6, 6, 2], w: [6, 6, 2, 3] },
];

for (const [index, c] of cases.entries()) {
  test(`conv gradients match the cpu backend: ${c.name}`, () => {
    registerWasmTrainingKernels();
    const wasm = convGrads('wasm', c.x, c.w, 100 + index);
    const cpu = convGrads('cpu', c.x, c.w, 100 + index);
    tf.setBackend('wasm');
    assert.ok(relativeError(wasm.dw, cpu.dw) < 1e-4, `filter gradient differs: ${relativeError(wasm.dw, cpu.dw)}`);
    assert.ok(relativeError(wasm.dx, cpu.dx) < 1e-4, `input gradient differs: ${relativeError(wasm.dx, cpu.dx)}`);
  });
}

test('strided convolution still gets its input gradient from the original kernel', () => {
  registerWasmTrainingKernels();
  const grad = (backend: string) => {
    tf.setBackend(backend);
    return tf.tidy(() => {
      const x = tf.tensor4d(randomData(2 * 9 * 9 * 3, 7), [2, 9, 9, 3]);
      const w = tf.tensor4d(randomData(3 * 3 * 3 * 4, 8), [3, 3, 3, 4]);
      return tf.grad((a) => tf.conv2d(a as Tensor4D, w, 2, 'same').square().sum())(x).dataSync() as Float32Array;
    });
  };
  const wasm = grad('wasm');
  const cpu = grad('cpu');
  tf.setBackend('wasm');
  assert.ok(relativeError(wasm, cpu) < 1e-4);
});

test('matmuls asking for a transpose give the same numbers, batched or not', () => {
  registerWasmTrainingKernels();
  for (const [transposeA, transposeB] of [[true, false], [false, true], [true, true]] as const) {
    const product = (backend: string) => {
      tf.setBackend(backend);
      return tf.tidy(() => {
        const a = tf.tensor3d(randomData(2 * 6 * 5, 11), transposeA ? [2, 5, 6] : [2, 6, 5]);
        const b = tf.tensor3d(randomData(2 * 5 * 4, 12), transposeB ? [2, 4, 5] : [2, 5, 4]);
        return tf.matMul(a, b, transposeA, transposeB).dataSync() as Float32Array;
      });
    };
    const wasm = product('wasm');
    const cpu = product('cpu');
    assert.equal(wasm.length, 2 * 6 * 4);
    assert.ok(relativeError(wasm, cpu) < 1e-5, `transposeA=${transposeA} transposeB=${transposeB}`);
  }
  tf.setBackend('wasm');
});

test('the added kernels free their intermediates', () => {
  registerWasmTrainingKernels();
  tf.setBackend('wasm');
  convGrads('wasm', [2, 8, 8, 3], [3, 3, 3, 4], 1); // warm up anything cached once
  // The backend's own count: intermediates never become engine tensors, so tf.memory() would not see a leak.
  const before = tf.engine().backend.numDataIds();
  convGrads('wasm', [2, 8, 8, 3], [3, 3, 3, 4], 1);
  assert.equal(tf.engine().backend.numDataIds(), before);
});

const poolCases: Array<{ name: string; x: Shape4; size: [number, number]; strides: [number, number]; pad: 'same' | 'valid' }> = [
  { name: "the seed's 64x64 window, stride 2, same (first layer shape, few channels)", x: [2, 91, 91, 3], size: [64, 64], strides: [2, 2], pad: 'same' },
  { name: 'window larger than the image (seed third pool)', x: [3, 17, 17, 4], size: [64, 64], strides: [2, 2], pad: 'same' },
  { name: 'rectangular window and strides, valid', x: [2, 23, 30, 5], size: [7, 9], strides: [3, 2], pad: 'valid' },
  { name: 'small 2x2 window (stock forward kernel)', x: [2, 10, 10, 3], size: [2, 2], strides: [2, 2], pad: 'same' },
];

for (const [index, c] of poolCases.entries()) {
  test(`max pool and its gradient match the cpu backend: ${c.name}`, () => {
    registerWasmTrainingKernels();
    const run = (backend: string) => {
      tf.setBackend(backend);
      return tf.tidy(() => {
        const x = tf.tensor4d(randomData(c.x.reduce((a, b) => a * b), 300 + index), c.x);
        const pooled = tf.maxPool(x, c.size, c.strides, c.pad);
        const upstream = tf.tensor4d(randomData(pooled.size, 400 + index), pooled.shape as Shape4);
        const dx = tf.grad((a) => tf.maxPool(a as Tensor4D, c.size, c.strides, c.pad).mul(upstream).sum())(x);
        return { y: pooled.dataSync() as Float32Array, dx: dx.dataSync() as Float32Array };
      });
    };
    const wasm = run('wasm');
    const cpu = run('cpu');
    tf.setBackend('wasm');
    assert.deepEqual(wasm.y, cpu.y, 'pooled values are exact maxima');
    assert.ok(relativeError(wasm.dx, cpu.dx) < 1e-6, `gradient differs: ${relativeError(wasm.dx, cpu.dx)}`);
  });
}

test('a window of only negative values still passes its gradient on (the stock wasm kernel drops it)', () => {
  registerWasmTrainingKernels();
  const run = (backend: string) => {
    tf.setBackend(backend);
    return tf.tidy(() => {
      const x = tf.tensor4d([-3, -1, -2, -4], [1, 2, 2, 1]);
      return tf.grad((a) => tf.maxPool(a as Tensor4D, [2, 2], [2, 2], 'valid').sum())(x).dataSync() as Float32Array;
    });
  };
  assert.deepEqual(Array.from(run('wasm')), [0, 1, 0, 0]);
  assert.deepEqual(Array.from(run('cpu')), [0, 1, 0, 0]);
  tf.setBackend('wasm');
});

test('ties send the gradient to the first maximum in row-major order, like tfjs', () => {
  registerWasmTrainingKernels();
  const run = (backend: string) => {
    tf.setBackend(backend);
    return tf.tidy(() => {
      const x = tf.tensor4d(Float32Array.from({ length: 2 * 12 * 12 }, (_, i) => (i % 5 === 0 ? 1 : 0)), [1, 12, 12, 2]);
      return tf.grad((a) => tf.maxPool(a as Tensor4D, [8, 8], [2, 2], 'same').sum())(x).dataSync() as Float32Array;
    });
  };
  const wasm = run('wasm');
  const cpu = run('cpu');
  tf.setBackend('wasm');
  assert.deepEqual(wasm, cpu);
});
