import { createRequire } from 'node:module';

/**
 * The one way facegate reaches TensorFlow.js. face-api's node build loads `@tensorflow/tfjs` through
 * CommonJS; importing the ESM build elsewhere would create a second engine with its own backend registry
 * and tensor counts. Loading the CommonJS build here keeps a single engine for everything.
 */
const require = createRequire(import.meta.url);
export const tf: typeof import('@tensorflow/tfjs') = require('@tensorflow/tfjs');
export type { Tensor, Tensor1D, Tensor2D, Tensor3D, Tensor4D, LayersModel } from '@tensorflow/tfjs';
