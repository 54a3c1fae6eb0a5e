import { createRequire } from 'node:module';
import type { Logger } from '../log.js';
import { tf } from './tf.js';

/**
 * Picks and starts the TensorFlow.js backend once per process.
 *
 * auto: tfjs-node (native TensorFlow, fastest) when installed, else wasm (XNNPACK, the normal case on a Pi and
 * here), else the pure-JS cpu backend. Every backend is loaded through CommonJS so that it registers itself in
 * the same engine that src/model/tf.ts hands out (and that face-api uses).
 */

export type BackendPreference = 'auto' | 'tensorflow' | 'wasm' | 'cpu';

export interface BackendChoice {
  name: string;
  reason: string;
}

export class BackendError extends Error {
  override name = 'BackendError';
}

const require = createRequire(import.meta.url);

let chosen: Promise<BackendChoice> | null = null;

/** Idempotent: the first call decides; later calls (any preference) get that same result. */
export function initBackend(pref: BackendPreference, log?: Logger): Promise<BackendChoice> {
  if (!chosen) {
    chosen = choose(pref, log).catch((err: unknown) => {
      chosen = null; // a failed start may be retried, e.g. with another preference
      throw err;
    });
  }
  return chosen;
}

/** The backend currently running ('' before initBackend or any tensor op). */
export function backendName(): string {
  return tf.getBackend() ?? '';
}

async function choose(pref: BackendPreference, log?: Logger): Promise<BackendChoice> {
  const failures: string[] = [];
  const order: Array<Exclude<BackendPreference, 'auto'>> = pref === 'auto' ? ['tensorflow', 'wasm', 'cpu'] : [pref];
  for (const candidate of order) {
    try {
      const detail = await start(candidate);
      const reason =
        pref === 'auto'
          ? `auto: ${failures.length ? `${failures.join('; ')}; ` : ''}${candidate} ready${detail ? ` (${detail})` : ''}`
          : `requested${detail ? ` (${detail})` : ''}`;
      const choice = { name: tf.getBackend(), reason };
      log?.info({ backend: choice.name, reason }, `tfjs backend: ${choice.name}`);
      return choice;
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      failures.push(`${candidate} unavailable: ${message}`);
      log?.debug({ backend: candidate, err: message }, 'tfjs backend unavailable');
    }
  }
  throw new BackendError(`no usable TensorFlow.js backend for "${pref}": ${failures.join('; ')}`);
}

/** Registers and activates one backend; returns a short detail for the log, throws when it cannot run. */
async function start(name: Exclude<BackendPreference, 'auto'>): Promise<string> {
  if (name === 'tensorflow') return startTensorflow();
  if (name === 'wasm') return startWasm();
  await activate('cpu');
  return '';
}

async function startTensorflow(): Promise<string> {
  try {
    // Registers the "tensorflow" backend in whichever tfjs-core it resolves; checked below.
    require('@tensorflow/tfjs-node');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'MODULE_NOT_FOUND' || code === 'ERR_MODULE_NOT_FOUND') {
      throw new BackendError('@tensorflow/tfjs-node is not installed (optional dependency; needs a native build)');
    }
    throw new BackendError(`@tensorflow/tfjs-node failed to load: ${(err as Error).message}`);
  }
  if (!tf.findBackendFactory('tensorflow')) {
    // A second copy of tfjs-core (version mismatch) would register there, not in our engine.
    throw new BackendError('@tensorflow/tfjs-node registered into a different tfjs-core copy than @tensorflow/tfjs (version mismatch)');
  }
  await activate('tensorflow');
  return '';
}

async function startWasm(): Promise<string> {
  // The CommonJS build registers the "wasm" backend on import and, in Node, locates its .wasm files beside
  // itself. setWasmPaths with a plain filesystem path breaks that (fetch wants a URL: ERR_INVALID_URL).
  require('@tensorflow/tfjs-backend-wasm');
  if (!tf.findBackendFactory('wasm')) throw new BackendError('@tensorflow/tfjs-backend-wasm did not register into our tfjs-core');
  // Ask before activating: the flags decide which .wasm binary is fetched.
  const simd = Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
  // tfjs disables threads under Node (tfjs issue 3830), so this is false here; logged so nobody wonders.
  const threads = Boolean(await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT'));
  await activate('wasm');
  return `simd ${simd ? 'on' : 'off'}, threads ${threads ? 'on' : 'off'}`;
}

async function activate(name: string): Promise<void> {
  const ok = await tf.setBackend(name);
  if (!ok) throw new BackendError(`tf.setBackend("${name}") failed`);
  await tf.ready();
  if (tf.getBackend() !== name) throw new BackendError(`backend "${tf.getBackend()}" runs instead of "${name}"`);
}
