import { createRequire } from 'node:module';
import { tf } from './tf.js';
import type { Tensor } from './tf.js';
import { loadFaceApi } from './faceapi.js';
import { assertFaces, type EmbeddingTower, type RgbImage, type TowerKind } from './towers.js';

const require = createRequire(import.meta.url);

/** The part of face-api's FaceRecognitionNet the tower uses. */
interface DescriptorNet {
  computeFaceDescriptor(input: Tensor[]): Promise<Float32Array | Float32Array[]>;
}

/**
 * face-api's 128-d ResNet (a port of dlib's face recognition net), pretrained and frozen: facegate only trains
 * a head on top. It takes 150x150 RGB 0..255 and normalises internally (mean subtraction), hence preprocessing
 * 'faceapi'. Faces go in as small batches: computeFaceDescriptor stacks an array of 3-d tensors into one forward pass.
 */
export class FaceApiTower implements EmbeddingTower {
  readonly id = 'faceapi-resnet128';
  readonly inputSize = 150;
  readonly embeddingSize = 128;

  constructor(
    private readonly net: DescriptorNet,
    /**
     * Faces per forward pass. Four, not sixteen: tfjs-wasm's heap keeps the size of its largest pass, and on
     * this machine 4 faces a pass ran at 23 ms a face against 22-24 ms for 16 and 26 ms for 1, while 16 left
     * the heap at 120 MB against 83 MB (one run, wasm, 32 faces). A daemon re-embedding a gallery keeps that.
     */
    private readonly batchSize = 4,
  ) {}

  async embed(faces: RgbImage[]): Promise<Float32Array[]> {
    assertFaces(faces, this.inputSize, this.id);
    const out: Float32Array[] = [];
    for (let start = 0; start < faces.length; start += this.batchSize) {
      const chunk = faces.slice(start, start + this.batchSize);
      const tensors = chunk.map((face) => tf.tensor3d(Float32Array.from(face.data), [this.inputSize, this.inputSize, 3]));
      try {
        const descriptors = await this.net.computeFaceDescriptor(tensors);
        out.push(...(Array.isArray(descriptors) ? descriptors : [descriptors]).map((d) => Float32Array.from(d)));
      } finally {
        tensors.forEach((t) => t.dispose());
      }
    }
    return out;
  }

  /** The net is shared process-wide by face-api (loaded once), so a tower never frees it. */
  dispose(): void {}
}

export async function createFaceApiTower(batchSize?: number): Promise<FaceApiTower> {
  const api = await loadFaceApi(['recognition']);
  return new FaceApiTower(api.nets.faceRecognitionNet as unknown as DescriptorNet, batchSize);
}

/**
 * The registry's entry. The weights are frozen and versioned with the npm package, so embeddings are keyed by
 * the package version: a retrained head keeps the dataset cache.
 */
export const faceApiTowerKind: TowerKind = {
  doc: 'trains only the head on cached embeddings (seconds)',
  inputSize: 150,
  embeddingSize: 128,
  preprocessing: 'faceapi',
  embeddingKey: () => `faceapi-resnet128@${(require('@vladmandic/face-api/package.json') as { version: string }).version}`,
  load: createFaceApiTower,
};

