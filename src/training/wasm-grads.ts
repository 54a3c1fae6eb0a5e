import { tf } from '../model/tf.js';

/**
 * Gradient kernels that let tfjs 4.22's wasm backend train a conv net.
 *
 * As shipped, wasm has no `Conv2DBackpropFilter` (training a Conv2D throws) and its `Conv2DBackpropInput` is a
 * plain scalar loop, far slower than the XNNPACK convolution wasm uses forward. For the case the seed tower
 * needs (stride 1, dilation 1, `valid` padding, channels last) both gradients are themselves convolutions:
 *
 * - filter gradient: dW[kh,kw,ci,co] = sum over n,oh,ow of x[n,oh+kh,ow+kw,ci] * dy[n,oh,ow,co]. Treating the
 *   input channel as the batch and the batch as the channel, that is conv2d(x^T [Cin,H,W,N], dy^T [OH,OW,N,Cout])
 *   -> [Cin,KH,KW,Cout], transposed back to [KH,KW,Cin,Cout].
 * - input gradient: dx = a "full" convolution of dy (padded by K-1 on every side) with the kernel flipped in
 *   space and its in/out channels swapped.
 *
 * Every other case falls back to the original kernel (or throws the original "not registered" error for the
 * filter gradient). MatMuls that ask for a transposed operand are handed an explicitly transposed copy instead,
 * because wasm's BatchMatMul is much slower on the transposed path, and Dense backprop asks for it every step.
 *
 * Max pooling with a large window (the faithful seed pools 64x64 windows) is computed separably, rows then
 * columns, with a running-max scheme whose cost does not depend on the window (van Herk / Gil-Werman); the stock
 * kernels visit every window element for every output and dominate a training step at that size.
 */

/** The pieces of a kernel call we rely on; tfjs' own types are not exported from the CommonJS entry point. */
interface TensorInfo {
  dataId: object;
  shape: number[];
  dtype: string;
}
interface WasmBackendLike {
  disposeData(dataId: object, force?: boolean): boolean;
  makeOutput(shape: number[], dtype: string): TensorInfo;
  typedArrayFromHeap(info: TensorInfo): Float32Array;
}
type KernelFunc = (args: { inputs: Record<string, TensorInfo>; backend: WasmBackendLike; attrs?: Record<string, unknown> }) => TensorInfo;

let registered = false;

function kernelOf(name: string): KernelFunc | null {
  const config = tf.getKernel(name, 'wasm');
  return config ? (config.kernelFunc as unknown as KernelFunc) : null;
}

function required(name: string): KernelFunc {
  const kernel = kernelOf(name);
  if (!kernel) throw new Error(`wasm backend lacks the ${name} kernel the training gradients are built from`);
  return kernel;
}

/** True when a conv gradient with these attributes is the plain case our convolution identities cover. */
function isPlainValidConv(attrs: Record<string, unknown>): boolean {
  const strides = attrs.strides as number | number[];
  const stridesOne = Array.isArray(strides) ? strides.every((s) => s === 1) : strides === 1;
  const dilations = attrs.dilations as number | number[] | undefined;
  const dilationsOne = dilations === undefined || (Array.isArray(dilations) ? dilations.every((d) => d === 1) : dilations === 1);
  const format = (attrs.dataFormat as string | undefined) ?? 'NHWC';
  return stridesOne && dilationsOne && attrs.pad === 'valid' && (format === 'NHWC' || format === 'channelsLast');
}

/** Runs wasm kernels in sequence and frees every intermediate; only the returned result survives. */
class Scratch {
  private readonly temporaries: TensorInfo[] = [];
  constructor(private readonly backend: WasmBackendLike) {}
  run(kernel: KernelFunc, inputs: Record<string, TensorInfo>, attrs: Record<string, unknown>): TensorInfo {
    const out = kernel({ inputs, backend: this.backend, attrs });
    this.temporaries.push(out);
    return out;
  }
  /** Frees everything except `keep`. */
  finish(keep: TensorInfo): TensorInfo {
    for (const t of this.temporaries) if (t !== keep) this.backend.disposeData(t.dataId);
    return keep;
  }
}

function convAttrs(pad: unknown): Record<string, unknown> {
  return { strides: [1, 1], pad, dataFormat: 'NHWC', dilations: [1, 1], dimRoundingMode: undefined };
}

function conv2dBackpropFilter(original: KernelFunc | null): KernelFunc {
  const conv = required('Conv2D');
  const transpose = required('Transpose');
  return (args) => {
    const attrs = args.attrs ?? {};
    if (!isPlainValidConv(attrs)) {
      if (original) return original(args);
      throw new Error('Conv2DBackpropFilter on wasm supports only stride 1, dilation 1, valid padding, NHWC');
    }
    const { x, dy } = args.inputs as { x: TensorInfo; dy: TensorInfo };
    const scratch = new Scratch(args.backend);
    const xByChannel = scratch.run(transpose, { x: x }, { perm: [3, 1, 2, 0] }); // [Cin,H,W,N]
    const dyAsFilter = scratch.run(transpose, { x: dy }, { perm: [1, 2, 0, 3] }); // [OH,OW,N,Cout]
    const grad = scratch.run(conv, { x: xByChannel, filter: dyAsFilter }, convAttrs('valid')); // [Cin,KH,KW,Cout]
    const result = scratch.run(transpose, { x: grad }, { perm: [1, 2, 0, 3] }); // [KH,KW,Cin,Cout]
    return scratch.finish(result);
  };
}

function conv2dBackpropInput(original: KernelFunc): KernelFunc {
  const conv = required('Conv2D');
  const transpose = required('Transpose');
  const reverse = required('Reverse');
  return (args) => {
    const attrs = args.attrs ?? {};
    if (!isPlainValidConv(attrs)) return original(args);
    const { dy, filter } = args.inputs as { dy: TensorInfo; filter: TensorInfo };
    const [kh, kw] = filter.shape as [number, number, number, number];
    const scratch = new Scratch(args.backend);
    const flipped = scratch.run(reverse, { x: filter }, { dims: [0, 1] });
    const swapped = scratch.run(transpose, { x: flipped }, { perm: [0, 1, 3, 2] }); // [KH,KW,Cout,Cin]
    const full = [[0, 0], [kh - 1, kh - 1], [kw - 1, kw - 1], [0, 0]];
    const result = scratch.run(conv, { x: dy, filter: swapped }, convAttrs(full)); // [N,H,W,Cin]
    return scratch.finish(result);
  };
}

function batchMatMulWithoutTranspose(original: KernelFunc): KernelFunc {
  const transpose = required('Transpose');
  const lastTwoSwapped = (rank: number) => [...Array(rank - 2).keys(), rank - 1, rank - 2];
  return (args) => {
    const attrs = args.attrs ?? {};
    if (!attrs.transposeA && !attrs.transposeB) return original(args);
    const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
    const scratch = new Scratch(args.backend);
    const plainA = attrs.transposeA ? scratch.run(transpose, { x: a }, { perm: lastTwoSwapped(a.shape.length) }) : a;
    const plainB = attrs.transposeB ? scratch.run(transpose, { x: b }, { perm: lastTwoSwapped(b.shape.length) }) : b;
    const result = scratch.run(original, { a: plainA, b: plainB }, { ...attrs, transposeA: false, transposeB: false });
    return scratch.finish(result);
  };
}


/** A 2-D max pool over NHWC data, as tfjs computes its geometry. */
export interface PoolGeometry {
  n: number; h: number; w: number; c: number;
  oh: number; ow: number;
  kh: number; kw: number;
  sh: number; sw: number;
  padTop: number; padLeft: number;
}

export function poolGeometry(shape: number[], attrs: Record<string, unknown>): PoolGeometry | null {
  if (shape.length !== 4) return null;
  const info = tf.backend_util.computePool2DInfo(
    shape as [number, number, number, number],
    attrs.filterSize as [number, number] | number,
    attrs.strides as [number, number] | number,
    1,
    attrs.pad as 'valid' | 'same' | number,
    attrs.dimRoundingMode as 'floor' | 'round' | 'ceil' | undefined,
  );
  if (info.dilationHeight !== 1 || info.dilationWidth !== 1 || info.dataFormat !== 'channelsLast') return null;
  return {
    n: info.batchSize, h: info.inHeight, w: info.inWidth, c: info.inChannels,
    oh: info.outHeight, ow: info.outWidth,
    kh: info.filterHeight, kw: info.filterWidth,
    sh: info.strideHeight, sw: info.strideWidth,
    padTop: info.padInfo.top, padLeft: info.padInfo.left,
  };
}

/**
 * Windowed max along one line with the FIRST index of the maximum (tfjs' rule for routing gradients), in
 * time linear in the line whatever the window: the line is cut into blocks of the window's length; every
 * window covers the tail of one block and the head of the next, whose running maxima are precomputed.
 */
class LineMax {
  private values = new Float32Array(0);
  private head = new Float32Array(0);
  private headAt = new Int32Array(0);
  private tail = new Float32Array(0);
  private tailAt = new Int32Array(0);

  /** Reads `length` values src[base + i*step], writes `count` maxima (and their line indices) at out[o*outStep]. */
  run(src: Float32Array, base: number, step: number, length: number, window: number, stride: number, pad: number, count: number,
    outMax: Float32Array, outAt: Int32Array, outBase: number, outStep: number): void {
    const span = (count - 1) * stride + window;
    if (this.values.length < span) {
      this.values = new Float32Array(span);
      this.head = new Float32Array(span);
      this.headAt = new Int32Array(span);
      this.tail = new Float32Array(span);
      this.tailAt = new Int32Array(span);
    }
    const { values, head, headAt, tail, tailAt } = this;
    for (let j = 0; j < span; j++) {
      const i = j - pad;
      values[j] = i >= 0 && i < length ? src[base + i * step]! : -Infinity;
    }
    for (let j = 0; j < span; j++) {
      // Strictly greater: on ties the earlier index stays.
      if (j % window === 0 || values[j]! > head[j - 1]!) {
        head[j] = values[j]!;
        headAt[j] = j;
      } else {
        head[j] = head[j - 1]!;
        headAt[j] = headAt[j - 1]!;
      }
    }
    for (let j = span - 1; j >= 0; j--) {
      // Greater or equal while scanning backwards: on ties the earlier index wins.
      if (j === span - 1 || j % window === window - 1 || values[j]! >= tail[j + 1]!) {
        tail[j] = values[j]!;
        tailAt[j] = j;
      } else {
        tail[j] = tail[j + 1]!;
        tailAt[j] = tailAt[j + 1]!;
      }
    }
    for (let o = 0; o < count; o++) {
      const start = o * stride;
      const end = start + window - 1;
      const fromTail = start % window === 0 || tail[start]! >= head[end]!;
      outMax[outBase + o * outStep] = fromTail ? tail[start]! : head[end]!;
      outAt[outBase + o * outStep] = (fromTail ? tailAt[start]! : headAt[end]!) - pad;
    }
  }
}

/**
 * Max pool (into `out`) and/or its gradient (dy routed into `dx` at each window's first maximum), separably:
 * a row pass keeps each row's window maximum and its column, then a column pass over those picks the first
 * row holding the overall maximum. That is the row-major first maximum, as the stock kernels choose.
 */
export function separableMaxPool(x: Float32Array, g: PoolGeometry, out: Float32Array | null, dy: Float32Array | null, dx: Float32Array | null): void {
  const { n, h, w, c, oh, ow } = g;
  const rowMax = new Float32Array(n * h * ow * c);
  const rowCol = new Int32Array(n * h * ow * c);
  const line = new LineMax();
  for (let b = 0; b < n; b++) {
    for (let r = 0; r < h; r++) {
      for (let ch = 0; ch < c; ch++) {
        line.run(x, (b * h + r) * w * c + ch, c, w, g.kw, g.sw, g.padLeft, ow, rowMax, rowCol, (b * h + r) * ow * c + ch, c);
      }
    }
  }
  const colMax = new Float32Array(oh);
  const colRow = new Int32Array(oh);
  for (let b = 0; b < n; b++) {
    for (let oc = 0; oc < ow; oc++) {
      for (let ch = 0; ch < c; ch++) {
        line.run(rowMax, (b * h * ow + oc) * c + ch, ow * c, h, g.kh, g.sh, g.padTop, oh, colMax, colRow, 0, 1);
        for (let or = 0; or < oh; or++) {
          const at = ((b * oh + or) * ow + oc) * c + ch;
          if (out) out[at] = colMax[or]!;
          if (dy && dx) {
            const row = colRow[or]!;
            const col = rowCol[((b * h + row) * ow + oc) * c + ch]!;
            dx[((b * h + row) * w + col) * c + ch]! += dy[at]!;
          }
        }
      }
    }
  }
}

/** Windows at least this large (area) take the separable path; small ones stay with XNNPACK. */
const LARGE_POOL_AREA = 36;

function largePool(x: TensorInfo, attrs: Record<string, unknown>): PoolGeometry | null {
  const geometry = poolGeometry(x.shape, attrs);
  return geometry && geometry.kh * geometry.kw >= LARGE_POOL_AREA ? geometry : null;
}

function maxPoolSeparable(original: KernelFunc): KernelFunc {
  return (args) => {
    const x = args.inputs.x!;
    const geometry = x.dtype === 'float32' ? largePool(x, args.attrs ?? {}) : null;
    if (!geometry) return original(args);
    const out = args.backend.makeOutput([geometry.n, geometry.oh, geometry.ow, geometry.c], 'float32');
    // Views are taken after the last allocation: growing wasm memory would detach them.
    const input = args.backend.typedArrayFromHeap(x);
    separableMaxPool(input, geometry, args.backend.typedArrayFromHeap(out), null, null);
    return out;
  };
}

/**
 * Every float max-pool gradient takes the separable path, not only large windows: the stock wasm MaxPoolGrad
 * (tfjs 4.22) drops the gradient of a window whose values are all negative (checked against the cpu backend
 * in the tests), and the separable pass costs about the same for small windows.
 */
function maxPoolGradSeparable(original: KernelFunc): KernelFunc {
  return (args) => {
    const { dy, input } = args.inputs as { dy: TensorInfo; input: TensorInfo };
    const geometry = input.dtype === 'float32' ? poolGeometry(input.shape, args.attrs ?? {}) : null;
    if (!geometry) return original(args);
    const dx = args.backend.makeOutput(input.shape, 'float32');
    const gradient = args.backend.typedArrayFromHeap(dx);
    gradient.fill(0);
    separableMaxPool(args.backend.typedArrayFromHeap(input), geometry, null, args.backend.typedArrayFromHeap(dy), gradient);
    return dx;
  };
}

function replaceKernel(name: string, build: (original: KernelFunc | null) => KernelFunc): void {
  const existing = tf.getKernel(name, 'wasm');
  const original = existing ? (existing.kernelFunc as unknown as KernelFunc) : null;
  if (existing) tf.unregisterKernel(name, 'wasm');
  tf.registerKernel({ kernelName: name, backendName: 'wasm', kernelFunc: build(original) as never });
}

/**
 * Registers the training kernels when the active backend is wasm. Idempotent: a second call does nothing.
 * Returns true when the wasm training kernels are in place, false when the backend is something else
 * (tfjs-node and cpu train as shipped).
 */
export function registerWasmTrainingKernels(): boolean {
  if (tf.getBackend() !== 'wasm') return false;
  if (registered) return true;
  replaceKernel('Conv2DBackpropFilter', (original) => conv2dBackpropFilter(original));
  replaceKernel('Conv2DBackpropInput', (original) => conv2dBackpropInput(original ?? failing('Conv2DBackpropInput')));
  replaceKernel('BatchMatMul', (original) => batchMatMulWithoutTranspose(original ?? failing('BatchMatMul')));
  replaceKernel('MaxPool', (original) => maxPoolSeparable(original ?? failing('MaxPool')));
  replaceKernel('MaxPoolGrad', (original) => maxPoolGradSeparable(original ?? failing('MaxPoolGrad')));
  registered = true;
  return true;
}

function failing(name: string): KernelFunc {
  return () => {
    throw new Error(`wasm backend has no ${name} kernel`);
  };
}
