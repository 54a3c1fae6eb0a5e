import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { tf } from './tf.js';

/**
 * Loads a tfjs graph model (model.json + .bin shards, as `tensorflowjs_converter` writes them and as npm model
 * packages ship them) from disk without tfjs-node: tf.loadGraphModel only knows URLs in Node otherwise.
 */
export type GraphModel = Awaited<ReturnType<typeof tf.loadGraphModel>>;

type GraphJson = {
  modelTopology?: unknown;
  format?: string;
  weightsManifest?: Array<{ paths: string[]; weights: unknown[] }>;
};

export async function loadGraphModelFromFile(jsonPath: string): Promise<GraphModel> {
  let json: GraphJson;
  try {
    json = JSON.parse(await readFile(jsonPath, 'utf8')) as GraphJson;
  } catch (err) {
    throw new Error(`graph model ${jsonPath} cannot be read: ${(err as Error).message}`, { cause: err });
  }
  if (json.format !== 'graph-model' || !json.modelTopology || !Array.isArray(json.weightsManifest)) {
    throw new Error(`${jsonPath} is not a tfjs graph model (format ${JSON.stringify(json.format)})`);
  }
  const dir = dirname(jsonPath);
  const shards: Buffer[] = [];
  const weightSpecs: unknown[] = [];
  for (const group of json.weightsManifest) {
    for (const path of group.paths) shards.push(await readFile(join(dir, path)));
    weightSpecs.push(...group.weights);
  }
  const joined = Buffer.concat(shards);
  const weightData = joined.buffer.slice(joined.byteOffset, joined.byteOffset + joined.byteLength);
  const handler = {
    load: async () => ({ modelTopology: json.modelTopology as object, weightSpecs: weightSpecs as never, weightData, format: json.format }),
  };
  return tf.loadGraphModel(handler);
}
