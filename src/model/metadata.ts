import type { Thresholds } from '../core/types.js';
import { DEFAULT_TOWER, isTowerId, TOWER_IDS, TOWERS, type TowerId } from './tower-registry.js';
import type { Preprocessing } from './towers.js';

/**
 * Facegate's part of model.json (`userDefinedMetadata.facegate`): everything the verifier, trainer and
 * gallery cache must know about a model instead of guessing it.
 */
export interface FacegateMetadata {
  format: 1;
  tower: TowerId;
  /** Side of the square face crop the tower takes. */
  inputSize: number;
  embeddingSize: number;
  preprocessing: Preprocessing;
  crop: { margin: number; align: boolean };
  thresholds: Thresholds;
  /** Free-form provenance: data, epochs, seed, metrics. */
  training: Record<string, unknown>;
  /** ISO time the model was written. */
  created: string;
}

export const METADATA_FORMAT = 1;

/** Raised for metadata that cannot be trusted; io.ts wraps it into a ModelLoadError with the path. */
export class MetadataError extends Error {
  override name = 'MetadataError';
  constructor(
    message: string,
    /** The offending field, e.g. 'tower' or 'thresholds.detection'. */
    readonly field: string,
  ) {
    super(message);
  }
}

/**
 * What the seed implies when a Keras-converted model carries no facegate metadata: 100 px input scaled
 * by 1/255, and the seed's `verify(model, 0.5, 0.5)` thresholds.
 */
export function seedDefaults(overrides: Partial<FacegateMetadata> = {}): FacegateMetadata {
  return {
    format: METADATA_FORMAT,
    tower: 'seed',
    inputSize: 100,
    embeddingSize: 4096,
    preprocessing: 'scale-255',
    crop: { margin: 0, align: false },
    thresholds: { detection: 0.5, verification: 0.5 },
    training: { source: 'seed defaults (no facegate metadata in model.json)' },
    created: new Date(0).toISOString(),
    ...overrides,
  };
}

/**
 * A fresh model's metadata for a tower, its shape taken from the tower registry. Shared by `facegate train`
 * and scripts/make-default-model.ts so the two never describe a tower differently.
 */
export function towerDefaults(tower: TowerId = DEFAULT_TOWER, overrides: Partial<FacegateMetadata> = {}): FacegateMetadata {
  const { inputSize, embeddingSize, preprocessing } = TOWERS[tower];
  return {
    format: METADATA_FORMAT,
    tower,
    inputSize,
    embeddingSize,
    preprocessing,
    crop: { margin: 0, align: false },
    thresholds: { detection: 0.5, verification: 0.5 },
    training: {},
    created: new Date(0).toISOString(),
    ...overrides,
  };
}

/** The default (pretrained face-api) tower's fresh metadata; kept under its old name for scripts and tests. */
export function faceApiDefaults(overrides: Partial<FacegateMetadata> = {}): FacegateMetadata {
  return towerDefaults(DEFAULT_TOWER, overrides);
}

function fail(field: string, why: string): never {
  throw new MetadataError(`facegate metadata: ${field || 'value'} ${why}`, field);
}

function fraction(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 1) fail(field, `must be a number in [0, 1], got ${JSON.stringify(value)}`);
  return value;
}

function positiveInt(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) fail(field, `must be a positive integer, got ${JSON.stringify(value)}`);
  return value;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Validates untrusted JSON into metadata; every problem names its field. */
export function parseMetadata(raw: unknown): FacegateMetadata {
  if (!isObject(raw)) fail('', 'must be an object');
  if (raw.format !== METADATA_FORMAT) fail('format', `must be ${METADATA_FORMAT}, got ${JSON.stringify(raw.format)} (written by a newer facegate?)`);
  const tower = raw.tower;
  if (!isTowerId(tower)) fail('tower', `is unknown: ${JSON.stringify(tower)} (known: ${TOWER_IDS.join(', ')})`);
  const preprocessing = raw.preprocessing;
  if (preprocessing !== 'scale-255' && preprocessing !== 'faceapi') fail('preprocessing', `must be "scale-255" or "faceapi", got ${JSON.stringify(preprocessing)}`);
  const crop = isObject(raw.crop) ? raw.crop : fail('crop', 'must be an object {margin, align}');
  const margin = crop.margin;
  if (typeof margin !== 'number' || !Number.isFinite(margin) || margin < 0) fail('crop.margin', `must be a number >= 0, got ${JSON.stringify(margin)}`);
  if (typeof crop.align !== 'boolean') fail('crop.align', `must be true or false, got ${JSON.stringify(crop.align)}`);
  const thresholds = isObject(raw.thresholds) ? raw.thresholds : fail('thresholds', 'must be an object {detection, verification}');
  const training = raw.training === undefined ? {} : isObject(raw.training) ? raw.training : fail('training', 'must be an object');
  const created = typeof raw.created === 'string' ? raw.created : fail('created', 'must be an ISO date string');
  return {
    format: METADATA_FORMAT,
    tower,
    inputSize: positiveInt(raw.inputSize, 'inputSize'),
    embeddingSize: positiveInt(raw.embeddingSize, 'embeddingSize'),
    preprocessing,
    crop: { margin, align: crop.align },
    thresholds: {
      detection: fraction(thresholds.detection, 'thresholds.detection'),
      verification: fraction(thresholds.verification, 'thresholds.verification'),
    },
    training,
    created,
  };
}
