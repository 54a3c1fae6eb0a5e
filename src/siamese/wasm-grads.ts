import { tf } from './tf.js';

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
 */

/** The pieces of a kernel call we rely on; tfjs' own types are not exported from the CommonJS entry point. */
interface TensorInfo {
  dataId: object;
  shape: number[];
  dtype: string;
}
interface WasmBackendLike {
  disposeData(dataId: object, force?: boolean): boolean;
}
type KernelFunc = (args: { inputs: Record<string, TensorInfo>; backend: WasmBackendLike; attrs?: Record<string, unknown> }) => TensorInfo;

const registered = new Set<string>();

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
  if (registered.has('all')) return true;
  replaceKernel('Conv2DBackpropFilter', (original) => conv2dBackpropFilter(original));
  replaceKernel('Conv2DBackpropInput', (original) => conv2dBackpropInput(original ?? failing('Conv2DBackpropInput')));
  replaceKernel('BatchMatMul', (original) => batchMatMulWithoutTranspose(original ?? failing('BatchMatMul')));
  registered.add('all');
  return true;
}

function failing(name: string): KernelFunc {
  return () => {
    throw new Error(`wasm backend has no ${name} kernel`);
  };
}
