import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { tf } from './tf.js';
import type { LayersModel } from './tf.js';
import { normalizeKerasTopology, registerCustomLayers, stripNestedModelPrefixes } from './layers.js';
import { MetadataError, parseMetadata, seedDefaults } from './metadata.js';
import type { FacegateMetadata } from './metadata.js';
import { seedSiameseModel, SiameseModel, splitSiamese } from './model.js';
import { towerKind } from './tower-registry.js';

type WeightSpec = { name: string; shape: number[]; dtype: string; quantization?: { dtype: string } };
type ModelJson = {
  modelTopology?: unknown;
  format?: string;
  generatedBy?: string;
  convertedBy?: string | null;
  weightsManifest?: Array<{ paths: string[]; weights: WeightSpec[] }>;
  userDefinedMetadata?: Record<string, unknown>;
};

export type ModelLoadErrorKind = 'missing' | 'syntax' | 'format' | 'truncated' | 'shape' | 'metadata' | 'unknown-tower';

/** Why a model folder could not be used, always naming the folder or file. */
export class ModelLoadError extends Error {
  override name = 'ModelLoadError';
  constructor(
    message: string,
    readonly kind: ModelLoadErrorKind,
    readonly path: string,
  ) {
    super(message);
  }
}

export const MODEL_JSON = 'model.json';
export const WEIGHTS_BIN = 'weights.bin';

const BYTES_PER_ELEMENT: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2 };

/** The bytes a weight occupies in a .bin file (quantised weights are stored in their quantised type). */
function specBytes(spec: WeightSpec, file: string): number {
  if (typeof spec?.name !== 'string' || !Array.isArray(spec.shape) || !spec.shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new ModelLoadError(`${file}: malformed weight entry ${JSON.stringify(spec)}`, 'format', file);
  }
  const storedAs = spec.quantization?.dtype ?? spec.dtype;
  const size = BYTES_PER_ELEMENT[storedAs];
  if (!size) throw new ModelLoadError(`${file}: weight ${spec.name} has unsupported dtype ${storedAs}`, 'format', file);
  return spec.shape.reduce((n, d) => n * d, 1) * size;
}

/** A model folder read into memory and checked, before any tfjs work. */
export interface ModelFiles {
  dir: string;
  json: ModelJson;
  weightSpecs: WeightSpec[];
  weightData: ArrayBuffer;
  /** null when model.json has no facegate metadata (e.g. straight from tensorflowjs_converter). */
  metadata: FacegateMetadata | null;
}

async function readOrFail(path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'does not exist' : code === 'EISDIR' ? 'is a directory' : `cannot be read (${code ?? String(err)})`;
    throw new ModelLoadError(`${path} ${why}`, 'missing', path);
  }
}

export async function readModelFiles(dirArg: string): Promise<ModelFiles> {
  const dir = resolve(dirArg);
  const dirStat = await stat(dir).catch(() => null);
  if (!dirStat?.isDirectory()) throw new ModelLoadError(`model folder ${dir} does not exist`, 'missing', dir);
  const jsonPath = join(dir, MODEL_JSON);
  const text = (await readOrFail(jsonPath)).toString('utf8');
  let json: ModelJson;
  try {
    json = JSON.parse(text) as ModelJson;
  } catch (err) {
    throw new ModelLoadError(`${jsonPath} is not valid JSON: ${(err as Error).message}`, 'syntax', jsonPath);
  }
  if (typeof json !== 'object' || json === null || !json.modelTopology || !Array.isArray(json.weightsManifest)) {
    throw new ModelLoadError(`${jsonPath} is not a tfjs layers model (needs modelTopology and weightsManifest)`, 'format', jsonPath);
  }
  const weightSpecs: WeightSpec[] = [];
  const chunks: Buffer[] = [];
  for (const group of json.weightsManifest) {
    if (!Array.isArray(group?.paths) || !Array.isArray(group.weights)) {
      throw new ModelLoadError(`${jsonPath}: every weightsManifest entry needs "paths" and "weights" lists`, 'format', jsonPath);
    }
    const outside = group.paths.find((p) => typeof p !== 'string' || p !== basename(p) || p === '..' || p === '.');
    if (outside !== undefined) throw new ModelLoadError(`${jsonPath}: weight file ${JSON.stringify(outside)} must be a plain file name in the model folder`, 'format', jsonPath);
    const files = await Promise.all(group.paths.map((p) => readOrFail(join(dir, p))));
    const expected = group.weights.reduce((n, spec) => n + specBytes(spec, jsonPath), 0);
    const actual = files.reduce((n, f) => n + f.length, 0);
    if (actual !== expected) {
      const name = group.paths.join('+');
      const kind = actual < expected ? 'truncated' : 'format';
      throw new ModelLoadError(`${name} has ${actual} bytes, manifest expects ${expected} (${join(dir, name)})`, kind, join(dir, name));
    }
    weightSpecs.push(...group.weights);
    chunks.push(...files);
  }
  const all = Buffer.concat(chunks);
  // Large reads own their ArrayBuffer; reuse it rather than copy 156 MB of seed weights on a Pi.
  const ownsBuffer = all.byteOffset === 0 && all.byteLength === all.buffer.byteLength;
  const weightData = (ownsBuffer ? all.buffer : all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength)) as ArrayBuffer;
  let metadata: FacegateMetadata | null = null;
  const raw = json.userDefinedMetadata?.facegate;
  if (raw !== undefined) {
    try {
      metadata = parseMetadata(raw);
    } catch (err) {
      const kind = err instanceof MetadataError && err.field === 'tower' ? 'unknown-tower' : 'metadata';
      throw new ModelLoadError(`${jsonPath}: ${(err as Error).message}`, kind, jsonPath);
    }
  }
  return { dir, json, weightSpecs, weightData, metadata };
}

/** Builds the LayersModel of a folder (Keras-converted or facegate-written), weights checked by tfjs. */
export async function layersModelFromFiles(files: ModelFiles): Promise<LayersModel> {
  registerCustomLayers();
  try {
    const topology = normalizeKerasTopology(files.json.modelTopology);
    const weightSpecs = stripNestedModelPrefixes(topology, files.weightSpecs);
    return await tf.loadLayersModel(
      tf.io.fromMemory({ modelTopology: topology as object, weightSpecs: weightSpecs as never, weightData: files.weightData }),
    );
  } catch (err) {
    const message = (err as Error).message;
    const kind = /shape/i.test(message) ? 'shape' : 'format';
    throw new ModelLoadError(`${join(files.dir, MODEL_JSON)}: ${message}`, kind, files.dir);
  }
}

/** Which seed variant a network is: 2x2 pools everywhere are the intended pool, anything else the seed's call. */
function seedVariantOf(model: LayersModel): 'seed' | 'seed-pool2' {
  const { tower } = splitSiamese(model);
  const pools = tower.layers.filter((l) => l.getClassName() === 'MaxPooling2D').map((l) => (l.getConfig().poolSize as number[])[0] ?? 0);
  return pools.every((p) => p === 2) ? 'seed-pool2' : 'seed';
}

/**
 * Loads a model folder as a SiameseModel. Seed towers: the folder holds the whole siamese network (as the seed
 * saves it). Pretrained towers: the folder holds only the head. A Keras-converted folder without facegate
 * metadata gets the seed's defaults, with sizes read from the network itself.
 */
export async function loadSiameseModel(dir: string): Promise<SiameseModel> {
  const files = await readModelFiles(dir);
  const model = await layersModelFromFiles(files);
  try {
    const pretrained = files.metadata ? towerKind(files.metadata.tower).load : undefined;
    if (files.metadata && pretrained) {
      const tower = await pretrained(undefined, files.dir);
      const headSize = model.inputs[0]?.shape[1];
      if (model.inputs.length !== 2 || headSize !== tower.embeddingSize || files.metadata.embeddingSize !== tower.embeddingSize) {
        throw new ModelLoadError(
          `${files.dir}: a ${tower.id} model holds a head for ${tower.embeddingSize}-d embeddings; this one takes ${model.inputs.length} input(s) of ${headSize} (metadata says ${files.metadata.embeddingSize})`,
          'shape',
          files.dir,
        );
      }
      return new SiameseModel(tower, model, files.metadata);
    }
    let parts: ReturnType<typeof splitSiamese>;
    try {
      parts = splitSiamese(model);
    } catch (err) {
      throw new ModelLoadError(`${join(files.dir, MODEL_JSON)}: ${(err as Error).message}`, 'format', files.dir);
    }
    const inputSize = parts.tower.inputs[0]?.shape[1] ?? 0;
    const embeddingSize = parts.tower.outputs[0]?.shape[1] ?? 0;
    const metadata = files.metadata ?? seedDefaults({ tower: seedVariantOf(model), inputSize, embeddingSize });
    if (metadata.inputSize !== inputSize || metadata.embeddingSize !== embeddingSize) {
      throw new ModelLoadError(
        `${files.dir}: metadata says ${metadata.inputSize} px -> ${metadata.embeddingSize}-d, the network is ${inputSize} px -> ${embeddingSize}-d`,
        'shape',
        files.dir,
      );
    }
    return seedSiameseModel(model, metadata.tower === 'seed-pool2' ? 'seed-pool2' : 'seed', metadata);
  } catch (err) {
    // Free every weight once: disposing the model alone leaves a nested tower used twice alive.
    for (const weight of model.weights) weight.dispose();
    throw err;
  }
}

/** Serialises a LayersModel into model.json text and one weights buffer, in memory, without tfjs-node. */
export async function serializeModel(model: LayersModel, metadata: FacegateMetadata): Promise<{ json: string; weights: Buffer }> {
  let json = '';
  let weights = Buffer.alloc(0);
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const data = artifacts.weightData ?? new ArrayBuffer(0);
      const joined = Array.isArray(data) ? tf.io.CompositeArrayBuffer.join(data) : data;
      weights = Buffer.from(joined);
      const modelJson: ModelJson = {
        format: artifacts.format ?? 'layers-model',
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy ?? null,
        modelTopology: artifacts.modelTopology,
        weightsManifest: [{ paths: [WEIGHTS_BIN], weights: (artifacts.weightSpecs ?? []) as WeightSpec[] }],
        userDefinedMetadata: { facegate: metadata },
      };
      json = JSON.stringify(modelJson);
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON', weightDataBytes: weights.length } };
    }),
  );
  return { json, weights };
}

/**
 * Writes model.json + weights.bin into a fresh sibling temp folder, then swaps it in with renames, so a
 * reader sees either the old model or the new one, never half of one.
 */
export async function saveLayersModel(dir: string, model: LayersModel, metadata: FacegateMetadata): Promise<void> {
  const target = resolve(dir);
  const { json, weights } = await serializeModel(model, metadata);
  const tag = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const temp = join(dirname(target), `.${basename(target)}.tmp-${tag}`);
  const old = join(dirname(target), `.${basename(target)}.old-${tag}`);
  await mkdir(temp, { recursive: true });
  try {
    await writeFile(join(temp, WEIGHTS_BIN), weights);
    await writeFile(join(temp, MODEL_JSON), json);
    const hadTarget = await stat(target).then(() => true, () => false);
    if (hadTarget) await rename(target, old);
    await rename(temp, target);
    if (hadTarget) await rm(old, { recursive: true, force: true });
  } catch (err) {
    await rm(temp, { recursive: true, force: true });
    throw err;
  }
}

/**
 * Saves a SiameseModel: the full network for seed towers, the head alone for pretrained ones. `created` is now
 * unless the caller gives one: scripts/make-default-model.ts does, so the same command writes the same bytes.
 */
export async function saveSiameseModel(dir: string, model: SiameseModel, metadata: Partial<FacegateMetadata> = {}): Promise<void> {
  await saveLayersModel(dir, model.saveable, { ...model.metadata, ...metadata, created: metadata.created ?? new Date().toISOString() });
}

/** sha256 over model.json and the weight files in manifest order: the gallery cache's key for a model. */
export async function fingerprint(dir: string): Promise<string> {
  const files = await readModelFiles(dir);
  const hash = createHash('sha256');
  hash.update(await readOrFail(join(files.dir, MODEL_JSON)));
  hash.update(Buffer.from(files.weightData));
  return hash.digest('hex');
}
