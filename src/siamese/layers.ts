import { tf } from './tf.js';
import type { Tensor } from './tf.js';

type Kwargs = Record<string, unknown>;
type ShapeLike = Array<number | null>;

/**
 * The seed's `L1Dist` layer: element-wise |a - b| of two embeddings, no weights.
 *
 * Registered under the class name `L1Dist` (exactly what `tensorflowjs_converter` writes for the seed's
 * Python class), so a converted Keras model deserialises without any custom-object mapping.
 */
export class L1Dist extends tf.layers.Layer {
  static readonly className = 'L1Dist';

  override computeOutputShape(inputShape: ShapeLike | ShapeLike[]): ShapeLike {
    const shapes = inputShape as ShapeLike[];
    if (!Array.isArray(shapes[0])) throw new Error('L1Dist expects two inputs [a, b]');
    return shapes[0];
  }

  override call(inputs: Tensor | Tensor[], _kwargs: Kwargs): Tensor {
    return tf.tidy(() => {
      if (!Array.isArray(inputs) || inputs.length !== 2) {
        throw new Error(`L1Dist expects two inputs [a, b], got ${Array.isArray(inputs) ? inputs.length : 1}`);
      }
      const [a, b] = inputs as [Tensor, Tensor];
      return tf.abs(tf.sub(a, b));
    });
  }

  override getClassName(): string {
    return L1Dist.className;
  }
}

let registered = false;

/** Makes `L1Dist` known to tfjs deserialisation. Safe to call any number of times. */
export function registerCustomLayers(): void {
  if (registered) return;
  tf.serialization.registerClass(L1Dist);
  registered = true;
}

registerCustomLayers();

/** The seed's distance layer, named as the seed names it. */
export function l1Dist(name = 'distance'): L1Dist {
  return new L1Dist({ name });
}
