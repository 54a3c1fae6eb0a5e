import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { makeRecognitionNetLean, makeTinyDetectorLean, type RecognitionNetLike, type TinyYoloLike } from './faceapi-lean.js';

/**
 * The one adapter for @vladmandic/face-api. Its node-wasm build loads @tensorflow/tfjs and the wasm backend
 * through CommonJS, i.e. the very engine src/model/tf.ts hands out, so tensors flow between them freely.
 * Nets load from the package's own model/ folder: the weights ship in the npm package, nothing is downloaded.
 */

export type FaceApi = typeof import('@vladmandic/face-api/dist/face-api.node-wasm.js');
export type FaceApiNet = 'tiny' | 'ssd' | 'landmarks' | 'recognition';

const require = createRequire(import.meta.url);
const MODULE_PATH = '@vladmandic/face-api/dist/face-api.node-wasm.js';

/** The package's bundled weights (model/*.bin + manifests). */
export const faceApiModelDir = join(dirname(require.resolve('@vladmandic/face-api/package.json')), 'model');

let faceapi: FaceApi | null = null;
const loading = new Map<FaceApiNet, Promise<void>>();

/** The face-api module itself (loaded on first use). */
export function faceApiModule(): FaceApi {
  if (!faceapi) {
    faceapi = require(MODULE_PATH) as FaceApi;
    makeTinyDetectorLean(faceapi.nets.tinyFaceDetector as unknown as TinyYoloLike);
    makeRecognitionNetLean(faceapi.nets.faceRecognitionNet as unknown as RecognitionNetLike);
  }
  return faceapi;
}

/**
 * Loads the named nets once each (concurrent callers share the load) and returns the module, whose
 * `nets.faceRecognitionNet` etc. are then ready. Call initBackend() first so the nets land on the chosen backend.
 */
export async function loadFaceApi(nets: FaceApiNet[]): Promise<FaceApi> {
  const api = faceApiModule();
  await Promise.all(
    nets.map((name) => {
      let pending = loading.get(name);
      if (!pending) {
        const net = netOf(api, name);
        pending = net.isLoaded ? Promise.resolve() : net.loadFromDisk(faceApiModelDir);
        pending = pending.catch((err: unknown) => {
          loading.delete(name); // allow a retry
          throw new Error(`face-api net "${name}" failed to load from ${faceApiModelDir}: ${(err as Error).message}`);
        });
        loading.set(name, pending);
      }
      return pending;
    }),
  );
  return api;
}

function netOf(api: FaceApi, name: FaceApiNet) {
  switch (name) {
    case 'tiny':
      return api.nets.tinyFaceDetector;
    case 'ssd':
      return api.nets.ssdMobilenetv1;
    case 'landmarks':
      return api.nets.faceLandmark68Net;
    case 'recognition':
      return api.nets.faceRecognitionNet;
  }
}
