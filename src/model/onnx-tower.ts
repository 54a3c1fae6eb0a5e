import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import { assertFaces, type EmbeddingTower, type RgbImage, type TowerKind } from './towers.js';

/**
 * The opt-in 512-d ONNX embedder (ArcFace-style, 112x112 input, NCHW), run with onnxruntime-node.
 *
 * Its weights are not shipped: `npm run model:opt-in` takes `model/fr_feature.onnx` out of the npm package
 * faceplugin-face-recognition-js@0.0.1 into the model folder as embedder.onnx, after checking its sha256 (the
 * provenance of those weights is unclear: models/README.md). onnxruntime-node is an optional peer dependency
 * that the same command installs: 247 MB for every platform's binaries (19 MB of them linux-arm64), so the
 * licence-clean default does not carry it.
 *
 * Why onnxruntime-node and not onnxruntime-web's wasm: the same model, one thread, this machine, same minute:
 * 97 ms against 269 ms per face under load ~7 (2.8x), RSS 101 MB against 216 MB.
 *
 * Preprocessing (measured by the author and checked here): BGR channel order and (x - 127.5) / 128;
 * the package's own code feeds RGB, which costs accuracy.
 */
export const ONNX_TOWER_ID = 'onnx-arcface512';
export const ONNX_EMBEDDER_FILE = 'embedder.onnx';
/** sha256 of fr_feature.onnx in faceplugin-face-recognition-js@0.0.1. */
export const ONNX_EMBEDDER_SHA256 = '87aacdfe57510db2af90c0251df680e8eec88f122ee94712121d09bcaaaf3581';

// The API types live in onnxruntime-common (a small dev dependency); onnxruntime-node implements them.
type Ort = typeof import('onnxruntime-common');
type Session = Awaited<ReturnType<Ort['InferenceSession']['create']>>;

export class OnnxTowerMissingError extends Error {
  override name = 'OnnxTowerMissingError';
}

async function loadOrt(): Promise<Ort> {
  try {
    // A variable specifier: the package is an optional peer, absent from a default install.
    const name = 'onnxruntime-node';
    return (await import(name)) as Ort;
  } catch (err) {
    throw new OnnxTowerMissingError('the opt-in model needs onnxruntime-node, which is not installed: run `npm run model:opt-in` (README, "The opt-in model")', { cause: err });
  }
}

/** RGB bytes -> one NCHW float batch in the model's channel order (BGR) and scale. */
export function facesToNchwBgr(faces: RgbImage[], size: number): Float32Array {
  const plane = size * size;
  const out = new Float32Array(faces.length * 3 * plane);
  faces.forEach((face, n) => {
    const base = n * 3 * plane;
    for (let p = 0; p < plane; p++) {
      out[base + p] = (face.data[p * 3 + 2]! - 127.5) / 128; // B
      out[base + plane + p] = (face.data[p * 3 + 1]! - 127.5) / 128; // G
      out[base + 2 * plane + p] = (face.data[p * 3]! - 127.5) / 128; // R
    }
  });
  return out;
}

export class OnnxTower implements EmbeddingTower {
  readonly id = ONNX_TOWER_ID;
  readonly inputSize = 112;
  readonly embeddingSize = 512;

  constructor(
    private readonly ort: Ort,
    private readonly session: Session,
  ) {}

  async embed(faces: RgbImage[]): Promise<Float32Array[]> {
    assertFaces(faces, this.inputSize, this.id);
    const out: Float32Array[] = [];
    // The exported graph has a fixed batch of 1.
    for (const face of faces) {
      const input = new this.ort.Tensor('float32', facesToNchwBgr([face], this.inputSize), [1, 3, this.inputSize, this.inputSize]);
      const result = await this.session.run({ [this.session.inputNames[0]!]: input });
      const output = result[this.session.outputNames[0]!];
      if (!output || output.data.length !== this.embeddingSize) throw new Error(`${this.id}: expected a ${this.embeddingSize}-d output`);
      // Unit length, so the head's L1 distance behaves like the cosine distance these embedders are trained for.
      const v = Float32Array.from(output.data as Float32Array);
      const norm = Math.hypot(...v) || 1;
      out.push(v.map((x) => x / norm));
    }
    return out;
  }

  dispose(): void {
    void this.session.release();
  }
}

/** Opens `file` after checking it is the expected model; a wrong or truncated file is refused by name. */
export async function createOnnxTower(file: string, expectedSha256 = ONNX_EMBEDDER_SHA256): Promise<OnnxTower> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (err) {
    throw new OnnxTowerMissingError(`${file} is missing: run \`npm run model:opt-in\` to install the opt-in embedder`, { cause: err });
  }
  const sha = createHash('sha256').update(bytes).digest('hex');
  if (sha !== expectedSha256) throw new Error(`${file}: sha256 ${sha} is not the expected ${expectedSha256}; reinstall with \`npm run model:opt-in\``);
  const ort = await loadOrt();
  const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  return new OnnxTower(ort, session);
}

/**
 * The registry's entry. The weights live in the model folder (embedder.onnx), checked against one sha256, so
 * the embedding key names them; `facegate train` cannot build this tower (it needs `npm run model:opt-in`).
 */
export const onnxTowerKind: TowerKind = {
  doc: 'the opt-in 512-d ONNX embedder (models/opt-in; provenance unclear: models/README.md)',
  inputSize: 112,
  embeddingSize: 512,
  preprocessing: 'bgr-127.5/128',
  embeddingKey: () => `${ONNX_TOWER_ID}@fr_feature-${ONNX_EMBEDDER_SHA256.slice(0, 8)}`,
  trainable: false,
  load: (_batchSize, modelDir) => {
    if (!modelDir) return Promise.reject(new OnnxTowerMissingError(`the ${ONNX_TOWER_ID} tower loads from a model folder (models/opt-in)`));
    return createOnnxTower(join(modelDir, ONNX_EMBEDDER_FILE));
  },
};
