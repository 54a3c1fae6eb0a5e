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

// Keras compatibility: how Keras 2 writes the seed's model, turned into what tfjs layers reads.

type JsonObject = Record<string, unknown>;
const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);
const isTensorRef = (v: unknown): v is [string, number, number] =>
  Array.isArray(v) && v.length === 3 && typeof v[0] === 'string' && typeof v[1] === 'number' && typeof v[2] === 'number';

/** The Keras model config inside a topology: converter output nests it under model_config, tfjs does not. */
function modelConfigOf(topology: unknown): JsonObject {
  const config = isObject(topology) && isObject(topology.model_config) ? topology.model_config : topology;
  if (!isObject(config) || !isObject(config.config)) throw new Error('modelTopology has no model config');
  return config;
}

/**
 * Keras 2 serialises the seed's `L1Dist()(a, b)` call (two positional tensors) as ONE inbound tensor whose
 * kwargs hold the other: `[["embedding", 1, 0, {"validation_embedding": ["embedding", 2, 0]}]]`. tfjs would
 * pass that reference on as a plain array, so such tensor kwargs become a second input, the form tfjs layers
 * take: `[["embedding", 1, 0, {}], ["embedding", 2, 0, {}]]`. Returns a rewritten copy.
 */
export function normalizeKerasTopology(topology: unknown): unknown {
  const copy = structuredClone(topology);
  const visit = (model: JsonObject): void => {
    const layers = (model.config as JsonObject).layers;
    if (!Array.isArray(layers)) return;
    for (const layer of layers as JsonObject[]) {
      if (isObject(layer.config) && Array.isArray(layer.config.layers)) visit(layer);
      if (layer.class_name !== 'L1Dist' || !Array.isArray(layer.inbound_nodes)) continue;
      layer.inbound_nodes = (layer.inbound_nodes as unknown[][][]).map((node) =>
        node.flatMap((entry) => {
          const kwargs = isObject(entry[3]) ? entry[3] : {};
          const refs = Object.values(kwargs).filter(isTensorRef);
          if (refs.length === 0) return [entry];
          const rest = Object.fromEntries(Object.entries(kwargs).filter(([, v]) => !isTensorRef(v)));
          return [[entry[0], entry[1], entry[2], rest], ...refs.map((ref) => [...ref, {}])];
        }),
      );
    }
  };
  visit(modelConfigOf(copy));
  return copy;
}

/**
 * Keras may name the weights of a nested model with the model's name first (`embedding/conv2d/kernel`);
 * tfjs names them by layer alone (`conv2d/kernel`). Strips such a leading nested-model name.
 */
export function stripNestedModelPrefixes<T extends { name: string }>(topology: unknown, specs: T[]): T[] {
  const layers = (modelConfigOf(topology).config as JsonObject).layers;
  const nested = new Set(
    (Array.isArray(layers) ? (layers as JsonObject[]) : [])
      .filter((l) => ['Functional', 'Model', 'Sequential'].includes(String(l.class_name)))
      .map((l) => String((l.config as JsonObject | undefined)?.name ?? l.name)),
  );
  return specs.map((spec) => {
    const [first, ...rest] = spec.name.split('/');
    return first !== undefined && nested.has(first) && rest.length > 0 ? { ...spec, name: rest.join('/') } : spec;
  });
}
