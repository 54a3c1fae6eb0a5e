import { tf, type Tensor, type Tensor1D, type Tensor2D, type Tensor4D } from './tf.js';

/**
 * face-api's tiny face detector and 128-d recognition ResNet, computed with the same operations in the same
 * order (so the same numbers, to the bit: test/model/faceapi-lean.test.ts), but freeing each intermediate
 * tensor as soon as the next layer has read it. Installed on face-api's shared net instances by faceapi.ts.
 *
 * Why: face-api runs each network inside one tf.tidy(), which keeps every layer's output alive until the last
 * layer is done: ~40 MB of tensors at once for a 320 px detection, ~14 MB per face in the ResNet.
 * tfjs-wasm's heap grows to its largest moment and never shrinks; with face-api's own passes it settled at
 * 144 MB in the daemon, with these at 120 MB. Freeing as we go is allowed inside face-api's own tidy() (a
 * tensor disposed early is simply skipped at its end).
 */

interface ConvParams {
  filters: Tensor4D;
  bias: Tensor1D;
}
interface SeparableConvParams {
  depthwise_filter: Tensor4D;
  pointwise_filter: Tensor4D;
  bias: Tensor1D;
}
interface MobilenetParams {
  conv0: ConvParams | SeparableConvParams;
  conv1: SeparableConvParams;
  conv2: SeparableConvParams;
  conv3: SeparableConvParams;
  conv4: SeparableConvParams;
  conv5: SeparableConvParams;
  conv6?: SeparableConvParams;
  conv7?: SeparableConvParams;
  conv8: ConvParams;
}
export interface TinyYoloLike {
  config: { isFirstLayerConv2d?: boolean; withSeparableConvs: boolean; meanRgb?: [number, number, number] };
  params: MobilenetParams | undefined;
  runMobilenet(x: Tensor4D, params: MobilenetParams): Tensor4D;
  forwardInput(input: BatchInput, inputSize: number): Tensor4D;
}
interface BatchInput {
  toBatchTensor(size: number, centred: boolean): Tensor4D;
}

/**
 * face-api's input preparation (the batch at `size` px, float32, minus the mean colour, / 255), each step's
 * input freed once read; the caller owns the result.
 */
function preparedBatch(input: BatchInput, size: number, centred: boolean, meanRgb: readonly number[] | undefined): Tensor4D {
  const batch = then(input.toBatchTensor(size, centred), (b) => tf.cast(b, 'float32'));
  if (!meanRgb) return then(batch, (b) => tf.div(b, 255));
  const mean = tf.concat(meanRgb.map((value) => tf.fill([...batch.shape.slice(0, 3), 1], value, 'float32')), 3);
  const centredBatch = then(batch, (b) => tf.sub(b, mean));
  mean.dispose();
  return then(centredBatch, (c) => tf.div(c, 255));
}

/** Applies `step` to `x` and frees `x` (the previous layer's output, read by nobody else). */
function then<T extends Tensor>(x: T, step: (x: T) => Tensor4D): Tensor4D {
  const next = step(x);
  x.dispose();
  return next;
}

/** face-api's leaky ReLU, relu(x - 0.1 x) + 0.1 x, with its temporaries freed as they are used. */
function leaky(x: Tensor4D): Tensor4D {
  const alpha = tf.scalar(0.10000000149011612);
  const scaled = tf.mul(x, alpha) as Tensor4D;
  alpha.dispose();
  const shifted = tf.relu(then(x, (input) => tf.sub(input, scaled)));
  const out = then(shifted, (relu) => tf.add(relu, scaled));
  scaled.dispose();
  return out;
}

function convLayer(x: Tensor4D, params: ConvParams, padding: 'valid' | 'same'): Tensor4D {
  return then(tf.conv2d(x, params.filters, [1, 1], padding), (conv) => tf.add(conv, params.bias));
}

function separableConv(x: Tensor4D, params: SeparableConvParams): Tensor4D {
  const padded = tf.pad(x, [
    [0, 0],
    [1, 1],
    [1, 1],
    [0, 0],
  ]);
  const conv = then(padded, (p) => tf.separableConv2d(p, params.depthwise_filter, params.pointwise_filter, [1, 1], 'valid'));
  return leaky(then(conv, (c) => tf.add(c, params.bias)));
}

function pool(stride: 1 | 2) {
  return (x: Tensor4D) => tf.maxPool(x, [2, 2], [stride, stride], 'same');
}

/** How many bands of rows the first layer is computed in (see firstLayerInBands). */
const FIRST_LAYER_BANDS = 4;

/**
 * The first layer (3x3 'valid' conv -> leaky -> 2x2 max pool) a band of rows at a time, each band read with
 * the two rows of context a 3x3 kernel needs. Why: at 318x318x16 its output and the leaky ReLU's temporaries
 * are the detector's largest moment (three 6.5 MB tensors at once); in four bands they are a quarter of
 * that. Every output pixel sees the same inputs in the same order, and the bands are an even number of
 * rows (a 2x2 pool never straddles two), so the result is the same to the bit; the equivalence test checks.
 */
function firstLayerInBands(input: Tensor4D, conv0: ConvParams): Tensor4D {
  const [, height, width, channels] = input.shape;
  const rows = height - 2;
  const whole = () => then(leaky(convLayer(input, conv0, 'valid')), pool(2));
  if (rows % 2 !== 0 || rows < 4 * FIRST_LAYER_BANDS) return whole();
  const bandRows = 2 * Math.ceil(rows / FIRST_LAYER_BANDS / 2);
  const pooled: Tensor4D[] = [];
  for (let top = 0; top < rows; top += bandRows) {
    const band = tf.slice(input, [0, top, 0, 0], [-1, Math.min(bandRows, rows - top) + 2, width, channels]);
    pooled.push(then(leaky(then(band, (b) => convLayer(b, conv0, 'valid'))), pool(2)));
  }
  const out = tf.concat(pooled, 1);
  for (const band of pooled) band.dispose();
  return out;
}

/** Replaces the net's runMobilenet (TinyFaceDetector's body) with the memory-lean twin above. */
export function makeTinyDetectorLean(net: TinyYoloLike): void {
  if (!net.config.withSeparableConvs) return;
  const firstIsConv = net.config.isFirstLayerConv2d === true;
  net.runMobilenet = (input, params) => {
    let out = then(input, (x) => (firstIsConv ? firstLayerInBands(x, params.conv0 as ConvParams) : then(separableConv(x, params.conv0 as SeparableConvParams), pool(2))));
    for (const layer of [params.conv1, params.conv2, params.conv3, params.conv4, params.conv5]) {
      out = then(then(out, (x) => separableConv(x, layer)), pool(layer === params.conv5 ? 1 : 2));
    }
    if (params.conv6) out = then(out, (x) => separableConv(x, params.conv6!));
    if (params.conv7) out = then(out, (x) => separableConv(x, params.conv7!));
    return then(out, (x) => convLayer(x, params.conv8, 'valid'));
  };
  net.forwardInput = (input, inputSize) => {
    const params = net.params;
    if (!params) throw new Error('TinyYolov2 - load model before inference');
    return tf.tidy(() => net.runMobilenet(preparedBatch(input, inputSize, false, net.config.meanRgb), params));
  };
}

interface ScaledConvParams {
  conv: ConvParams;
  scale: { weights: Tensor1D; biases: Tensor1D };
}
interface ResidualParams {
  conv1: ScaledConvParams;
  conv2: ScaledConvParams;
}
interface ResNetParams {
  conv32_down: ScaledConvParams;
  conv32_1: ResidualParams;
  conv32_2: ResidualParams;
  conv32_3: ResidualParams;
  conv64_down: ResidualParams;
  conv64_1: ResidualParams;
  conv64_2: ResidualParams;
  conv64_3: ResidualParams;
  conv128_down: ResidualParams;
  conv128_1: ResidualParams;
  conv128_2: ResidualParams;
  conv256_down: ResidualParams;
  conv256_1: ResidualParams;
  conv256_2: ResidualParams;
  conv256_down_out: ResidualParams;
  fc: Tensor2D;
}
export interface RecognitionNetLike {
  params: ResNetParams | undefined;
  forwardInput(input: BatchInput): Tensor2D;
}

/** dlib's mean face colour, which face-api's recognition net subtracts before dividing by 255. */
const MEAN_RGB = [122.782, 117.001, 104.298] as const;

/** conv -> + bias -> x scale + shift (dlib's affine layer) -> relu?, each temporary freed when read. */
function scaledConv(x: Tensor4D, params: ScaledConvParams, stride: 1 | 2, relu: boolean): Tensor4D {
  const conv = tf.conv2d(x, params.conv.filters, [stride, stride], stride === 2 ? 'valid' : 'same');
  const biased = then(conv, (c) => tf.add(c, params.conv.bias));
  const scaled = then(then(biased, (b) => tf.mul(b, params.scale.weights)), (m) => tf.add(m, params.scale.biases));
  return relu ? then(scaled, (s) => tf.relu(s)) : scaled;
}

function residual(x: Tensor4D, params: ResidualParams): Tensor4D {
  const branch = then(scaledConv(x, params.conv1, 1, true), (b) => scaledConv(b, params.conv2, 1, false));
  return tf.relu(then(branch, (b) => tf.add(b, x)));
}

function residualDown(x: Tensor4D, params: ResidualParams): Tensor4D {
  let branch = then(scaledConv(x, params.conv1, 2, true), (b) => scaledConv(b, params.conv2, 1, false));
  let shortcut = tf.avgPool(x, 2, 2, 'valid') as Tensor4D;
  if (shortcut.shape[1] !== branch.shape[1] || shortcut.shape[2] !== branch.shape[2]) {
    for (const axis of [1, 2] as const) {
      const shape = [...branch.shape] as [number, number, number, number];
      shape[axis] = 1;
      const zeros = tf.zeros(shape);
      branch = then(branch, (b) => tf.concat([b, zeros as Tensor4D], axis));
      zeros.dispose();
    }
  }
  if (shortcut.shape[3] !== branch.shape[3]) {
    const zeros = tf.zeros(shortcut.shape);
    shortcut = then(shortcut, (s) => tf.concat([s, zeros as Tensor4D], 3));
    zeros.dispose();
  }
  const sum = tf.add(shortcut, branch) as Tensor4D;
  shortcut.dispose();
  branch.dispose();
  return then(sum, (s) => tf.relu(s));
}

/**
 * Replaces the recognition net's forwardInput with the same computation freeing as it goes (face-api's keeps
 * all ~50 intermediate tensors of a pass until its end: 14 MB for one face, 230 MB for a batch of 16).
 */
export function makeRecognitionNetLean(net: RecognitionNetLike): void {
  net.forwardInput = (input) => {
    const params = net.params;
    if (!params) throw new Error('FaceRecognitionNet - load model before inference');
    return tf.tidy(() => {
      const normalized = preparedBatch(input, 150, true, MEAN_RGB);
      let out = then(then(normalized, (x) => scaledConv(x, params.conv32_down, 2, true)), (c) => tf.maxPool(c, 3, 2, 'valid'));
      for (const layer of [params.conv32_1, params.conv32_2, params.conv32_3]) out = then(out, (x) => residual(x, layer));
      out = then(out, (x) => residualDown(x, params.conv64_down));
      for (const layer of [params.conv64_1, params.conv64_2, params.conv64_3]) out = then(out, (x) => residual(x, layer));
      out = then(out, (x) => residualDown(x, params.conv128_down));
      for (const layer of [params.conv128_1, params.conv128_2]) out = then(out, (x) => residual(x, layer));
      out = then(out, (x) => residualDown(x, params.conv256_down));
      for (const layer of [params.conv256_1, params.conv256_2]) out = then(out, (x) => residual(x, layer));
      out = then(out, (x) => residualDown(x, params.conv256_down_out));
      const pooled = out.mean([1, 2]) as Tensor2D;
      out.dispose();
      return tf.matMul(pooled, params.fc);
    });
  };
}
